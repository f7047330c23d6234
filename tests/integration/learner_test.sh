#!/bin/bash
# usage: learner_test.sh SPAMGUARD_BINARY SOURCE_DIR
# The content learner as a blog lives it: online replay of labeled comments
# in date order (each scored with what was learned before it, then learned),
# against the floors the README promises; its curve in the summary and the
# report; what `stats` says; `learn forget`; and the default rules leaving
# real readers' comments alone.
set -u
sg=$1 src=$2
unset SPAMGUARD_DB
rules=$src/data/spamguard.cf
corpus=$src/tests/corpora/youtube/comments.jsonl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
source "$(dirname "$0")/check.sh"
# The "after the first 200 comments" figures of the last summary: RECALL FPR%
after_warmup() {
  sed -n 's/^after the first 200 comments: recall \([0-9.]*\) .*false-positive rate \([0-9.]*\) %.*/\1 \2/p' "$tmp/out"
}
# at_least A B: A >= B (decimals)
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }

# 1. The floors on the YouTube comments (README: recall >= 0.80 with a
# false-positive rate <= 0.5 % after the first 200; the rules alone: 0.60).
check "replay" 0 "$sg" -r "$rules" --db "$tmp/yt.db" rescore --learn --by-date -q --report "$tmp/r.html" "$corpus"
contains "replay" "learned: 1586 labeled comments taught to the database"
contains "replay" "learning curve (per 100 comments in input order"
read -r recall fpr <<<"$(after_warmup)"
echo "online replay, YouTube, after the first 200: recall $recall, false-positive rate $fpr %"
at_least "${recall:-0}" 0.80 || { echo "FAIL: replay recall $recall < 0.80"; fail=1; }
at_least 0.5 "${fpr:-100}" || { echo "FAIL: replay false-positive rate $fpr % > 0.5 %"; fail=1; }
check "rules alone" 0 "$sg" -r "$rules" --db none rescore --by-date --warmup 200 -q "$corpus"
read -r rules_recall rules_fpr <<<"$(after_warmup)"
echo "rules alone, after the first 200: recall $rules_recall, false-positive rate $rules_fpr %"
at_least "$recall" "$rules_recall" || { echo "FAIL: the learner lowered recall"; fail=1; }
at_least "$(awk -v r="$rules_fpr" 'BEGIN { print r + 0.5 }')" "$fpr" || { echo "FAIL: learned points raised the false-positive rate by more than 0.5 points"; fail=1; }

# 2. Each video on its own, as another blog each time. These are small
# (175 to 203 ham each, about 120 after the first 200 comments), so one ham
# is 0.5 to 0.9 points: the bound here is one ham comment more than the
# rules flag, and the figures are printed for the README.
python3 - "$corpus" "$tmp" <<'PY'
import json, sys
by = {}
for line in open(sys.argv[1], encoding="utf-8"):
    by.setdefault(json.loads(line)["source"].rsplit("/", 1)[-1], []).append(line)
for name, lines in by.items():
    open(f"{sys.argv[2]}/video-{name}.jsonl", "w", encoding="utf-8").writelines(lines)
PY
for f in "$tmp"/video-*.jsonl; do
  v=$(basename "$f" .jsonl)
  check "replay $v" 0 "$sg" -r "$rules" --db "$tmp/$v.db" rescore --learn --by-date -q "$f"
  read -r r1 f1 <<<"$(after_warmup)"
  n1=$(sed -n 's/^after the first 200 comments: .*(\([0-9]*\) of [0-9]* ham).*/\1/p' "$tmp/out")
  check "rules $v" 0 "$sg" -r "$rules" --db none rescore --by-date --warmup 200 -q "$f"
  read -r r0 f0 <<<"$(after_warmup)"
  n0=$(sed -n 's/^after the first 200 comments: .*(\([0-9]*\) of [0-9]* ham).*/\1/p' "$tmp/out")
  echo "$v: rules recall $r0, false positives $f0 % ($n0); with the learner recall $r1, $f1 % ($n1)"
  [ "${n1:-99}" -le $(( ${n0:-0} + 1 )) ] || { echo "FAIL: $v: $n1 ham flagged, the rules alone $n0"; fail=1; }
done

# 3. The curve in the report.
if ! grep -q 'id="learning-curve"' "$tmp/r.html" || ! grep -q '<polyline class="recall"' "$tmp/r.html"; then
  echo "FAIL: report: no learning curve"; fail=1
fi
grep -q 'id="after-warmup">After the first 200 comments: recall' "$tmp/r.html" || { echo "FAIL: report: no warm-up figures"; fail=1; }

# 4. What the learner holds, and a verdict that names its tokens.
check "stats" 0 "$sg" -r "$rules" --db "$tmp/yt.db" stats
contains "stats" "from 831 spam and 755 ham comments; scoring (6 learned rules)"
check "stats json" 0 "$sg" -r "$rules" --db "$tmp/yt.db" stats --json
contains "stats json" '"learner":{"ham":755,'
contains "stats json" '"spam":831,"tokens":'
check "explained" 0 "$sg" -r "$rules" --db "$tmp/yt.db" score --body "Check out my new channel and subscribe, thanks!"
contains "explained" "LEARNED_SPAM_999"
contains "explained" "tokens: '"
# Forgetting: a comment learned by id is taken back, once.
check "learn one" 0 "$sg" -r "$rules" --db "$tmp/f.db" learn spam --id c1 --body "cheap pills here"
check "forget one" 0 "$sg" -r "$rules" --db "$tmp/f.db" learn forget --id c1 --body "cheap pills here"
contains "forget one" "forgot 1 learned comments, 0 had not been learned"
check "forget again" 0 "$sg" -r "$rules" --db "$tmp/f.db" learn forget --id c1 --body "cheap pills here"
contains "forget again" "forgot 0 learned comments, 1 had not been learned"
check "forgotten" 0 "$sg" -r "$rules" --db "$tmp/f.db" stats
contains "forgotten" "from 0 spam and 0 ham comments"
# Forgetting a whole dump after learning it leaves the learner empty.
check "forget dump" 0 "$sg" -r "$rules" --db "$tmp/yt.db" learn forget "$corpus"
contains "forget dump" "forgot 1586 learned comments"
check "forgot dump" 0 "$sg" -r "$rules" --db "$tmp/yt.db" stats --json
contains "forgot dump" '"learner":{"ham":0,'
contains "forgot dump" '"spam":0,"tokens":0}'

# 5. Real readers' comments (questions, thanks, help requests, names that
# are also words, pingbacks and trackbacks in WordPress's and Movable
# Type's shapes, other languages): all accepted, none held.
check "readers" 0 "$sg" -r "$rules" --db none rescore -q "$src/tests/fixtures/reader_ham.jsonl"
contains "readers" "actions: accept 48, moderate 0, spam 0, discard 0, throttle 0"

exit $fail

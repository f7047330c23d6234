#!/bin/bash
# usage: cli_test.sh SPAMGUARD_BINARY SOURCE_DIR
# End-to-end checks of the spamguard command: outputs and exit codes.
set -u
sg=$1 src=$2
export SPAMGUARD_DB=none  # content rules only; state has its own tests
rules=$src/data/spamguard.cf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
source "$(dirname "$0")/check.sh"

check "version" 0 "$sg" version
contains "version" "spamguard 1."
check "--version" 0 "$sg" --version
contains "--version" "spamguard 1."
# The rules the command uses by default: the source tree's, from the build
# tree (compiled into the library, wherever the build folder is).
check "default rules" 0 env -u SPAMGUARD_RULES "$sg" rules lint
contains "default rules" "$(cd "$src" && pwd -P)/data/spamguard.cf"
# A database that cannot be used is said, in text output too.
check "state unavailable" 0 "$sg" --db /nonexistent-folder/x.db score -r "$rules" --body "hello"
contains "state unavailable" "database not used: database /nonexistent-folder/x.db: cannot create"
contains "state unavailable" "(state unavailable: lists, reputation and rate limits were not consulted)"
# Numbers do not follow the caller's locale (the command never adopts it,
# and the library parses and prints without it).
if locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\?8$'; then
  check "locale" 0 env LC_ALL=de_DE.UTF-8 "$sg" score --json -r "$rules" --body "Buy cheap viagra without prescription"
  contains "locale" '"score":'
  if grep -q '"score":[0-9]*,[0-9]' "$tmp/out"; then echo "FAIL: locale: a decimal comma in JSON"; fail=1; fi
else
  echo "skipped: locale check (no de_DE.UTF-8 locale)"
fi

check "help" 0 "$sg" --help
contains "help" "rescore"
check "unknown subcommand" 2 "$sg" frobnicate
check "missing subcommand" 2 "$sg"

check "rescore samples" 0 "$sg" rescore -r "$rules" "$src/data/samples/comments.jsonl"
contains "rescore samples" "20 comments scored, 0 records skipped"
contains "rescore samples" "s09  discard"
contains "rescore samples" "SG_PHARMA_OBFUSCATED"
contains "rescore samples" "false-positive rate 0.00 %"
contains "rescore samples" "  trackbacks accept 0, moderate 0, spam 1, discard 0, throttle 0"

check "rescore json" 0 "$sg" rescore --json -r "$rules" "$src/data/samples/comments.jsonl"
contains "rescore json" '{"id":"s01","label":"ham","action":"accept"'
test "$(grep -c '^{"id"' "$tmp/out")" = 20 || { echo "FAIL: rescore json: not 20 verdict lines"; fail=1; }

printf '%s\n' '{"id":"a","body":"hello there"}' 'not json at all' '{"id":"b","type":"spaceship"}' \
  '{"id":"c","created":"yesterday"}' '{"id":"d","body":"buy viagra"}' >"$tmp/mixed.jsonl"
check "malformed records are skipped and counted" 0 "$sg" rescore -q -r "$rules" "$tmp/mixed.jsonl"
contains "malformed records" "mixed.jsonl:2: skipped: not valid JSON"
contains "malformed records" "mixed.jsonl:3: skipped: unknown type 'spaceship'"
contains "malformed records" "mixed.jsonl:4: skipped: created: not an ISO 8601 time"
contains "malformed records" "2 comments scored, 3 records skipped"

: >"$tmp/empty.jsonl"
check "empty dump" 0 "$sg" rescore -q -r "$rules" "$tmp/empty.jsonl"
contains "empty dump" "0 comments scored"

check "missing dump" 1 "$sg" rescore -r "$rules" "$tmp/nope.jsonl"
contains "missing dump" "nope.jsonl: cannot open"

check "score from options" 0 "$sg" score -r "$rules" --body "Buy cheap viagra without prescription" --ip 192.0.2.1
contains "score from options" "SG_PHARMA_DRUGS"
check "score json" 0 "$sg" score --json -r "$rules" --body "hello" --ip 300.1.1.1
contains "score json" '"flags":["bad_ip"]'
check "score stdin" 0 bash -c "echo '{\"body\":\"check out my channel\",\"author\":\"x\"}' | '$sg' score --stdin -r '$rules'"
contains "score stdin" "SG_CHECK_MY_MEDIA"
check "score stdin bad json" 1 bash -c "echo '{oops' | '$sg' score --stdin -r '$rules'"
contains "score stdin bad json" "stdin: not valid JSON"

check "lint default" 0 "$sg" rules lint -r "$rules"
contains "lint default" "rules ("
check "lint list" 0 "$sg" rules lint --list -r "$rules"
contains "lint list" "SG_URI_SHORTENER"
printf 'body A /x/\nbody B /(?<=x)y/\n' >"$tmp/broken.cf"
check "lint broken" 1 "$sg" rules lint -r "$tmp/broken.cf"
contains "lint broken" "broken.cf:2: rule B:"
contains "lint broken" "look-behind"
check "lint missing" 1 "$sg" rules lint -r "$tmp/none.cf"
contains "lint missing" "none.cf: cannot open"

# Rate limits replay on the dump's own timestamps only when asked.
for i in 1 2 3 4 5 6; do
  printf '{"id":"f%s","ip":"192.0.2.9","body":"hello","created":"2024-01-01T00:00:00Z"}\n' "$i"
done >"$tmp/flood.jsonl"
check "rescore without replay" 0 "$sg" rescore -q -r "$rules" "$tmp/flood.jsonl"
contains "rescore without replay" "throttle 0"
check "rescore with replay" 0 "$sg" rescore -q --replay-limits -r "$rules" "$tmp/flood.jsonl"
contains "rescore with replay" "accept 3, moderate 0, spam 0, discard 0, throttle 3"

# Every dump format, with its malformed records counted and skipped.
fx=$src/tests/fixtures/dumps
check "csv" 0 "$sg" rescore -q -r "$rules" "$fx/comments.csv"
contains "csv" "3 comments scored, 2 records skipped"
contains "csv" "comments.csv:5: skipped: expected 9 fields, got 4"
contains "csv" "comments.csv:6: skipped: unknown type 'spaceship'"
contains "csv" "labels: 1 spam, 2 ham"
check "csv json keeps quotes and newlines" 0 "$sg" rescore --json -r "$rules" "$fx/comments.csv"
contains "csv json keeps quotes and newlines" '"id":"c1"'
check "csv cut inside a quote" 0 "$sg" rescore -q -r "$rules" "$fx/truncated.csv"
contains "csv cut inside a quote" "the file ends inside a quoted field"
contains "csv cut inside a quote" "0 comments scored, 1 records skipped"
check "mt" 0 "$sg" rescore -r "$rules" "$fx/export.txt"
contains "mt" "4 comments scored, 0 records skipped"
contains "mt" "SG_PHARMA_DRUGS"
contains "mt" "SG_TB_TITLE_IS_BLOG"
check "mt missing separators" 0 "$sg" rescore -q -r "$rules" "$fx/missing_separator.txt"
contains "mt missing separators" "missing_separator.txt:4: skipped: the section ends at line 11 without a ----- separator"
contains "mt missing separators" "missing_separator.txt:19: skipped: the file ends inside the section"
contains "mt missing separators" "1 comments scored, 2 records skipped"
check "wxr" 0 "$sg" rescore -r "$rules" "$fx/export.xml"
contains "wxr" "3 comments scored, 0 records skipped"
contains "wxr" "labels: 1 spam, 1 ham"
contains "wxr" "SG_PHARMA_DRUGS"
check "wxr json" 0 "$sg" rescore --json -r "$rules" "$fx/export.xml"
contains "wxr json" '"id":"7","label":"ham","action":"accept"'
check "wxr cut short" 1 "$sg" rescore -q -r "$rules" "$fx/truncated.xml"
contains "wxr cut short" "XML error"
contains "wxr cut short" "1 comments scored"
check "format forced wrong" 1 "$sg" rescore -q --format csv -r "$rules" "$src/data/samples/comments.jsonl"
contains "format forced wrong" "the CSV header names no comment field"
printf 'just some words\n' >"$tmp/prose.txt"
check "not a dump" 1 "$sg" rescore -q -r "$rules" "$tmp/prose.txt"
contains "not a dump" "not a dump spamguard reads"

# Learning and lists, on a database of the test's own.
db="$tmp/cli.db"
check "list add" 0 "$sg" --db "$db" list add block 203.0.113.0/24 --reason flood
contains "list add" "added 203.0.113.0/24 to the block list"
check "blocked" 0 "$sg" --db "$db" score -r "$rules" --ip 203.0.113.5 --body hello
contains "blocked" "LIST_BLOCK"
check "list add malformed" 1 "$sg" --db "$db" list add block 300.1.1.1
contains "list add malformed" "'300.1.1.1': not an IPv4 address"
check "list remove" 0 "$sg" --db "$db" list remove block 203.0.113.0/24
contains "list remove" "removed 1 entries"
printf '198.51.100.0/24 ; SBL1\nbogus\n' >"$tmp/drop.txt"
check "list import" 0 "$sg" --db "$db" list import block "$tmp/drop.txt" --source drop
contains "list import" "imported 1 entries into the block list as source 'drop', 1 lines skipped"
contains "list import" "drop.txt:2:"
check "learn one" 0 "$sg" --db "$db" learn spam --id x1 --ip 192.0.2.44
contains "learn one" "learned 1 comments as spam"
check "learn dump" 0 "$sg" --db "$db" learn ham "$src/data/samples/comments.jsonl"
contains "learn dump" "learned 20 comments as ham, 0 records skipped"
check "learn without database" 1 "$sg" --db none learn spam --id x --ip 192.0.2.1
check "learn bad label" 2 "$sg" --db "$db" learn maybe --id x

check "rules test" 0 "$sg" rules test -r "$rules" "free spins at the online casino"
contains "rules test" "SG_GAMBLING_ONLINE"

# Each subcommand has its own help.
for cmd in version score rescore learn "list add" "list remove" "list import" "list show" ip "rules lint" \
  "rules test" stats; do
  check "help $cmd" 0 "$sg" $cmd --help
  contains "help $cmd" "Usage"
done
check "help exit codes" 0 "$sg" --help
contains "help exit codes" "Exit codes: 0 done; 1 the job failed"

# Rescore on several threads prints exactly what one thread prints, in input
# order; verdict files in JSON Lines and CSV.
big="$tmp/big.jsonl"
for i in $(seq 40); do cat "$src/data/samples/comments.jsonl" "$src/tests/fixtures/blog_ham.jsonl"; done >"$big"
n=$(grep -c '' "$big")
"$sg" rescore --json -j1 -r "$rules" "$big" >"$tmp/j1" 2>/dev/null
"$sg" rescore --json -j2 -r "$rules" "$big" >"$tmp/j2" 2>/dev/null
"$sg" rescore --json -j5 -r "$rules" "$big" >"$tmp/j5" 2>/dev/null
test "$(grep -c '^{"id"' "$tmp/j1")" = "$n" || { echo "FAIL: rescore -j1: not $n verdicts"; fail=1; }
cmp -s "$tmp/j1" "$tmp/j2" || { echo "FAIL: rescore -j2 output differs from -j1"; fail=1; }
cmp -s "$tmp/j1" "$tmp/j5" || { echo "FAIL: rescore -j5 output differs from -j1"; fail=1; }
cut -d, -f1 "$tmp/j1" | head -3 >"$tmp/first_ids"
grep -q '"id":"s01"' "$tmp/first_ids" || { echo "FAIL: rescore order: first verdict is not s01"; fail=1; }
check "rescore summary names threads" 0 "$sg" rescore -q -j2 -r "$rules" "$big"
contains "rescore summary names threads" "$n comments scored, 0 records skipped"
contains "rescore summary names threads" "2 threads"
check "rescore --out jsonl" 0 "$sg" rescore -q -j2 -o "$tmp/v.jsonl" -r "$rules" "$src/data/samples/comments.jsonl"
test "$(grep -c '^{"id":"s[0-9]*","label":"[a-z]*","action":' "$tmp/v.jsonl")" = 20 ||
  { echo "FAIL: --out jsonl: not 20 verdict lines"; fail=1; }
check "rescore --out csv" 0 "$sg" rescore -q -o "$tmp/v.csv" -r "$rules" "$src/data/samples/comments.jsonl"
head -1 "$tmp/v.csv" | grep -qx 'id,label,action,score,retry_after,hits' || { echo "FAIL: --out csv header"; fail=1; }
grep -q '^s09,spam,discard,[0-9.]*,0,.*SG_PHARMA_OBFUSCATED(+' "$tmp/v.csv" || { echo "FAIL: --out csv s09 row"; fail=1; }
check "rescore --out-format csv" 0 "$sg" rescore -q -o "$tmp/v.txt" --out-format csv -r "$rules" "$fx/comments.csv"
grep -q '^c1,ham,accept,' "$tmp/v.txt" || { echo "FAIL: --out-format csv"; fail=1; }
check "rescore --out unwritable" 1 "$sg" rescore -q -o "$tmp/no/such/dir/v.csv" -r "$rules" "$fx/comments.csv"
contains "rescore --out unwritable" "cannot write"
check "rescore --report" 0 "$sg" rescore -q --report "$tmp/r.html" -r "$rules" "$src/data/samples/comments.jsonl"
contains "rescore --report" "report: $tmp/r.html"
grep -q 'id="histogram"' "$tmp/r.html" && grep -q 'data-rule="SG_PHARMA_OBFUSCATED"' "$tmp/r.html" ||
  { echo "FAIL: --report content"; fail=1; }
check "rescore --report unwritable" 1 "$sg" rescore -q --report "$tmp/no/such/dir/r.html" -r "$rules" "$fx/comments.csv"

# The progress bar is drawn when stderr is a terminal (script(1) gives one)
# and never otherwise.
if command -v script >/dev/null; then
  check "progress on a terminal" 0 script -qec "'$sg' rescore -q -r '$rules' '$big'" /dev/null
  contains "progress on a terminal" "100%"
  contains "progress on a terminal" "comments"
  check "no progress when asked" 0 script -qec "'$sg' rescore -q --no-progress -r '$rules' '$big'" /dev/null
  if grep -q "100%" "$tmp/out"; then echo "FAIL: --no-progress drew a bar"; fail=1; fi
fi
check "no progress off a terminal" 0 "$sg" rescore -q -r "$rules" "$big"
if grep -q "ETA\|100%" "$tmp/out"; then echo "FAIL: progress drawn off a terminal"; fail=1; fi

# The same comments written as JSON Lines, CSV and WXR (bench/make_dump.py)
# get the same verdicts; Movable Type's format has no labels, user agents or
# trackback fields, so its comments are compared on action and score only.
for f in jsonl csv wxr mt; do
  python3 "$src/bench/make_dump.py" $f 1 "$src/data/samples/comments.jsonl" "$src/tests/fixtures/blog_ham.jsonl" \
    >"$tmp/same.$f"
done
python3 -c 'import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("type", "comment") == "comment":
        r.pop("user_agent", None); print(json.dumps(r))' "$tmp/same.jsonl" >"$tmp/same.noua"
for f in jsonl csv wxr mt noua; do
  "$sg" rescore --json --format "$([ $f = noua ] && echo jsonl || echo $f)" -r "$rules" "$tmp/same.$f" \
    >"$tmp/same.$f.out" 2>/dev/null
done
python3 - "$tmp" <<'PY' || fail=1
import json, sys
tmp = sys.argv[1]
def verdicts(fmt):
    out = []
    for line in open("%s/same.%s.out" % (tmp, fmt)):
        v = json.loads(line)
        out.append((v["id"], v["label"], v["action"], v["score"], [h["rule"] for h in v["hits"]]))
    return out
kinds = [json.loads(l).get("type", "comment") for l in open(tmp + "/same.jsonl")]
base = verdicts("jsonl")
ok = True
if len(base) != 52:
    print("FAIL: expected 52 verdicts from JSON Lines, got %d" % len(base))
    ok = False
for fmt in ("csv", "wxr"):
    other = dict((v[0], v) for v in verdicts(fmt))
    for v in base:
        o = other.get(v[0])
        if fmt == "wxr" and kinds[base.index(v)] != "comment":
            same = o is not None  # WXR has no trackback title, blog name or excerpt
        else:
            same = o == v
        if not same:
            print("FAIL: %s verdict of %s differs: %s vs %s" % (fmt, v[0], o, v))
            ok = False
# MT: no ids (positions instead), no user agents; make_dump writes the
# comments only. Compared with the JSON Lines comments without user agents.
mt = [(v[2], v[3]) for v in verdicts("mt")]
want = [(v[2], v[3]) for v in verdicts("noua")]
if mt != want:
    print("FAIL: mt verdicts differ: %s vs %s" % (mt, want))
    ok = False
sys.exit(0 if ok else 1)
PY

# A dump on standard input ("-"), in each format, detected from its first bytes.
check "stdin jsonl" 0 bash -c "'$sg' rescore -q -r '$rules' - < '$src/data/samples/comments.jsonl'"
contains "stdin jsonl" "20 comments scored, 0 records skipped"
check "stdin csv" 0 bash -c "cat '$fx/comments.csv' | '$sg' rescore -q -r '$rules' -"
contains "stdin csv" "stdin:5: skipped: expected 9 fields, got 4"
contains "stdin csv" "3 comments scored, 2 records skipped"
check "stdin mt" 0 bash -c "cat '$fx/export.txt' | '$sg' rescore -q -r '$rules' -"
contains "stdin mt" "4 comments scored, 0 records skipped"
check "stdin wxr" 0 bash -c "cat '$fx/export.xml' | '$sg' rescore -q -r '$rules' -"
contains "stdin wxr" "3 comments scored, 0 records skipped"
check "stdin bad json line" 0 bash -c "printf '{\"id\":\"a\"}\n{bad\n' | '$sg' rescore -q -r '$rules' -"
contains "stdin bad json line" "stdin:2: skipped: not valid JSON"
check "stdin not a dump" 1 bash -c "echo hello world | '$sg' rescore -q -r '$rules' -"
contains "stdin not a dump" "stdin: not a dump spamguard reads"
check "stdin empty" 0 bash -c "'$sg' rescore -q -r '$rules' - < /dev/null"
contains "stdin empty" "0 comments scored"
check "stdin and a file, in order" 0 bash -c "cat '$fx/export.xml' | '$sg' rescore --json -r '$rules' - '$src/data/samples/comments.jsonl'"
test "$(grep -c '^{"id"' "$tmp/out")" = 23 || { echo "FAIL: stdin and a file: not 23 verdicts"; fail=1; }

# Terminal escapes in a dump reach the terminal as '?' (ids, skip reasons).
printf '{"id":"e1\\u001b[2J","body":"hi"}\n{"id":"e2","type":"x\\u001b]0;pwned\\u0007"}\n' >"$tmp/escape.jsonl"
check "terminal escapes" 0 "$sg" rescore -r "$rules" "$tmp/escape.jsonl"
if grep -q $'\x1b' "$tmp/out"; then echo "FAIL: an escape character reached the terminal"; fail=1; fi
contains "terminal escapes" "e1?[2J  accept"
contains "terminal escapes" "unknown type 'x?]0;pwned?'"

# C1 controls (U+009B is CSI; a raw 0x9B byte too), bidi overrides and
# escapes in a rule's description reach no terminal.
printf '{"id":"c1\\u009b2J","body":"hi"}\n{"id":"rtl\\u202eevil","body":"hi"}\n' >"$tmp/c1.jsonl"
check "c1 controls" 0 "$sg" rescore -r "$rules" "$tmp/c1.jsonl"
if grep -q $'\xc2\x9b\|\xe2\x80\xae' "$tmp/out"; then echo "FAIL: a C1 control or bidi override was printed"; fail=1; fi
contains "c1 controls" "c1?2J  accept"
contains "c1 controls" "rtl?evil  accept"
printf 'body EVIL /evil/\ndescribe EVIL Evil \033]0;pwned\007 \302\233 here\n' >"$tmp/esc.cf"
check "describe escapes" 0 "$sg" rules lint --list -r "$tmp/esc.cf"
if grep -q $'\x1b\|\x07\|\xc2\x9b' "$tmp/out"; then echo "FAIL: escapes from a rule file were printed"; fail=1; fi
contains "describe escapes" "Evil ?]0;pwned? ? here"
check "describe escapes in a verdict" 0 "$sg" score -r "$tmp/esc.cf" --body "evil"
if grep -q $'\x1b\|\x07' "$tmp/out"; then echo "FAIL: escapes from a rule file were printed in a verdict"; fail=1; fi

# Rule files that are not files are refused, in lint and score alike.
check "rules are a directory" 1 "$sg" score -r "$tmp" --body "cheap viagra"
contains "rules are a directory" "not a regular file (a directory)"
check "dump is a directory" 1 "$sg" rescore -q -r "$rules" "$tmp"
contains "dump is a directory" "is a directory, not a dump"
# A record nested 100,000 deep is skipped, not a crash; the rest is read.
python3 -c "print('{\"id\":\"deep\",\"body\":' + '['*100000 + ']'*100000 + '}'); print('{\"id\":\"after\",\"body\":\"hi\"}')" >"$tmp/deep.jsonl"
check "deep json" 0 "$sg" rescore -r "$rules" "$tmp/deep.jsonl"
contains "deep json" "deep.jsonl:1: skipped: JSON nested deeper than 32 levels"
contains "deep json" "after  accept"
check "deep json learn" 0 "$sg" --db "$tmp/deep.db" learn spam "$tmp/deep.jsonl"
contains "deep json learn" "JSON nested deeper than 32 levels"
check "deep json score" 1 bash -c "head -1 '$tmp/deep.jsonl' | '$sg' score --stdin -r '$rules'"
contains "deep json score" "JSON nested deeper than 32 levels"
# A CSV row of two million commas is one skipped record, read in bounded
# memory; a list line of 20 MB from a pipe is skipped as it streams.
python3 -c "print('id,body'); print(','*2000000); print('c,hello')" >"$tmp/commas.csv"
check "csv commas" 0 "$sg" rescore -r "$rules" "$tmp/commas.csv"
contains "csv commas" "commas.csv:2: skipped: expected 2 fields, got 2000001"
contains "csv commas" "c  accept"
mkfifo "$tmp/list.fifo"
(python3 -c "import sys; sys.stdout.write('a'*20000000 + '\n192.0.2.99\n')" >"$tmp/list.fifo" &)
check "list from a pipe" 0 "$sg" --db "$tmp/fifo.db" list import block "$tmp/list.fifo" --source pipe
contains "list from a pipe" "line longer than 4096 bytes"
contains "list from a pipe" "imported 1 entries"
check "list is a directory" 1 "$sg" --db "$tmp/fifo.db" list import block "$tmp" --source dir
contains "list is a directory" "is a directory, not a list"
# Huge scores print as numbers (no cut buffer), and times before 1970 are
# refused with the record's position.
printf 'body BIG /big/\nscore BIG 1e9\n' >"$tmp/big.cf"
check "huge score" 0 "$sg" score --json -r "$tmp/big.cf" --body "big"
contains "huge score" '"score":1000000000'
printf '{"id":"old","created":"1900-01-01T00:00:00Z","body":"hi"}\n' >"$tmp/old.jsonl"
check "time before 1970" 0 "$sg" rescore -q -r "$rules" "$tmp/old.jsonl"
contains "time before 1970" "old.jsonl:1: skipped: created: before 1970-01-01"

# Wrong encodings: a Latin-1 JSON Lines record is skipped with the reason; in
# CSV the bytes reach the filter, which flags them; UTF-16 is refused whole.
printf '{"id":"l1","body":"caf\xe9"}\n{"id":"l2","body":"fine"}\n' >"$tmp/latin1.jsonl"
check "latin-1 jsonl" 0 "$sg" rescore -q -r "$rules" "$tmp/latin1.jsonl"
contains "latin-1 jsonl" "latin1.jsonl:1: skipped: not valid JSON: invalid UTF-8 at byte 23"
contains "latin-1 jsonl" "1 comments scored, 1 records skipped"
printf 'id,body\nx1,caf\xe9 cr\xe8me\n' >"$tmp/latin1.csv"
check "latin-1 csv" 0 "$sg" rescore --json -r "$rules" "$tmp/latin1.csv"
contains "latin-1 csv" '"flags":["invalid_utf8"'
printf '{"id":"u1","body":"hi"}\n' | iconv -t UTF-16 >"$tmp/utf16.jsonl"
check "utf-16" 1 "$sg" rescore -q -r "$rules" "$tmp/utf16.jsonl"
contains "utf-16" "looks like UTF-16"
printf '{"id":"n1","body":"a\0b"}\n{"id":"n2","body":"fine"}\n' >"$tmp/nul.jsonl"
check "raw NUL in a record" 0 "$sg" rescore -q -r "$rules" "$tmp/nul.jsonl"
contains "raw NUL in a record" "1 comments scored, 1 records skipped"

# ip, stats, list show, and rescore's hands off the database.
db2="$tmp/state.db"
check "stats without a database file" 1 "$sg" --db "$db2" stats
contains "stats without a database file" "no such file (opened read-only, so not created)"
test ! -e "$db2" || { echo "FAIL: stats created the database"; fail=1; }
check "rescore does not create the database" 0 "$sg" --db "$db2" rescore -q -r "$rules" "$fx/comments.csv"
test ! -e "$db2" || { echo "FAIL: rescore created the database"; fail=1; }
contains "rescore does not create the database" "database not used (no lists or reputation applied)"
check "rescore json without a database file" 0 "$sg" --db "$db2" rescore --json -r "$rules" "$fx/comments.csv"
if grep -q state_unavailable "$tmp/out"; then echo "FAIL: a missing database flagged every verdict"; fail=1; fi
"$sg" --db "$db2" list add block 203.0.113.0/24 --reason "spam run" >/dev/null
"$sg" --db "$db2" list add allow 203.0.113.9 --source helpdesk >/dev/null
"$sg" --db "$db2" list add block spam@example.com --kind email --expires 1000 >/dev/null
for i in 1 2 3 4; do "$sg" --db "$db2" learn spam --id sp$i --ip 198.51.100.7 --body "pills $i" >/dev/null; done
check "ip reputation" 0 "$sg" --db "$db2" ip 198.51.100.7
contains "ip reputation" "REPUTATION_IP_BAD"
contains "ip reputation" "IP 198.51.100.7: 4.0 spam, 0.0 ham"
check "ip blocked" 0 "$sg" --db "$db2" ip 203.0.113.5
contains "ip blocked" "203.0.113.5  spam  score 5.00"
contains "ip blocked" "203.0.113.0/24 (block list, source admin: spam run)"
check "ip allowed over blocked" 0 "$sg" --db "$db2" ip 203.0.113.9
contains "ip allowed over blocked" "203.0.113.9  accept"
contains "ip allowed over blocked" "not used: the allow list wins"
# prune forgets what is older than retention_days: a comment learned with a
# time of 2001 goes, with its reputation keys; one learned now stays.
printf '{"id":"old1","ip":"198.18.7.7","body":"x","created":"2001-01-01T00:00:00Z","label":"spam"}\n' >"$tmp/old.jsonl"
check "learn old" 0 "$sg" --db "$tmp/prune.db" learn spam -r "$rules" "$tmp/old.jsonl"
check "learn new" 0 "$sg" --db "$tmp/prune.db" learn spam -r "$rules" --id new1 --ip 198.18.9.9 --body y
check "prune" 0 "$sg" --db "$tmp/prune.db" prune -r "$rules"
contains "prune" "pruned 1 learned comments, 2 reputation keys and 0 expired list entries older than 365 days"
check "prune json" 0 "$sg" --db "$tmp/prune.db" prune --json -r "$rules"
contains "prune json" '{"retention_days":365,"learned":0,"reputation":0,"ratelimit":0,"list_entries":0}'
check "stats after prune" 0 "$sg" --db "$tmp/prune.db" stats --json -r "$rules"
contains "stats after prune" '"learned":{"ham":0,"spam":1}'
check "ip unknown" 0 "$sg" --db "$db2" ip 2001:db8::1
contains "ip unknown" "2001:db8::1  accept  score 0.00"
contains "ip unknown" "network 2001:db8::/64: 0.0 spam, 0.0 ham"
check "ip json" 0 "$sg" --db "$db2" ip --json 203.0.113.5
contains "ip json" '{"ip":"203.0.113.5","action":"spam","score":5,'
# The shipped limits per hour instead of per minute, so that what is left
# does not depend on how fast this machine runs the commands (a sanitizer
# build takes seconds: the /24 limit refills one every 3 s).
hourly=$tmp/hourly.cf
sed 's|^\(ratelimit .*[0-9]\)/60s|\1/1h|' "$rules" > "$hourly"
# Trying comments and rules never charges the live limits unless asked:
# five scores and five rule tests from one address leave its burst whole.
for i in 1 2 3 4 5; do
  "$sg" --db "$db2" score -r "$hourly" --ip 192.0.2.200 --body "hello $i" >/dev/null
  "$sg" --db "$db2" rules test -r "$hourly" "hello $i" >/dev/null
done
check "score does not charge" 0 "$sg" --db "$db2" score -r "$hourly" --ip 192.0.2.200 --body "hello"
contains "score does not charge" "comment  accept"
check "ip after tries" 0 "$sg" --db "$db2" -r "$hourly" ip 192.0.2.200
contains "ip after tries" "192.0.2.200: 'ip 6/1h burst 3': 3 of 3 left"
# Three comments with --ratelimit spend the address's burst (ip 6/1h burst
# 3); ip shows it without charging anything.
for i in 1 2 3; do "$sg" --db "$db2" score --ratelimit -r "$hourly" --ip 192.0.2.200 --body "hello $i" >/dev/null; done
check "score --ratelimit" 0 "$sg" --db "$db2" score --ratelimit -r "$hourly" --ip 192.0.2.200 --body "hello 4"
contains "score --ratelimit" "comment  throttle"
check "ip rate limit spent" 0 "$sg" --db "$db2" -r "$hourly" ip 192.0.2.200
contains "ip rate limit spent" "192.0.2.200  throttle"
contains "ip rate limit spent" "192.0.2.200: 'ip 6/1h burst 3': 0 of 3 left, next allowed in"
check "ip rate limit of a neighbour" 0 "$sg" --db "$db2" -r "$hourly" ip 192.0.2.201
contains "ip rate limit of a neighbour" "192.0.2.201: 'ip 6/1h burst 3': 3 of 3 left"
contains "ip rate limit of a neighbour" "192.0.2.0/24: 'ip/24/64 20/1h': 17 of 20 left"
check "ip malformed" 1 "$sg" --db "$db2" ip 203.0.113.500
contains "ip malformed" "'203.0.113.500' is not an IPv4 or IPv6 address"
check "ip without database" 1 "$sg" --db none ip 192.0.2.1
contains "ip without database" "no database"
check "list show" 0 "$sg" --db "$db2" list show
contains "list show" "203.0.113.0/24"
contains "list show" "helpdesk"
contains "list show" "(expired)"
check "list show block json" 0 "$sg" --db "$db2" list show block --json
contains "list show block json" '"kind":"email","entry":"spam@example.com","source":"admin","reason":"","added":'
contains "list show block json" '"expires":1000,"expired":true}'
if grep -q helpdesk "$tmp/out"; then echo "FAIL: list show block shows the allow list"; fail=1; fi
check "list show source" 0 "$sg" --db "$db2" list show --source helpdesk
contains "list show source" "203.0.113.9"
if grep -q "203.0.113.0/24" "$tmp/out"; then echo "FAIL: list show --source shows other sources"; fail=1; fi
check "list show unknown source" 0 "$sg" --db "$db2" list show block --source nobody
contains "list show unknown source" "no entries"
check "list show limit" 0 "$sg" --db "$db2" list show --limit 1
contains "list show limit" "(the 1 newest; --limit N shows more"
check "stats" 0 "$sg" --db "$db2" stats
contains "stats" "block  ip"
contains "stats" "learned     4 spam, 0 ham"
contains "stats" "143 rules"
contains "stats" "when the state cannot be had: allow, flagged state_unavailable (ratelimit_fail_closed 0)"
check "stats json" 0 "$sg" --db "$db2" stats --json
contains "stats json" '"learned":{"ham":0,"spam":4}'
# rescore reads the database (the block list applies) and leaves it alone
# unless told to learn.
printf '{"id":"r1","ip":"203.0.113.7","body":"hello","label":"ham"}\n{"id":"r2","ip":"192.0.2.50","body":"cheap pills","label":"spam"}\n' >"$tmp/state.jsonl"
check "rescore sees lists" 0 "$sg" --db "$db2" rescore -r "$rules" "$tmp/state.jsonl"
contains "rescore sees lists" "LIST_BLOCK"
check "stats after rescore" 0 "$sg" --db "$db2" stats
contains "stats after rescore" "learned     4 spam, 0 ham"
check "rescore --learn" 0 "$sg" --db "$db2" rescore -q --learn -r "$rules" "$tmp/state.jsonl"
contains "rescore --learn" "learned: 2 labeled comments"
check "stats after learning" 0 "$sg" --db "$db2" stats
contains "stats after learning" "learned     5 spam, 1 ham"
# --learn replays the dump in order: the fifth comment from an address is
# scored with the four spam labels learned before it.
db3="$tmp/learn.db"
for i in 1 2 3 4; do
  printf '{"id":"ls%s","ip":"198.51.100.77","body":"hello %s","label":"spam"}\n' "$i" "$i"
done >"$tmp/learn.jsonl"
printf '{"id":"ls5","ip":"198.51.100.77","body":"hello again"}\n' >>"$tmp/learn.jsonl"
"$sg" --db "$db3" list add block 192.0.2.250 >/dev/null  # makes the file
check "rescore --learn in order" 0 "$sg" --db "$db3" rescore --learn -j2 -r "$rules" "$tmp/learn.jsonl"
contains "rescore --learn in order" "--learn scores in input order, on one thread"
contains "rescore --learn in order" "learned: 4 labeled comments"
sed -n '/^ls5 /,$p' "$tmp/out" | grep -q "REPUTATION_IP_BAD" ||
  { echo "FAIL: rescore --learn: ls5 not scored with the reputation learned before it"; fail=1; }
sed -n '/^ls1 /,/^ls2 /p' "$tmp/out" | grep -q "REPUTATION_IP" &&
  { echo "FAIL: rescore --learn: ls1 scored with reputation learned after it"; fail=1; }
check "rescore --learn without database" 1 "$sg" --db none rescore -q --learn -r "$rules" "$tmp/state.jsonl"
check "rules lint json" 0 "$sg" rules lint --json -r "$rules"
contains "rules lint json" '"name":"SG_URI_SHORTENER"'
check "rules test json" 0 "$sg" rules test --json -r "$rules" "free spins at the online casino"
contains "rules test json" '"rule":"SG_GAMBLING_ONLINE"'

# db copy: the SQLite file above onto a Redis server started here (loopback
# unix socket, its own folder, stopped by its PID), scored from there, and
# back into an empty file.
if command -v redis-server >/dev/null; then
  redis-server --port 0 --unixsocket "$tmp/redis.sock" --dir "$tmp" --save "" --daemonize no \
    --loglevel warning >"$tmp/redis.log" 2>&1 &
  redis_pid=$!
  trap 'kill $redis_pid 2>/dev/null; rm -rf "$tmp"' EXIT
  for _ in $(seq 100); do [ -S "$tmp/redis.sock" ] && break; sleep 0.05; done
  r="redis+unix://$tmp/redis.sock"
  check "db copy to redis" 0 "$sg" db copy "$db2" "$r"
  contains "db copy to redis" "list entries"
  contains "db copy to redis" "6 learned comments"
  check "stats on redis" 0 "$sg" --db "$r" stats
  contains "stats on redis" "learned     5 spam, 1 ham"
  check "score from redis" 0 "$sg" --db "$r" score --ip 203.0.113.5 --body "hello"
  contains "score from redis" "LIST_BLOCK"
  check "allow beats block on redis" 0 "$sg" --db "$r" score --ip 203.0.113.9 --body "hello"
  contains "allow beats block on redis" "LIST_ALLOW"
  check "db copy refuses a full target" 1 "$sg" db copy "$db2" "$r"
  contains "db copy refuses a full target" "already holds state"
  check "db copy back" 0 "$sg" db copy "$r" "$tmp/back.db"
  check "stats of the copy back" 0 "$sg" --db "$tmp/back.db" stats
  contains "stats of the copy back" "learned     5 spam, 1 ham"
  check "db copy from a server that is gone" 1 "$sg" db copy "redis+unix://$tmp/none.sock" "$tmp/x.db"
  contains "db copy from a server that is gone" "cannot connect"
  kill $redis_pid
  wait $redis_pid 2>/dev/null || true
else
  echo "skip: db copy to Redis (redis-server is not installed)"
fi

exit $fail

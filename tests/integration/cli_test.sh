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
check() {  # check DESCRIPTION EXPECTED_EXIT COMMAND... ; output in $tmp/out
  local what=$1 want=$2; shift 2
  "$@" >"$tmp/out" 2>&1
  local got=$?
  if [ "$got" != "$want" ]; then
    echo "FAIL: $what: exit $got, expected $want"; sed 's/^/    /' "$tmp/out" | head -20; fail=1
  fi
}
contains() {  # contains DESCRIPTION TEXT
  if ! grep -qF -- "$2" "$tmp/out"; then
    echo "FAIL: $1: output lacks '$2'"; sed 's/^/    /' "$tmp/out" | head -20; fail=1
  fi
}

check "version" 0 "$sg" version
contains "version" "spamguard 1."

check "help" 0 "$sg" --help
contains "help" "rescore"
check "unknown subcommand" 2 "$sg" frobnicate
check "missing subcommand" 2 "$sg"

check "rescore samples" 0 "$sg" rescore -r "$rules" "$src/data/samples/comments.jsonl"
contains "rescore samples" "20 comments scored, 0 records skipped"
contains "rescore samples" "s09  discard"
contains "rescore samples" "SG_PHARMA_OBFUSCATED"
contains "rescore samples" "false-positive rate 0.00 %"

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

exit $fail

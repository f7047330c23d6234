#!/bin/bash
# usage: keywords_test.sh SPAMGUARD SOURCE_DIR [KEYWORD_LISTS_DIR]
# Keyword lists through the command: WordPress's Disallowed Comment Keys and
# the MT-Blacklist imported as list sources, hostile list files (empty and
# 100 KB lines, NUL bytes, regex characters meant literally, duplicates,
# CRLF, UTF-16, patterns RE2 cannot run), an import replacing its source
# whole, and the phrase index beside the database trusted only when whole
# and ours. With the real lists (../shared/corpora/keyword-lists), imports
# them and scores with them.
set -u
sg=$1 src=$2 real=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
source "$src/tests/integration/check.sh"
export SPAMGUARD_RULES=$src/data/spamguard.cf SPAMGUARD_DB=$tmp/kw.db
lacks() {  # lacks DESCRIPTION TEXT
  if grep -qF -- "$2" "$tmp/out"; then echo "FAIL: $1: output has '$2'"; sed 's/^/    /' "$tmp/out" | head -20; fail=1; fi
}

# A WordPress list with everything a hand-kept file has.
{
  printf 'cheap pharmacy\r\n'
  printf '\r\n'
  printf '   \n'
  printf 'c++ (and) [friends]*\n'
  printf 'CHEAP PHARMACY\n'
  printf 'cheap pharmacy\n'
  printf 'bad\0byte\n'
  head -c 102400 /dev/zero | tr '\0' 'x'; printf '\n'
  printf 'casino-bonus.example\n'
  printf '198.51.100.66\n'
  printf 'Ünïcode Spam\n'
  printf 'evilbot/1.0\n'
} > "$tmp/wp.txt"
check "import a WordPress list" 0 $sg list import keywords "$tmp/wp.txt" --source wp
contains "import a WordPress list" "imported 6 keyword phrases as source 'wp', 2 lines skipped"
contains "the NUL line, with its line number" "wp.txt:7: holds a NUL byte"
contains "the 100 KB line, with its line number" "wp.txt:8: longer than 1024 bytes (102400)"
contains "duplicates kept once (case folded)" "2 duplicate lines (kept once)"
check "stats" 0 $sg stats
person() { $sg score --ip 192.0.2.10 --author 'Ann Reader' --body "$1" "${@:2}"; }
check "a phrase in the body, case folded" 0 person "Where is a Cheap   Pharmacy? cheap pharmacy here"
contains "a phrase in the body, case folded" "LIST_KEYWORD"
contains "a phrase in the body, case folded" "'cheap pharmacy' in the body (source wp)"
check "regex characters are literal" 0 person "I write c++ (and) [friends]* daily"
contains "regex characters are literal" "'c++ (and) [friends]*' in the body"
check "regex characters are literal (no match)" 0 person "I write cpp and friends daily"
lacks "regex characters are literal (no match)" "LIST_KEYWORD"
check "in the URL" 0 person "hello" --url "http://www.casino-bonus.example/"
contains "in the URL" "in the url (source wp)"
check "the address" 0 $sg score --ip 198.51.100.66 --body "hello there"
contains "the address" "'198.51.100.66' in the ip"
check "the user agent" 0 person "hello" --ua "Mozilla/5.0 EvilBot/1.0"
contains "the user agent" "in the user agent"
check "Unicode case folded" 0 person "this is ÜNÏCODE spam"
contains "Unicode case folded" "'Ünïcode Spam' in the body"
check "a reader" 0 person "Thanks, the fix in step 3 worked."
lacks "a reader" "LIST_KEYWORD"
contains "a reader" "comment  accept"

# UTF-16 with its BOM, and a CRLF file.
printf 'utf16 phrase\r\nsecond one\r\n' | iconv -f UTF-8 -t UTF-16 > "$tmp/wp16.txt"
check "a UTF-16 list" 0 $sg list import keywords "$tmp/wp16.txt" --source wp16
contains "a UTF-16 list" "imported 2 keyword phrases as source 'wp16', 0 lines skipped"
check "a UTF-16 phrase matches" 0 person "my utf16 phrase here"
contains "a UTF-16 phrase matches" "(source wp16)"

# MT-Blacklist: patterns against links; broken lines reported, the rest kept.
cat > "$tmp/mt.txt" <<'MT'
#
#   MT-Blacklist style: one pattern per line, comments after '#'
#
([\w\-_.]+\.)?(l(so|os)tr)\.[a-z]{2,}     # catch-all for lsotr.xxx
-pills-online\.
(unclosed
(?<=x)lookbehind\.com
cheap-meds\.example
MT
check "import the MT-Blacklist" 0 $sg list import link-patterns "$tmp/mt.txt" --source mt
contains "import the MT-Blacklist" "imported 3 link patterns as source 'mt', 2 lines skipped"
contains "a bad pattern, with its line" "mt.txt:6: not a regex: missing ): (unclosed"
contains "a Perl-only pattern, with its line" "mt.txt:7: pattern uses the"
check "a link to a listed domain" 0 person 'see <a href="http://www.lostr.info/x">this</a>'
contains "a link to a listed domain" "Links to a site a link-pattern list names"
contains "a link to a listed domain" "'www.lostr.info' in the link (source mt, pattern ([\\w"
check "the author's URL" 0 person "hi" --url "http://cheap-meds.example/"
contains "the author's URL" "in the url (source mt"
check "a domain in the text is not a link" 0 person "lsotr.com is a word here"
lacks "a domain in the text is not a link" "link-pattern"

# Many patterns sharing an atom (".info"), and patterns whose every clause
# must hold: each is still found, under its rarest clause, and a link that
# holds only the common atom or one clause of two matches none.
{
  for i in $(seq 1 300); do printf 'spam%03d-[a-z]+\\.info\n' "$i"; done
  printf '(cheap|discount)-(pills|meds)\\.info\n'
} > "$tmp/shared.txt"
check "import patterns sharing an atom" 0 $sg list import link-patterns "$tmp/shared.txt" --source shared
contains "import patterns sharing an atom" "imported 301 link patterns as source 'shared'"
check "the 257th of 300 sharing .info" 0 person 'see <a href="http://spam257-abc.info/">this</a>'
contains "the 257th of 300 sharing .info" "pattern spam257-[a-z]+"
check "two clauses, both present" 0 person 'see <a href="http://discount-meds.info/">this</a>'
contains "two clauses, both present" "'discount-meds.info' in the link (source shared, pattern (cheap|discount)-(pills"
check "one clause of two" 0 person 'see <a href="http://discount-shoes.info/">this</a>'
lacks "one clause of two" "link-pattern"
check "only the shared atom" 0 person 'see <a href="http://spam-abc.info/">this</a>'
lacks "only the shared atom" "link-pattern"
: > "$tmp/shared-empty.txt"
check "remove the shared patterns" 0 $sg list import link-patterns "$tmp/shared-empty.txt" --source shared

# Re-importing replaces the source whole; an empty file removes it.
printf 'another phrase\n' > "$tmp/wp2.txt"
check "re-import" 0 $sg list import keywords "$tmp/wp2.txt" --source wp
check "the old phrase is gone" 0 person "cheap pharmacy"
lacks "the old phrase is gone" "LIST_KEYWORD"
check "the new one is there" 0 person "yet another phrase"
contains "the new one is there" "'another phrase' in the body (source wp)"
check "the other source stays" 0 person "my utf16 phrase here"
contains "the other source stays" "(source wp16)"
: > "$tmp/empty.txt"
check "an empty file removes the source" 0 $sg list import keywords "$tmp/empty.txt" --source wp16
check "removed" 0 person "my utf16 phrase here"
lacks "removed" "LIST_KEYWORD"
check "a missing file" 1 $sg list import keywords "$tmp/none.txt" --source wp
contains "a missing file" "cannot open"
check "a folder" 1 $sg list import keywords "$tmp" --source wp
contains "a folder" "not a regular file"

# The phrase index beside the database: rebuilt when damaged or foreign.
idx=$tmp/kw.db-keywords
[ -f "$idx" ] || { echo "FAIL: no phrase index at $idx"; fail=1; }
good=$(sha256sum < "$idx")
for damage in truncate flip garbage; do
  case $damage in
    truncate) head -c 100 "$idx" > "$idx.t" && mv "$idx.t" "$idx" ;;
    flip) printf '\xff\xff\xff\xff' | dd of="$idx" bs=1 seek=200 conv=notrunc 2>/dev/null ;;
    garbage) head -c 100000 /dev/urandom > "$idx" ;;
  esac
  chmod 644 "$idx"
  check "index $damage: still matches" 0 person "yet another phrase"
  contains "index $damage: still matches" "'another phrase' in the body (source wp)"
  [ "$(sha256sum < "$idx")" = "$good" ] || { echo "FAIL: index $damage: not rewritten whole"; fail=1; }
done
if [ "$(id -u)" = 0 ]; then
  chown 65534:65534 "$idx"
  check "another user's index is not read" 0 person "yet another phrase"
  contains "another user's index is not read" "'another phrase' in the body"
  [ "$(stat -c %u "$idx")" = 0 ] || { echo "FAIL: the foreign index was not replaced"; fail=1; }
fi
chmod 666 "$idx"
check "a world-writable index is not read" 0 person "yet another phrase"
contains "a world-writable index is not read" "'another phrase' in the body"
[ "$(stat -c %a "$idx")" = 644 ] || { echo "FAIL: the world-writable index was not replaced"; fail=1; }

# No database: refused with a reason.
check "without a database" 1 $sg --db none list import keywords "$tmp/wp2.txt" --source wp

if [ -n "$real" ] && [ -f "$real/wordpress-comment-blocklist.txt" ]; then
  export SPAMGUARD_DB=$tmp/real.db
  check "the real WordPress list" 0 $sg list import keywords "$real/wordpress-comment-blocklist.txt" --source wp-blocklist
  contains "the real WordPress list" "imported 62204 keyword phrases"
  check "the real MT-Blacklist" 0 $sg list import link-patterns "$real/mt-blacklist-2005-08-26.txt" --source mt-blacklist
  contains "the real MT-Blacklist" "link patterns as source 'mt-blacklist'"
  check "a spam link the MT-Blacklist names" 0 person 'buy <a href="http://www.lsotr.com/">here</a>'
  contains "a spam link the MT-Blacklist names" "LIST_KEYWORD"
  check "a reader, with both lists" 0 $sg score --ip 192.0.2.10 --author 'Ann Reader' --body 'Thanks, step 3 fixed it.'
  lacks "a reader, with both lists" "LIST_KEYWORD"
else
  echo "skip: the real keyword lists (../shared/corpora/keyword-lists) are not here"
fi
exit $fail

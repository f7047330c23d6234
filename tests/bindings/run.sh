#!/bin/bash
# usage: run.sh BUILD_DIR SOURCE_DIR CORPORA_DIR
# Builds the PHP extension (phpize) and the Perl module (Makefile.PL) against
# a staged install of this build, runs their tests with the real php and
# prove, then scores the corpora through C, PHP and Perl and requires the
# same verdicts and scores everywhere.
set -euo pipefail
build=$1 src=$2 corpora=$3
out=$build/bindings
rm -rf "$out" && mkdir -p "$out"
cmake --install "$build" --prefix "$out/stage" >/dev/null
libdir=$(dirname "$(find "$out/stage" -name 'libspamguard.so.1' | head -1)")
export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

cp -r "$src/bindings/php" "$out/php"
(cd "$out/php" && phpize >/dev/null 2>&1 && ./configure --with-spamguard="$out/stage" >/dev/null && make >/dev/null)
php_ext="$out/php/modules/spamguard.so"
# PHP's own test runner on the extension's .phpt files (as a packager runs them).
(cd "$out/php" && NO_INTERACTION=1 REPORT_EXIT_STATUS=1 make test TESTS="-q --no-color --show-diff tests" \
  > "$out/php-test.log" 2>&1) || { cat "$out/php-test.log"; echo "php: make test failed"; exit 1; }
grep -E '(PASS|SKIP|FAIL)' "$out/php-test.log"
if ! grep -qE 'Tests failed *: *0 ' "$out/php-test.log" || ! grep -qE 'Tests passed *: *[1-9]' "$out/php-test.log"; then
  cat "$out/php-test.log"; echo "php: make test did not pass"; exit 1
fi

cp -r "$src/bindings/perl" "$out/perl"
(cd "$out/perl" && perl Makefile.PL SPAMGUARD_PREFIX="$out/stage" >/dev/null && make >/dev/null)
(cd "$out/perl" && make test)

# The PHP comment handler example under PHP's own web server on loopback.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$out/phpwww"
cp "$src/examples/php/comment_handler.php" "$out/phpwww/"
SPAMGUARD_RULES="$src/data/spamguard.cf" SPAMGUARD_DB="$out/php-handler.db" SPAMGUARD_SPOOL="$out/php-spool.jsonl" \
  php -n -d extension="$php_ext" -S "127.0.0.1:$port" -t "$out/phpwww" >/dev/null 2>&1 &
php_server=$!
trap 'kill $php_server 2>/dev/null' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/comment_handler.php" && break; sleep 0.1; done
handler="http://127.0.0.1:$port/comment_handler.php"
code() { curl -s -o /dev/null -D "$out/php-headers" -w '%{http_code}' "$@"; }
# The form, with its token; a program that posts without it; a reader who
# types for a few seconds.
curl -s "$handler?post_id=3" > "$out/php-form.html"
token=$(sed -n 's/.*name="spamguard_token" value="\([A-Za-z0-9_-]*\)".*/\1/p' "$out/php-form.html")
[ ${#token} = 60 ] || { echo "php handler: no token in the form"; cat "$out/php-form.html"; exit 1; }
shown=$(date +%s.%N)
[ "$(code --data-urlencode 'comment=Thanks, step 3 fixed it.' --data-urlencode 'post_id=3' "$handler")" = 403 ] || { echo "php handler: a post without the form not 403"; exit 1; }
tail -1 "$out/php-spool.jsonl" | grep -q SG_FORM_NO_TOKEN || { echo "php handler: no SG_FORM_NO_TOKEN"; exit 1; }
[ "$(code --data-urlencode 'author=Cheap Pills' --data-urlencode 'comment=Buy cheap viagra without prescription http://pills.example.xyz/' "$handler")" = 403 ] || { echo "php handler: spam not 403"; exit 1; }
[ "$(code -d 'comment[]=x' "$handler")" = 400 ] || { echo "php handler: array not 400"; exit 1; }
[ "$(code -X PUT "$handler")" = 405 ] || { echo "php handler: PUT not 405"; exit 1; }
sleep "$(python3 -c "import time; print(max(0, 3.2 - (time.time() - $shown)))")"
[ "$(code --data-urlencode 'comment=Thanks, step 3 fixed it.' --data-urlencode 'post_id=3' --data-urlencode "spamguard_token=$token" \
  --data-urlencode 'spamguard_website=' "$handler")" = 200 ] || { echo "php handler: a reader's comment not 200"; exit 1; }
for i in $(seq 8); do code --data-urlencode "comment=again $i" "$handler" >/dev/null; done
[ "$(code --data-urlencode 'comment=and again' "$handler")" = 429 ] || { echo "php handler: flood not 429"; exit 1; }
grep -qi '^Retry-After: [0-9]' "$out/php-headers" || { echo "php handler: no Retry-After"; exit 1; }
echo "php comment handler: all checks passed"

# Same answers everywhere.
for f in "$corpora/youtube/comments.jsonl" "$corpora/wordpress-spam/comments.jsonl" "$src/data/samples/comments.jsonl"; do
  name=$(basename "$(dirname "$f")")
  SPAMGUARD_DB=none "$build/cli/spamguard" rescore --json -r "$src/data/spamguard.cf" "$f" 2>/dev/null |
    php -n -r 'while (($l = fgets(STDIN)) !== false) { $v = json_decode($l, true); printf("%s\t%s\t%.3f\n", $v["id"], $v["action"], $v["score"]); }' > "$out/$name.c"
  php -n -d extension="$php_ext" "$src/bindings/php/tests/score_dump.php" "$src/data/spamguard.cf" "$f" > "$out/$name.php"
  (cd "$out/perl" && perl -Mblib "$src/bindings/perl/t/score_dump.pl" "$src/data/spamguard.cf" "$f") > "$out/$name.perl"
  n=$(wc -l < "$out/$name.c")
  [ "$n" -gt 0 ] || { echo "no verdicts for $f"; exit 1; }
  diff -q "$out/$name.c" "$out/$name.php" >/dev/null || { echo "PHP differs from C on $f"; diff "$out/$name.c" "$out/$name.php" | head; exit 1; }
  diff -q "$out/$name.c" "$out/$name.perl" >/dev/null || { echo "Perl differs from C on $f"; diff "$out/$name.c" "$out/$name.perl" | head; exit 1; }
  echo "$name: $n verdicts identical in C, PHP and Perl"
done

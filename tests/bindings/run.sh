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
php -n -d extension="$php_ext" "$src/bindings/php/tests/basic.php" "$src/data/spamguard.cf"

cp -r "$src/bindings/perl" "$out/perl"
(cd "$out/perl" && perl Makefile.PL SPAMGUARD_PREFIX="$out/stage" >/dev/null && make >/dev/null)
(cd "$out/perl" && SPAMGUARD_RULES="$src/data/spamguard.cf" prove -b t/)

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

#!/bin/bash
# usage: bench/bindings_bench.sh BUILD_DIR DUMP.jsonl...
# Per-call cost of scoring the same comments from C, PHP and Perl (content
# rules, no database); the bindings must have been built by
# tests/bindings/run.sh (ctest -R bindings).
set -euo pipefail
build=$(cd "$1" && pwd); shift
dumps=(); for d in "$@"; do dumps+=("$(cd "$(dirname "$d")" && pwd)/$(basename "$d")"); done
set -- "${dumps[@]}"
src=$(cd "$(dirname "$0")/.." && pwd)
libdir=$(dirname "$(find "$build/bindings/stage" -name 'libspamguard.so.1' | head -1)")
export LD_LIBRARY_PATH=$libdir
"$build/bench/spamguard_bench" --seconds 2 "$@" | grep throughput | sed 's/^/c: /'
php -n -d extension="$build/bindings/php/modules/spamguard.so" "$src/bench/bindings_bench.php" "$src/data/spamguard.cf" "$@"
(cd "$build/bindings/perl" && perl -Mblib "$src/bench/bindings_bench.pl" "$src/data/spamguard.cf" "$@")

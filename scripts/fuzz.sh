#!/usr/bin/env bash
# Build the libFuzzer targets with clang (ASan + UBSan) and run each for a
# while on its seed corpus (fuzz/corpus/TARGET) plus a working corpus in
# build-fuzz/corpus/TARGET. A crash leaves its input as crash-* in the
# current folder and fails the script.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET=60] [TARGET...]   targets: cf score list jsonl dump meta normalize index
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
SG_PACKAGES+=(clang libclang-rt-14-dev)
sg_install_deps
CC=clang CXX=clang++ sg_build build-fuzz -DSG_FUZZ=ON -DSG_BUILD_TESTS=OFF -DSG_BUILD_BENCH=OFF \
  -DSG_BUILD_EXAMPLES=OFF >/dev/null
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(cf score list jsonl dump meta normalize index)
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t"
  echo "== fuzz_$t for ${secs}s"
  ASAN_OPTIONS=detect_leaks=1 build-fuzz/fuzz/fuzz_$t -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 "build-fuzz/corpus/$t" "fuzz/corpus/$t" 2>&1 |
    grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)|ERROR|SUMMARY|crash-|Test unit written" || true
  test "${PIPESTATUS[0]}" -eq 0
done

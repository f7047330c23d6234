#!/usr/bin/env bash
# Install what is needed, build, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
# The report test renders HTML in headless Chromium.
SG_PACKAGES+=(chromium fonts-liberation)
sg_install_deps
sg_install_test_locale
# Optional data a user's clone does not have: the tests that need it say
# "skipped" without it (.ci/run gives it).
extra=()
[ -n "${SG_BLOCKLISTS_DIR:-}" ] && extra+=("-DSG_BLOCKLISTS_DIR=$(cd "$SG_BLOCKLISTS_DIR" && pwd)")
[ -n "${SG_MT_DIR:-}" ] && extra+=("-DSG_MT_DIR=$(cd "$SG_MT_DIR" && pwd)")
[ -n "${SG_KEYWORD_LISTS_DIR:-}" ] && extra+=("-DSG_KEYWORD_LISTS_DIR=$(cd "$SG_KEYWORD_LISTS_DIR" && pwd)")
sg_build build "${extra[@]}"
cd build
ctest --output-on-failure -j "$(nproc)"

# The same suite under AddressSanitizer and UndefinedBehaviorSanitizer (the
# install test links an uninstrumented consumer, and the bindings load the
# library into uninstrumented php and perl, so those run above only).
cd ..
sg_build build-asan -DSG_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DSG_BLOCKLISTS_DIR="${SG_BLOCKLISTS_DIR:+$(cd "$SG_BLOCKLISTS_DIR" && pwd)}"
cd build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --output-on-failure -j "$(nproc)" -E '^(install|bindings|integrations)\.'

# The multi-threaded and multi-process tests under ThreadSanitizer.
cd ..
sg_build build-tsan -DSG_TSAN=ON -DCMAKE_BUILD_TYPE=Debug
cd build-tsan
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  ctest --output-on-failure -R 'integration\.(threads|processes|processes_ratelimit)|unit\.ratelimit|cli\.end_to_end|redis\.(threads_share_one_engine|farm)'

# Each fuzz target briefly (scripts/fuzz.sh runs them longer).
cd ..
bash scripts/fuzz.sh "${SG_FUZZ_SECONDS:-45}"

# The Debian packages: built, checked by lintian, installed, and used as the
# web server's user (as root only: it installs them; it says so otherwise).
rc=0
bash tests/packages/run.sh || rc=$?
if [ "$rc" -eq 77 ]; then echo "package test skipped (run as root to build and install the packages)"; elif [ "$rc" -ne 0 ]; then exit "$rc"; fi

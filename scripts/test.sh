#!/usr/bin/env bash
# Install what is needed, build, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
sg_install_deps
sg_build build
cd build
ctest --output-on-failure -j "$(nproc)"

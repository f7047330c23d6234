#!/usr/bin/env bash
# Quick start: install what is needed, build, and rescore the bundled sample
# dump with the default rules and the default database, teaching it the
# sample's labels in order (so later comments meet the reputation of earlier
# ones). Prints every verdict with its reasons and a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
sg_install_deps
# Only what the demo runs: the library and the command.
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target spamguard_cli >/dev/null
exec build/cli/spamguard rescore --learn --rules data/spamguard.cf data/samples/comments.jsonl

#!/usr/bin/env bash
# Quick start: install what is needed, build, and score the bundled sample
# dump with the default rules. Prints every verdict with its reasons and a
# summary.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
sg_install_deps
sg_build build >/dev/null
exec build/cli/spamguard rescore --rules data/spamguard.cf data/samples/comments.jsonl

#!/bin/sh
# usage: check_exports.sh libspamguard.so abi/exported.txt
# Fails when the library exports anything but sg_* or the list changed.
set -eu
lib=$1 expected=$2
symbols=$(nm -D --defined-only "$lib" | awk '$3 != "SPAMGUARD_1" {print $3}')
# Every symbol carries the ABI's version node (libspamguard/spamguard.map).
unversioned=$(printf '%s\n' "$symbols" | grep -v '@@SPAMGUARD_1$' || true)
if [ -n "$unversioned" ]; then
  echo "exported symbols without the SPAMGUARD_1 version node:"; echo "$unversioned"; exit 1
fi
actual=$(printf '%s\n' "$symbols" | sed 's/@@SPAMGUARD_1$//' | sort)
bad=$(printf '%s\n' "$actual" | grep -v '^sg_' || true)
if [ -n "$bad" ]; then
  echo "exported symbols without the sg_ prefix:"; echo "$bad"; exit 1
fi
if ! printf '%s\n' "$actual" | diff -u "$expected" -; then
  echo "the exported symbols differ from $expected (update it only with an ABI change)"; exit 1
fi
echo "$(printf '%s\n' "$actual" | wc -l) sg_ symbols exported, as listed"

#!/bin/sh
# usage: check_exports.sh libspamguard.so abi/exported.txt
# Fails when the library exports anything but sg_* or the list changed.
set -eu
lib=$1 expected=$2
actual=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort)
bad=$(printf '%s\n' "$actual" | grep -v '^sg_' || true)
if [ -n "$bad" ]; then
  echo "exported symbols without the sg_ prefix:"; echo "$bad"; exit 1
fi
if ! printf '%s\n' "$actual" | diff -u "$expected" -; then
  echo "the exported symbols differ from $expected (update it only with an ABI change)"; exit 1
fi
echo "$(printf '%s\n' "$actual" | wc -l) sg_ symbols exported, as listed"

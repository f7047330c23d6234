#!/bin/sh
# usage: run.sh BUILD_DIR STAGE_DIR CONSUMER_SRC_DIR
# Installs the build into STAGE_DIR, then builds and runs a consumer with
# find_package (shared and static) and with pkg-config (shared and static).
set -eu
build=$1 stage=$2 src=$3
rm -rf "$stage"
cmake --install "$build" --prefix "$stage/prefix" >/dev/null
libdir=$(dirname "$(find "$stage/prefix" -name 'libspamguard.so.1' | head -1)")
test -f "$stage/prefix/include/spamguard/spamguard.h"
test -f "$libdir/libspamguard.a"
readelf -d "$libdir/libspamguard.so" | grep -q 'SONAME.*libspamguard.so.1'

for mode in OFF ON; do
  cmake -S "$src/consumer" -B "$stage/cmake-$mode" -DUSE_STATIC=$mode -DCMAKE_PREFIX_PATH="$stage/prefix" >/dev/null
  cmake --build "$stage/cmake-$mode" >/dev/null
  LD_LIBRARY_PATH="$libdir" "$stage/cmake-$mode/consumer"
done
# The static build must not need the shared library at run time.
if ldd "$stage/cmake-ON/consumer" | grep -q libspamguard; then echo "static consumer links libspamguard.so"; exit 1; fi

export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc -std=c99 -Wall -Werror -o "$stage/pc-shared" "$src/consumer/main.c" $(pkg-config --cflags --libs spamguard)
LD_LIBRARY_PATH="$libdir" "$stage/pc-shared"
cc -std=c99 -Wall -Werror -o "$stage/pc-static" "$src/consumer/main.c" $(pkg-config --cflags spamguard) \
  -DSG_STATIC "$libdir/libspamguard.a" -Wl,--as-needed $(pkg-config --static --libs spamguard)
"$stage/pc-static"
echo "install consumer: cmake shared/static and pkg-config shared/static all ran"

# The installed command runs from a prefix with spaces in it, without
# LD_LIBRARY_PATH (its RPATH is relative to itself), finds the rules of its
# own prefix, still does after the whole install was moved, and prefers the
# admin's etc/spamguard/spamguard.cf, which includes the shipped rules.
odd="$stage/a prefix with spaces"
cmake --install "$build" --prefix "$odd" >/dev/null
unset LD_LIBRARY_PATH
out=$(env -u SPAMGUARD_RULES "$odd/bin/spamguard" --version)
case "$out" in "spamguard 1."*) ;; *) echo "installed --version: $out"; exit 1 ;; esac
out=$(env -u SPAMGUARD_RULES "$odd/bin/spamguard" --db none rules lint)
case "$out" in *"$odd/share/spamguard/spamguard.cf"*) ;; *) echo "installed rules not found: $out"; exit 1 ;; esac
mv "$odd" "$stage/moved"
out=$(env -u SPAMGUARD_RULES "$stage/moved/bin/spamguard" --db none rules lint)
case "$out" in *"$stage/moved/share/spamguard/spamguard.cf"*) ;; *) echo "moved install: $out"; exit 1 ;; esac
mkdir -p "$stage/moved/etc/spamguard"
printf 'include ../../share/spamguard/spamguard.cf\n# local changes\nrequired_score 6.5\n' > "$stage/moved/etc/spamguard/spamguard.cf"
out=$(env -u SPAMGUARD_RULES "$stage/moved/bin/spamguard" --db none rules lint)
case "$out" in *"$stage/moved/etc/spamguard/spamguard.cf"*"spam at 6.50"*) ;; *) echo "admin's rules not used: $out"; exit 1 ;; esac
out=$(env -u SPAMGUARD_RULES "$stage/moved/bin/spamguard" --db none score --body "Buy cheap viagra without prescription")
case "$out" in comment*) ;; *) echo "installed score: $out"; exit 1 ;; esac
echo "install: relocatable command, rules found relative to the library, admin's file preferred"

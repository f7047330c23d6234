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

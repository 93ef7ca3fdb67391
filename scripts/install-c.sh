#!/usr/bin/env bash
# Installs the drop-in libvmem under PREFIX, building it first (cargo skips
# what is up to date):
#   lib/libvmem.so.1.X.Y, lib/libvmem.so.1 -> it, lib/libvmem.so -> libvmem.so.1
#   lib/libvmem.a, include/libvmem.h
#   lib/pkgconfig/libvmem.pc (and vmem.pc, the same file under this project's name)
#   share/man/man7/libvmem.7, share/man/man3/vmem_*.3
# X.Y are the minor and patch numbers of this project's version; 1 is
# libvmem's ABI, the soname programs record.
# Usage: scripts/install-c.sh PREFIX
set -euo pipefail
if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 PREFIX" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
prefix=$(cd "$1" && pwd)
ffi="$root/crates/vmem-ffi"

cargo build --release --quiet -p vmem-ffi --manifest-path "$root/Cargo.toml"
target=$(cargo metadata --format-version 1 --no-deps --manifest-path "$root/Cargo.toml" |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
real="libvmem.so.1.${version#*.}"

install -d "$prefix/lib/pkgconfig" "$prefix/include" "$prefix/share/man/man3" "$prefix/share/man/man7"
install -m 755 "$target/release/libvmem.so" "$prefix/lib/$real"
ln -sfn "$real" "$prefix/lib/libvmem.so.1"
ln -sfn libvmem.so.1 "$prefix/lib/libvmem.so"
install -m 644 "$target/release/libvmem.a" "$prefix/lib/libvmem.a"
install -m 644 "$ffi/include/libvmem.h" "$prefix/include/libvmem.h"
for name in libvmem vmem; do
  sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" "$ffi/vmem.pc.in" > "$prefix/lib/pkgconfig/$name.pc"
done
install -m 644 "$ffi/man/libvmem.7" "$prefix/share/man/man7/libvmem.7"
install -m 644 "$ffi"/man/vmem_*.3 "$prefix/share/man/man3/"
echo "installed libvmem $version under $prefix"

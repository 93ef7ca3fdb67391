#!/usr/bin/env bash
# Builds what ships for one target and checks it: the addon into
# npm/<target>/vmem.<target>.node (the napi-rs layout), and libvmem.so /
# libvmem.dylib / libvmem.a into dist/<triple>/. Used by
# scripts/test-platforms.sh and by the workflow's build job, so both build
# the same way.
#
#   scripts/build-target.sh x86_64-unknown-linux-gnu
#
# Linux gnu targets are built with napi-rs's gcc toolchains against glibc 2.17
# (what `napi build --use-napi-cross` uses; libvmem.so linked by rust-lld);
# Linux musl targets with zig (cargo-zigbuild, from PyPI). Both
# are installed into .cache/platforms on first use; this needs an x86_64
# Linux host. Other targets (macOS, FreeBSD) build with the host's own
# toolchain. Each Linux binary's machine and C library are checked, no gnu
# binary may need a glibc symbol newer than 2.17, and none may export a
# jemalloc symbol (vmem's jemalloc is private to it).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
triple=$1
cache=$root/.cache/platforms
mkdir -p "$cache"

case "$triple" in
  x86_64-unknown-linux-gnu) npm=linux-x64-gnu machine="Advanced Micro Devices X86-64" ;;
  aarch64-unknown-linux-gnu) npm=linux-arm64-gnu machine=AArch64 ;;
  x86_64-unknown-linux-musl) npm=linux-x64-musl machine="Advanced Micro Devices X86-64" ;;
  aarch64-unknown-linux-musl) npm=linux-arm64-musl machine=AArch64 ;;
  x86_64-apple-darwin) npm=darwin-x64 ;;
  aarch64-apple-darwin) npm=darwin-arm64 ;;
  x86_64-unknown-freebsd) npm=freebsd-x64 ;;
  *)
    echo "unknown target $triple"
    exit 1
    ;;
esac
rustup target add "$triple" >/dev/null 2>&1 || true

napi_flags=()
linux_host_x64() { [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ]; }
case "$triple" in
  *-linux-gnu)
    linux_host_x64 || {
      echo "$triple: the glibc 2.17 toolchains need an x86_64 Linux host"
      exit 1
    }
    arch=${triple%%-*}
    # The two toolchain packages are versioned separately; these are the
    # newest of each.
    version=$([ "$arch" = x86_64 ] && echo 1.0.0 || echo 1.0.3)
    tc=$cache/cross/$triple-$version
    if [ ! -x "$tc/bin/$triple-gcc" ]; then
      tmp=$(mktemp -d)
      (cd "$tmp" && npm pack --silent "@napi-rs/cross-toolchain-x64-target-$arch@$version" >/dev/null)
      mkdir -p "$tc"
      tar -xzf "$tmp"/*.tgz -O "package/$triple.tar.xz" | tar -xJ -C "$tc"
      rm -rf "$tmp"
    fi
    # Link libvmem.so with rustc's own lld: the toolchain's ld (binutils
    # 2.2x), like Debian's 2.40, refuses rustc's version script and
    # libvmem.map together. lld, as the host build uses, merges them.
    lld=$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld
    mkdir -p "$cache/lld"
    printf '#!/bin/sh\nexec "%s" -flavor gnu "$@"\n' "$lld" >"$cache/lld/ld"
    chmod +x "$cache/lld/ld"
    var=$(echo "$triple" | tr 'a-z-' 'A-Z_')
    export "CARGO_TARGET_${var}_LINKER=$tc/bin/$triple-gcc"
    export "CC_${triple//-/_}=$tc/bin/$triple-gcc"
    export "AR_${triple//-/_}=$tc/bin/$triple-ar"
    ffi_link_args=(-C "link-arg=-B$cache/lld/")
    ;;
  *-linux-musl)
    linux_host_x64 || {
      echo "$triple: the zig build needs an x86_64 Linux host here"
      exit 1
    }
    if [ ! -x "$cache/zig/bin/cargo-zigbuild" ]; then
      python3 -m venv "$cache/zig"
      "$cache/zig/bin/pip" install -q ziglang cargo-zigbuild
    fi
    printf '#!/bin/sh\nexec "%s" -m ziglang "$@"\n' "$cache/zig/bin/python" >"$cache/zig/bin/zig"
    chmod +x "$cache/zig/bin/zig"
    export PATH=$cache/zig/bin:$PATH
    napi_flags=(--cross-compile)
    ffi_link_args=()
    ;;
  *) ffi_link_args=() ;;
esac

echo "== $triple: the addon (npm/$npm)"
out=$cache/out/$npm
rm -rf "$out" && mkdir -p "$out"
# --output-dir keeps napi's generated typings away from the repository's.
npx napi build --platform --release --target "$triple" --output-dir "$out" --no-js "${napi_flags[@]}"
cp "$out/vmem.$npm.node" "npm/$npm/"

dist=dist/$triple
mkdir -p "$dist"
target_dir=${CARGO_TARGET_DIR:-$root/target}/$triple/release
case "$triple" in
  *-linux-gnu | *-apple-darwin | *-freebsd)
    echo "== $triple: the C library (dist/$triple)"
    # `cargo rustc`: the link arguments reach this crate only, so the
    # dependencies built for the addon are reused.
    cargo rustc --quiet --release -p vmem-ffi --lib --target "$triple" -- "${ffi_link_args[@]}"
    for lib in libvmem.so libvmem.dylib libvmem.a; do
      if [ -f "$target_dir/$lib" ]; then cp "$target_dir/$lib" "$dist/"; fi
    done
    ;;
esac

case "$triple" in *-linux-*) ;; *) exit 0 ;; esac

echo "== $triple: machine, C library, glibc floor"
failures=0
check() { # file libc
  local file=$1 libc=$2 got needed max
  got=$(readelf --file-header "$file" | sed -n 's/^ *Machine: *//p')
  needed=$(readelf --dynamic "$file" | grep -o 'Shared library: \[[^]]*\]' | sed 's/Shared library: //' | tr '\n' ' ')
  # (|| true: a musl binary has no GLIBC_ versions, and grep then fails.)
  max=$(readelf --dyn-syms --wide "$file" | { grep -o 'GLIBC_[0-9.]*' || true; } | sed 's/GLIBC_//' | sort -t. -k1,1n -k2,2n | tail -n 1)
  printf '%-48s %-30s needs %s%s\n' "$file" "$got" "$needed" "${max:+(GLIBC_$max)}"
  [ "$got" = "$machine" ] || {
    echo "FAIL: $file is for $got, not $machine"
    failures=$((failures + 1))
  }
  # jemalloc stays inside: no defined dynamic symbol of it (`je_`, or a
  # prefix: `_vmem_je_` ours, `_rjem_` tikv-jemalloc-sys's).
  jemalloc=$(readelf --dyn-syms --wide "$file" | awk '$7 != "UND" { print $8 }' | { grep -E '^(_?je_|_rjem_|_vmem_je_)' || true; })
  if [ -n "$jemalloc" ]; then
    echo "FAIL: $file exports jemalloc symbols: $(echo "$jemalloc" | head -n 5 | tr '\n' ' ')"
    failures=$((failures + 1))
  fi
  if [ "$libc" = gnu ]; then
    case "$needed" in *libc.so.6*) ;; *)
      echo "FAIL: $file does not link glibc"
      failures=$((failures + 1))
      ;;
    esac
    if [ "$(printf '%s\n2.17\n' "$max" | sort -t. -k1,1n -k2,2n | tail -n 1)" != 2.17 ]; then
      echo "FAIL: $file needs GLIBC_$max, more than 2.17"
      failures=$((failures + 1))
    fi
  else
    # musl's C library has the soname libc.so (glibc's is libc.so.6).
    case "$needed" in *"[libc.so]"*) ;; *)
      echo "FAIL: $file does not link musl"
      failures=$((failures + 1))
      ;;
    esac
    if [ -n "$max" ]; then
      echo "FAIL: $file has glibc symbol versions"
      failures=$((failures + 1))
    fi
  fi
}
libc=${triple##*-}
check "npm/$npm/vmem.$npm.node" "$libc"
if [ "$libc" = gnu ]; then check "$dist/libvmem.so" gnu; fi
[ "$failures" = 0 ]

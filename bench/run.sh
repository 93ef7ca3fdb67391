#!/usr/bin/env bash
# `npm run bench`: builds what it needs, runs the C yardstick (bench/vmem_bench.c)
# on our libvmem.so, memkind's PMEM kind and the process heap (glibc, and
# jemalloc 5.3 via LD_PRELOAD) in alternating rounds, runs the JavaScript
# benchmark, and writes the medians and ratios to bench/RESULTS.md and
# bench/ratios.svg. Benchmarks are not tests: nothing here fails on a slow
# machine. BENCH_ROUNDS (default 3), BENCH_DIR (default /dev/shm) and
# BENCH_DISK_DIR (default the OS temp dir) tune it.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${BENCH_ROUNDS:-3}
dir=${BENCH_DIR:-/dev/shm}
disk=${BENCH_DISK_DIR:-${TMPDIR:-/tmp}}
out=bench/out
rm -rf "$out" && mkdir -p "$out/raw"

jemalloc_so=$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -n 1 || true)
if { [ ! -e /usr/include/memkind.h ] || [ -z "$jemalloc_so" ]; } && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== installing the peers: libmemkind-dev, libjemalloc-dev"
  apt-get update -qq && apt-get install -y -qq libmemkind-dev libjemalloc-dev >/dev/null
  jemalloc_so=$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -n 1 || true)
fi

echo "== building: libvmem.so, the addon, the yardstick"
cargo build --release -p vmem-ffi --quiet
npm run build --silent
cc -O2 -DBACKEND_VMEM -I crates/vmem-ffi/include -o "$out/bench_vmem" bench/vmem_bench.c \
  -L target/release -Wl,-rpath,"$PWD/target/release" -lvmem -lpthread
cc -O2 -DBACKEND_SYSTEM -o "$out/bench_system" bench/vmem_bench.c -lpthread
cc -O2 -o "$out/libvmem_create" bench/libvmem-create.c
have_memkind=0
if [ -e /usr/include/memkind.h ] && cc -O2 -DBACKEND_MEMKIND -o "$out/bench_memkind" bench/vmem_bench.c -lmemkind -lpthread; then
  have_memkind=1
fi
# libvmem.so.1 is what the binary asks for: make the soname resolvable.
ln -sf libvmem.so target/release/libvmem.so.1

run() { # backend round command...
  local backend=$1 round=$2
  shift 2
  "$@" >"$out/raw/$backend.$round.txt" 2>"$out/raw/$backend.$round.err" || echo "crashed $?" >>"$out/raw/$backend.$round.txt"
}

for round in $(seq 1 "$rounds"); do
  echo "== round $round of $rounds: C yardstick"
  run vmem "$round" "$out/bench_vmem" "$dir" 2
  BENCH_ONLY=create run vmem_disk "$round" "$out/bench_vmem" "$disk" 2
  run libvmem_syscalls "$round" "$out/libvmem_create" "$dir"
  run libvmem_syscalls_disk "$round" "$out/libvmem_create" "$disk"
  run glibc "$round" "$out/bench_system" "$dir" 2
  if [ -n "$jemalloc_so" ]; then
    LD_PRELOAD=$jemalloc_so run jemalloc "$round" "$out/bench_system" "$dir" 2
  fi
  if [ "$have_memkind" = 1 ]; then
    # memkind runs each part alone: one crash loses only that part.
    for part in create pair batch fill; do
      BENCH_ONLY=$part run "memkind_$part" "$round" "$out/bench_memkind" "$dir" 2
    done
    BENCH_ONLY=create run memkind_disk "$round" "$out/bench_memkind" "$disk" 2
  fi
done

echo "== JavaScript: pool views against Buffer.allocUnsafe; V8 heap growth"
node --expose-gc bench/js-bench.mjs "$rounds" "$dir" >"$out/js.json"

node bench/report.mjs "$out" "$rounds"

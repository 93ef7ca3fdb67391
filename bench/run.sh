#!/usr/bin/env bash
# `npm run bench`: builds what it needs, runs the C yardstick (bench/vmem_bench.c)
# on our libvmem.so, the process heaps (glibc; jemalloc, mimalloc and tcmalloc
# via LD_PRELOAD) and a mimalloc arena over a pool file, in alternating rounds
# (each round starts with another backend), replays libvmem's create for the
# create rows (and memkind's PMEM kind), runs the JavaScript benchmark, and
# writes the medians, ratios and spreads to bench/RESULTS.md, bench/ratios.svg
# and the README table. Benchmarks are not tests: nothing here fails on a slow
# machine, and a peer that cannot be installed or built says "n/a".
# BENCH_ROUNDS (default 9, about two minutes; a 64 B pair's round-to-round
# spread on a shared host is over 1.5x, so medians need more than a few),
# BENCH_DIR (default /dev/shm) and BENCH_DISK_DIR (default the OS temp dir)
# tune it.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${BENCH_ROUNDS:-9}
dir=${BENCH_DIR:-/dev/shm}
disk=${BENCH_DISK_DIR:-${TMPDIR:-/tmp}}
out=bench/out
rm -rf "$out" && mkdir -p "$out/raw"
# shellcheck source=bench/peers.sh
source bench/peers.sh

echo "== building: libvmem.so, the addon, the yardstick"
cargo build --release -p vmem-ffi --quiet
npm run build --silent
cc -O2 -DBACKEND_VMEM -I crates/vmem-ffi/include -o "$out/bench_vmem" bench/vmem_bench.c \
  -L target/release -Wl,-rpath,"$PWD/target/release" -lvmem -lpthread
cc -O2 -DBACKEND_SYSTEM -o "$out/bench_system" bench/vmem_bench.c -lpthread
cc -O2 -o "$out/libvmem_create" bench/libvmem-create.c
have_arena=0
if [ "$have_mimalloc_h" = 1 ] && cc -O2 -DBACKEND_MIMALLOC -o "$out/bench_mimalloc" bench/vmem_bench.c -lmimalloc -lpthread; then
  have_arena=1
fi
have_memkind=0
if [ "$have_memkind_h" = 1 ] && cc -O2 -DBACKEND_MEMKIND -o "$out/bench_memkind" bench/vmem_bench.c -lmemkind -lpthread; then
  have_memkind=1
fi
# libvmem.so.1 is what the binary asks for: make the soname resolvable.
ln -sf libvmem.so target/release/libvmem.so.1

run() { # backend round command...
  local backend=$1 round=$2
  shift 2
  "$@" >"$out/raw/$backend.$round.txt" 2>"$out/raw/$backend.$round.err" || echo "crashed $?" >>"$out/raw/$backend.$round.txt"
}

# The heaps are timed on pairs and batches only: they never fill, and have
# nothing to create.
backends=(vmem glibc)
[ -n "$jemalloc_so" ] && backends+=(jemalloc)
[ -n "$mimalloc_so" ] && backends+=(mimalloc)
[ -n "$tcmalloc_so" ] && backends+=(tcmalloc)
[ "$have_arena" = 1 ] && backends+=(mimalloc_arena)
backends+=(create)
run_backend() { # backend round
  local round=$2
  case $1 in
    vmem) run vmem "$round" "$out/bench_vmem" "$dir" 2 ;;
    glibc) BENCH_ONLY="pair batch" run glibc "$round" "$out/bench_system" "$dir" 2 ;;
    jemalloc) BENCH_ONLY="pair batch" LD_PRELOAD=$jemalloc_so run jemalloc "$round" "$out/bench_system" "$dir" 2 ;;
    mimalloc) BENCH_ONLY="pair batch" LD_PRELOAD=$mimalloc_so run mimalloc "$round" "$out/bench_system" "$dir" 2 ;;
    tcmalloc) BENCH_ONLY="pair batch" LD_PRELOAD=$tcmalloc_so run tcmalloc "$round" "$out/bench_system" "$dir" 2 ;;
    mimalloc_arena) BENCH_ONLY="pair batch fill" run mimalloc_arena "$round" "$out/bench_mimalloc" "$dir" 2 ;;
    create)
      BENCH_ONLY=create run vmem_disk "$round" "$out/bench_vmem" "$disk" 2
      run libvmem_syscalls "$round" "$out/libvmem_create" "$dir"
      run libvmem_syscalls_disk "$round" "$out/libvmem_create" "$disk"
      if [ "$have_memkind" = 1 ]; then
        BENCH_ONLY=create run memkind "$round" "$out/bench_memkind" "$dir" 2
        BENCH_ONLY=create run memkind_disk "$round" "$out/bench_memkind" "$disk" 2
      fi
      ;;
  esac
}

for round in $(seq 1 "$rounds"); do
  echo "== round $round of $rounds: C yardstick"
  for i in "${!backends[@]}"; do
    run_backend "${backends[$(((i + round) % ${#backends[@]}))]}" "$round"
  done
done

echo "== JavaScript: pool views against @thi.ng/malloc and Buffer.allocUnsafe; V8 heap growth"
node --expose-gc bench/js-bench.mjs "$rounds" "$dir" >"$out/js.json"

node bench/report.mjs "$out" "$rounds"

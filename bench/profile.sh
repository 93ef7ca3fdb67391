#!/usr/bin/env bash
# `npm run bench:profile`: callgrind's instruction counts per malloc+touch+free
# pair (64 B, 4 KiB, 64 KiB, 1 MiB) and per operation of the single-thread
# batches, for vmem (libvmem.so) and the peers of `npm run bench`, written to
# bench/PROFILE.md and the README's profile table.
# On a loaded machine these counts hold still where times do not. Under
# callgrind vmem runs its real paths (only the heap-checking Valgrind tools
# get the paths that describe blocks to them: crates/vmem/src/valgrind.rs).
# BENCH_PROFILE (default 20000, a multiple of 1000) is the number of pairs
# counted per size, and of operations per batch, after as many to warm up;
# BENCH_DIR (default /dev/shm) holds the pools.
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${BENCH_PROFILE:-20000}
dir=${BENCH_DIR:-/dev/shm}
out=bench/out/profile
rm -rf "$out" && mkdir -p "$out"
# shellcheck source=bench/peers.sh
source bench/peers.sh
if ! command -v valgrind >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
fi

echo "== building: libvmem.so, the yardstick"
cargo build --release -p vmem-ffi --quiet
ln -sf libvmem.so target/release/libvmem.so.1
cc -O2 -g -DBACKEND_VMEM -I crates/vmem-ffi/include -o "$out/bench_vmem" bench/vmem_bench.c \
  -L target/release -Wl,-rpath,"$PWD/target/release" -lvmem -lpthread
cc -O2 -g -DBACKEND_SYSTEM -o "$out/bench_system" bench/vmem_bench.c -lpthread
have_arena=0
if [ "$have_mimalloc_h" = 1 ] && cc -O2 -g -DBACKEND_MIMALLOC -o "$out/bench_mimalloc" bench/vmem_bench.c -lmimalloc -lpthread; then
  have_arena=1
fi

count() { # backend preload command: the preload (empty for none) is the process heap
  local backend=$1 preload=$2 command=$3
  echo "== callgrind: $backend"
  mkdir -p "$out/$backend"
  # LD_PRELOAD given to valgrind reaches the program after valgrind's own.
  LD_PRELOAD=$preload BENCH_PROFILE=$pairs valgrind --tool=callgrind --callgrind-out-file="$out/$backend/callgrind.out" \
    "$command" "$dir" >"$out/$backend/stdout" 2>"$out/$backend/stderr" ||
    echo "   $backend failed under callgrind: see $out/$backend/stderr"
}
count vmem "" "$out/bench_vmem"
[ -n "$jemalloc_so" ] && count jemalloc "$jemalloc_so" "$out/bench_system"
[ -n "$tcmalloc_so" ] && count tcmalloc "$tcmalloc_so" "$out/bench_system"
[ -n "$mimalloc_so" ] && count mimalloc "$mimalloc_so" "$out/bench_system"
count glibc "" "$out/bench_system"
[ "$have_arena" = 1 ] && count mimalloc_arena "" "$out/bench_mimalloc"

node bench/profile.mjs "$out" "$pairs"

#!/usr/bin/env bash
# Each thread's own ns per operation when two threads run the small batch at
# once (bench/two-threads.c), against one thread alone: vmem (the working
# tree's libvmem.so) on one pool and on a pool each, and the tcmalloc and
# mimalloc heaps, RUNS alternating runs of each, medians. A row whose
# "2 threads" is well above its "alone" is slowed by the other thread.
#
# usage: bench/two-threads.sh [RUNS]     (default 15; the peers are found, or
#        installed, as for npm run bench: bench/peers.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
dir=${BENCH_DIR:-/dev/shm}
out=bench/out/two-threads
mkdir -p "$out"
cargo build --release --quiet -p vmem-ffi
cc -O2 -DBACKEND_VMEM -I crates/vmem-ffi/include -o "$out/vmem" bench/two-threads.c \
  -L target/release -Wl,-rpath,"$PWD/target/release" -lvmem -lpthread
cc -O2 -o "$out/heap" bench/two-threads.c -lpthread
# shellcheck source=bench/peers.sh
source bench/peers.sh
tcmalloc=$tcmalloc_so
mimalloc=$mimalloc_so

# name | command prefix | binary | pools
contenders=("vmem, one pool||vmem|1" "vmem, a pool each||vmem|2")
[ -n "$tcmalloc" ] && contenders+=("tcmalloc heap|LD_PRELOAD=$tcmalloc|heap|1")
[ -n "$mimalloc" ] && contenders+=("mimalloc heap|LD_PRELOAD=$mimalloc|heap|1")

rm -f "$out"/*.times
for _ in $(seq 1 "$runs"); do
  for index in "${!contenders[@]}"; do
    IFS='|' read -r _ env binary pools <<<"${contenders[$index]}"
    env $env "$out/$binary" "$dir" 1 "$pools" >>"$out/$index.alone.times"
    # Both threads' figures count: each is one thread beside the other.
    env $env "$out/$binary" "$dir" 2 "$pools" | tr ' ' '\n' >>"$out/$index.pair.times"
  done
done
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }'; }
echo "ns per operation, medians of $runs runs | alone | 2 threads, each | ratio"
for index in "${!contenders[@]}"; do
  name=${contenders[$index]%%|*}
  alone=$(median "$out/$index.alone.times") pair=$(median "$out/$index.pair.times")
  echo "$name | $alone | $pair | $(awk -v a="$alone" -v p="$pair" 'BEGIN { printf "%.2f", p / a }')"
done

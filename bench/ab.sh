#!/usr/bin/env bash
# Old against new on the hot path: builds libvmem.so at git revision REV (in a
# scratch worktree) and from the working tree, then runs bench/ab-pairs.c on
# both in alternation and prints the fastest run of each, per row, with the
# ratio new ÷ old. Alternating many short runs and keeping the fastest is what
# survives a loaded machine; on a quiet one, fewer runs do.
#
# usage: bench/ab.sh REV [RUNS]      (e.g. bench/ab.sh HEAD~5 15)
# BENCH_DIR (default /dev/shm) is where the pools live; VMEM_AB_TARGET is
# where the old revision builds.
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?usage: bench/ab.sh REV [RUNS]}
runs=${2:-15}
# shellcheck source=bench/ab-build.sh
source bench/ab-build.sh

echo "row | $rev ns | working tree ns | new ÷ old"
for row in "pair 64 B:64" "pair 4 KiB:4096" "pair 64 KiB:65536" "pair 1 MiB:1048576" "batch 1000 x 8-512 B:0"; do
  name=${row%%:*} size=${row##*:}
  best_old=1e30 best_new=1e30
  for _ in $(seq 1 "$runs"); do
    for side in old new; do
      ns=$(LD_LIBRARY_PATH="$out/$side" "$out/ab-pairs" "$dir" "$size" 1000000 3 2>/dev/null)
      if [ "$side" = old ]; then best_old=$(awk -v a="$best_old" -v b="$ns" 'BEGIN { print (b < a) ? b : a }'); fi
      if [ "$side" = new ]; then best_new=$(awk -v a="$best_new" -v b="$ns" 'BEGIN { print (b < a) ? b : a }'); fi
    done
  done
  awk -v n="$name" -v o="$best_old" -v w="$best_new" 'BEGIN { printf "%s | %.2f | %.2f | %.2f\n", n, o, w, w / o }'
done

#!/usr/bin/env bash
# Old against new on the hot path, as paired ratios: builds libvmem.so at git
# revision REV and from the working tree (as bench/ab.sh does), then runs
# bench/ab-pairs.c on both, back to back (the order alternating), PAIRS times
# per row, and prints the median of the new ÷ old ratios with their quartiles.
#
# Why pairs: this machine's speed moves in phases that last seconds, so the
# fastest of N runs of each side (bench/ab.sh) can catch one side in a fast
# phase and the other not; two runs of 0.1 s back to back share their phase.
# Comparing one change twice, the medians of 40 and of 300 pairs differed by
# 0.1 %; the fastest of 10 and of 20 runs (bench/ab.sh) by 4-7 %.
#
# usage: bench/ab-paired.sh REV [PAIRS]      (e.g. bench/ab-paired.sh HEAD~1 300)
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?usage: bench/ab-paired.sh REV [PAIRS]}
pairs=${2:-100}
# shellcheck source=bench/ab-build.sh
source bench/ab-build.sh

run() { LD_LIBRARY_PATH="$out/$1" "$out/ab-pairs" "$dir" "$2" 300000 2; }
echo "row | new ÷ old, median | quartiles | pairs"
for row in "pair 64 B:64" "pair 4 KiB:4096" "pair 64 KiB:65536" "batch 1000 x 8-512 B:0"; do
  name=${row%%:*} size=${row##*:}
  for i in $(seq 1 "$pairs"); do
    if ((i % 2)); then
      old=$(run old "$size") new=$(run new "$size")
    else
      new=$(run new "$size") old=$(run old "$size")
    fi
    awk -v o="$old" -v n="$new" 'BEGIN { print n / o }'
  done | sort -g | awk -v name="$name" '{ r[NR] = $1 } END {
    printf "%s | %.3f | %.3f-%.3f | %d\n", name, r[int((NR + 1) / 2)], r[int(NR / 4) + 1], r[int(3 * NR / 4)], NR }'
done

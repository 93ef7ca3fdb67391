#!/usr/bin/env bash
# Instructions per JavaScript malloc + write + free pair, counted by callgrind:
# steadier than times on a loaded machine (within about 3 % from run to run,
# where a timed A/B of two builds moves by 5-10 %). Counts Node.js running
# bench/js-instructions.mjs twice, with 100 000 and 300 000 pairs after the
# same warm-up, and divides the difference by 200 000; V8 runs single-threaded
# with fixed seeds and no address randomisation, so that its compilations
# repeat. Prints the median of RUNS counts for each build given.
#
# usage: bench/js-instructions.sh [SIZE] [INDEX.mjs ...]
#   SIZE (default 64) is the block size; each INDEX.mjs is a built package's
#   entry (default: this tree's, ./index.mjs, built by `npm run build`).
#   RUNS (default 3) counts per build; NODE_FLAGS, extra flags for node
#   (e.g. --max-inlined-bytecode-size-cumulative=4000 shows what V8's
#   inlining budget costs: a 64 B pair took 576 instructions with it, 922
#   without, as malloc stayed a call).
# e.g. compare against another revision's build in a worktree:
#   bench/js-instructions.sh 64 ./index.mjs /tmp/old/index.mjs
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-64}
shift || true
builds=("$@")
[ ${#builds[@]} -gt 0 ] || builds=("$PWD/index.mjs")
runs=${RUNS:-3}

count() { # entry pairs: every instruction of the process
  setarch -R valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    node ${NODE_FLAGS:+$NODE_FLAGS} --single-threaded --random-seed=1 --hash-seed=1 bench/js-instructions.mjs "$1" "$2" "$size" 2>&1 |
    awk '/I *refs:/ { gsub(",", "", $NF); print $NF }'
}

for build in "${builds[@]}"; do
  [ -f "$build" ] || { echo "no build at $build" >&2; exit 1; }
  entry=$(realpath "$build")
  per_pair=()
  for _ in $(seq 1 "$runs"); do
    low=$(count "$entry" 100000)
    high=$(count "$entry" 300000)
    per_pair+=($(((high - low) / 200000)))
  done
  median=$(printf '%s\n' "${per_pair[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p")
  echo "$build: $median instructions per $size B pair (runs: ${per_pair[*]})"
done

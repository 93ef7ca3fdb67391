#!/usr/bin/env bash
# Old against new in JavaScript: builds the addon and the TypeScript layer at
# git revision REV (in a scratch worktree that borrows this tree's
# node_modules) and from the working tree, then runs both in one process
# (bench/ab-js.mjs: js-workload.mjs's rows, alternating rounds), RUNS times.
# Prints per row the medians, new ÷ old and each side's ratio to the best
# other contender (@thi.ng/malloc, Buffer.allocUnsafe), all as medians of
# per-round ratios.
#
# usage: bench/ab-js.sh REV [RUNS]      (e.g. bench/ab-js.sh HEAD~5 3)
# BENCH_DIR (default /dev/shm) is where the pools live; VMEM_AB_TARGET is
# where the old revision's Rust code builds.
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?usage: bench/ab-js.sh REV [RUNS]}
runs=${2:-3}
dir=${BENCH_DIR:-/dev/shm}
out=bench/out/ab-js
old_tree=$out/tree
old_target=${VMEM_AB_TARGET:-${TMPDIR:-/tmp}/vmem-ab-target}
mkdir -p "$out"

echo "== building the addon at $rev and from the working tree"
git worktree remove --force "$old_tree" 2>/dev/null || rm -rf "$old_tree"
git worktree add --quiet --detach "$old_tree" "$rev"
trap 'git worktree remove --force "$old_tree" 2>/dev/null || true' EXIT
ln -s "$PWD/node_modules" "$old_tree/node_modules"
(cd "$old_tree" && CARGO_TARGET_DIR="$old_target" npx napi build --platform --release \
  --js binding.js --dts binding.d.ts >/dev/null && npx tsc -p tsconfig.build.json)
npm run build --silent >/dev/null
# One process runs both builds side by side (bench/ab-js.mjs): per-round
# ratios in one process hold still on a loaded host, where separate
# processes' times do not.
for run in $(seq 1 "$runs"); do
  echo "== run $run of $runs"
  node bench/ab-js.mjs "$PWD/$old_tree/index.mjs" "$PWD/index.mjs" 7 "$dir" "$rev"
done

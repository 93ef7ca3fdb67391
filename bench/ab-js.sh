#!/usr/bin/env bash
# Old against new in JavaScript: builds the addon and the TypeScript layer at
# git revision REV (in a scratch worktree that borrows this tree's
# node_modules) and runs this tree's bench/js-bench.mjs against both, in
# alternation, RUNS times each. Prints the median of every sample per row and
# side, new ÷ old, and each side's ratio to the best other contender
# (@thi.ng/malloc, Buffer.allocUnsafe) measured in the same runs.
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
# The same benchmark for both: it imports ../index.mjs next to itself.
cp bench/js-bench.mjs "$old_tree/bench/js-bench-ab.mjs"

for run in $(seq 1 "$runs"); do
  node --expose-gc "$old_tree/bench/js-bench-ab.mjs" 5 "$dir" >"$out/old.$run.json"
  node --expose-gc bench/js-bench.mjs 5 "$dir" >"$out/new.$run.json"
done

node - "$out" "$runs" "$rev" <<'EOF'
const fs = require('node:fs')
const [out, runs, rev] = process.argv.slice(2)
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[sorted.length >> 1]
}
const medians = (side) => {
  const rows = {}
  for (let run = 1; run <= Number(runs); run++) {
    const result = JSON.parse(fs.readFileSync(`${out}/${side}.${run}.json`, 'utf8'))
    for (const row of result.rows) {
      rows[row.key] ??= {}
      for (const [name, samples] of Object.entries(row.samples)) (rows[row.key][name] ??= []).push(...samples)
    }
  }
  for (const row of Object.values(rows)) for (const name of Object.keys(row)) row[name] = median(row[name])
  return rows
}
const old = medians('old')
const now = medians('new')
const best = (row) => Math.min(row.thing, row.buffer)
console.log(`row | ${rev} ns | working tree ns | new ÷ old | ${rev} ÷ best other | working tree ÷ best other`)
for (const key of Object.keys(now)) {
  const [o, n] = [old[key], now[key]]
  console.log(
    [key, o.vmem.toFixed(1), n.vmem.toFixed(1), (n.vmem / o.vmem).toFixed(2),
      (o.vmem / best(o)).toFixed(2), (n.vmem / best(n)).toFixed(2)].join(' | '),
  )
}
EOF

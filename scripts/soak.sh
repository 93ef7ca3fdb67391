#!/usr/bin/env bash
# Opt-in soak run, longer than CI's: ten times the model-based operations in
# Rust (10^7) and TypeScript (10^6), and the reliability suite three times.
# Not part of `npm test`. Seeds of failures are printed by proptest and
# fast-check; rerun with them to reproduce.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build --silent
VMEM_MODEL_CASES=${VMEM_MODEL_CASES:-2000} cargo test --release -p vmem-pool --test model -- --nocapture
for round in 1 2 3; do
  echo "== reliability, round $round"
  cargo test --release -p vmem-pool --test reliability
done
VMEM_MODEL_RUNS=${VMEM_MODEL_RUNS:-1000} npx ava --timeout=60m __test__/model.spec.ts

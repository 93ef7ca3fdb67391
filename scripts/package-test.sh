#!/usr/bin/env bash
# The npm packages as users get them: packs `vmem` (with the
# optionalDependencies the publish step adds) and this platform's binary
# package, installs both tarballs into an empty project with no cargo on PATH,
# and there: requires and imports the package (CommonJS and ESM), type-checks
# a strict TypeScript program that uses `using`, and runs it all on Node.js 20,
# 22 and 24. Checks that the licence files ship in every npm package and in
# the crates.
#
# By default it builds and tests this machine's package. To test a binary
# built elsewhere (scripts/test-platforms.sh does), set
#   VMEM_PACKAGE_TARGET  the npm/<target> whose vmem.<target>.node to use
#   VMEM_PACKAGE_NODE    the Node.js command to run it with (e.g. a qemu
#                        wrapper), instead of Node.js 20/22/24 here.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

echo "== licence files in every package"
for dir in . crates/vmem crates/vmem-ffi npm/*; do
  for file in LICENSE-MIT LICENSE-APACHE; do
    cmp -s "$file" "$dir/$file" || { echo "$dir/$file is missing or differs from ./$file"; exit 1; }
  done
done
for dir in . npm/*; do
  listed=$(cd "$dir" && npm pack --dry-run --ignore-scripts --json 2>/dev/null | node -e '
    const [pack] = JSON.parse(require("fs").readFileSync(0, "utf8"))
    console.log(pack.files.map((f) => f.path).join(" "))')
  for file in LICENSE-MIT LICENSE-APACHE; do
    case " $listed " in *" $file "*) ;; *) echo "npm pack of $dir leaves out $file"; exit 1 ;; esac
  done
done
# (Where cargo is, e.g. not in the workflow's Alpine containers.)
for crate in $(command -v cargo >/dev/null && echo vmem-pool vmem-ffi vmem-jemalloc-sys); do
  listed=$(cargo package --list --allow-dirty -p "$crate" 2>/dev/null | tr '\n' ' ')
  for file in LICENSE-MIT LICENSE-APACHE; do
    case " $listed " in *" $file "*) ;; *) echo "cargo package of $crate leaves out $file"; exit 1 ;; esac
  done
done

if [ -n "${VMEM_PACKAGE_TARGET:-}" ]; then
  target=$VMEM_PACKAGE_TARGET
  binary=npm/$target/vmem.$target.node
  npm run build:ts --silent
else
  npm run build --silent
  # glibc or musl, asked the way napi-rs's loader asks (no pipe that could
  # die of SIGPIPE under pipefail).
  libc=$(node -p 'process.report.getReport().header.glibcVersionRuntime ? "gnu" : "musl"')
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) target=linux-x64-$libc ;;
    Linux-aarch64) target=linux-arm64-$libc ;;
    Darwin-x86_64) target=darwin-x64 ;;
    Darwin-arm64) target=darwin-arm64 ;;
    FreeBSD-amd64) target=freebsd-x64 ;;
    *) echo "package test: no npm package for $(uname -s)-$(uname -m)"; exit 1 ;;
  esac
  binary=vmem.$target.node
fi
# npm's names for the package's platform, so a foreign package installs.
platform=$(node -p 'JSON.stringify(require("./npm/'"$target"'/package.json"))' | node -e '
  const p = JSON.parse(require("fs").readFileSync(0, "utf8"))
  const flags = [`--os=${p.os[0]}`, `--cpu=${p.cpu[0]}`]
  if (p.libc) flags.push(`--libc=${p.libc[0]}`)
  // npm refuses a tarball named on the command line for another cpu anyway.
  if (p.cpu[0] !== process.arch) flags.push("--force")
  console.log(flags.join(" "))')

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tarballs" "$work/stage" "$work/app"

echo "== packing vmem-$target"
cp -r "npm/$target" "$work/platform"
cp "$binary" "$work/platform/"
(cd "$work/platform" && npm pack --silent --pack-destination "$work/tarballs" >/dev/null)

echo "== packing vmem"
cp package.json README.md CHANGELOG.md LICENSE-MIT LICENSE-APACHE index.js index.d.ts index.mjs index.d.mts binding.js \
  binding.d.ts hot.d.ts "$work/stage/"
mkdir -p "$work/stage/lib"
cp lib/*.js lib/*.d.ts "$work/stage/lib/"
node -e '
  const fs = require("fs")
  const pkg = JSON.parse(fs.readFileSync(process.argv[1], "utf8"))
  pkg.optionalDependencies = {}
  for (const dir of fs.readdirSync("npm")) {
    const sub = JSON.parse(fs.readFileSync(`npm/${dir}/package.json`, "utf8"))
    pkg.optionalDependencies[sub.name] = sub.version
  }
  delete pkg.devDependencies
  delete pkg.scripts
  fs.writeFileSync(process.argv[1], JSON.stringify(pkg, null, 2))
' "$work/stage/package.json"
(cd "$work/stage" && npm pack --silent --pack-destination "$work/tarballs" >/dev/null)
if tar -tzf "$work"/tarballs/vmem-0*.tgz | grep '\.node$' >/dev/null; then
  echo "the main package must not carry a binary"
  exit 1
fi
for tarball in "$work"/tarballs/*.tgz; do
  listed=" $(tar -tzf "$tarball" | tr '\n' ' ')"
  for file in LICENSE-MIT LICENSE-APACHE; do
    case "$listed" in *" package/$file "*) ;; *) echo "$(basename "$tarball") lacks $file"; exit 1 ;; esac
  done
done

echo "== installing both tarballs into an empty project, without cargo"
no_cargo_path=$(echo "$PATH" | tr ':' '\n' | grep -v -e cargo -e rustup | paste -sd:)
cd "$work/app"
export PATH=$no_cargo_path
if command -v cargo >/dev/null; then echo "cargo is still on PATH"; exit 1; fi
npm init -y >/dev/null
# shellcheck disable=SC2086 # $platform is several flags
npm install --no-audit --no-fund --loglevel=error $platform "$work"/tarballs/*.tgz
test -f "node_modules/vmem-$target/vmem.$target.node"

cat > use.cjs <<'JS'
const { Pool, VmemError, MIN_POOL } = require('vmem')
const pool = Pool.create(require('os').tmpdir(), MIN_POOL)
const view = pool.strdup('installed')
if (view.length !== 10 || !pool.check()) throw new Error('pool misbehaves')
pool.delete()
try { Pool.create('/no/such/dir', MIN_POOL) } catch (err) { if (!(err instanceof VmemError)) throw err }
console.log(`cjs ok on ${process.arch} ${process.version}`)
JS
cat > use.mjs <<'JS'
import { Pool, MIN_POOL } from 'vmem'
import vmem from 'vmem'
import * as esm from 'vmem'
import { createRequire } from 'module'
// index.d.mts promises every CommonJS export under `import`: hold index.mjs to it.
for (const name of Object.keys(createRequire(import.meta.url)('vmem'))) {
  if (!(name in esm)) throw new Error(`${name} is not exported to ESM`)
}
const pool = Pool.create('/dev/shm', MIN_POOL)
pool.malloc(64).fill(1)
if (vmem.Pool !== Pool) throw new Error('default and named exports differ')
pool.delete()
console.log(`esm ok on ${process.arch} ${process.version}`)
JS
cat > use.ts <<'TS'
import { Pool, VmemError, MIN_POOL, type PoolStats } from 'vmem'

function main(): number {
  using pool = Pool.create('/dev/shm', MIN_POOL)
  const view: Uint8Array = pool.malloc(128)
  view.fill(7)
  const stats: PoolStats = pool.stats()
  try {
    pool.free(view.subarray(1))
  } catch (err) {
    if (err instanceof VmemError) return stats.allocated > 0 ? 0 : 1
  }
  return 1
}
process.exit(main())
TS
cat > tsconfig.json <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022",
    "lib": ["ES2022", "ESNext.Disposable"],
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "types": ["node"],
    "typeRoots": ["ROOT/node_modules/@types"],
    "outDir": "dist"
  },
  "files": ["use.ts"]
}
JSON
sed -i "s|ROOT|$root|" tsconfig.json
echo "== tsc --strict against the installed typings"
"$root/node_modules/.bin/tsc" -p tsconfig.json

if [ -n "${VMEM_PACKAGE_NODE:-}" ]; then
  "$VMEM_PACKAGE_NODE" use.cjs
  "$VMEM_PACKAGE_NODE" use.mjs
  "$VMEM_PACKAGE_NODE" dist/use.js && echo "typescript ok on $("$VMEM_PACKAGE_NODE" -p 'process.arch + " " + process.version')"
  echo "package: 3 passed, 0 failed"
  exit 0
fi
for major in 20 22 24; do
  if [ "$major" = "$(node -p 'process.versions.node.split(".")[0]')" ]; then
    node=$(command -v node)
  else
    node=$(PATH=$no_cargo_path:$(dirname "$(command -v npm)") "$root/scripts/node-versions.sh" "$major")
  fi
  [ -n "$node" ] || { echo "no Node.js $major here, skipped"; continue; }
  "$node" use.cjs
  "$node" use.mjs
  "$node" dist/use.js && echo "typescript ok on $("$node" --version)"
done
echo "package: 3 passed, 0 failed"

# Sourced by bench/ab.sh and bench/ab-paired.sh: builds libvmem.so at git
# revision $rev (in a scratch worktree under bench/out, so the workspace's
# .cargo/config.toml applies to it too) into $out/old, and from the working
# tree into $out/new, and bench/ab-pairs.c against them as $out/ab-pairs.
dir=${BENCH_DIR:-/dev/shm}
out=bench/out/ab
old_tree=$out/tree
# The old build's own target directory, kept between runs (bench/run.sh
# empties bench/out).
old_target=${VMEM_AB_TARGET:-${TMPDIR:-/tmp}/vmem-ab-target}
mkdir -p "$out/old" "$out/new"

echo "== building libvmem.so at $rev and from the working tree"
git worktree remove --force "$old_tree" 2>/dev/null || rm -rf "$old_tree"
git worktree add --quiet --detach "$old_tree" "$rev"
(cd "$old_tree" && CARGO_TARGET_DIR="$old_target" cargo build --release --quiet -p vmem-ffi)
cp "$old_target/release/libvmem.so" "$out/old/libvmem.so.1"
git worktree remove --force "$old_tree"
cargo build --release --quiet -p vmem-ffi
cp target/release/libvmem.so "$out/new/libvmem.so.1"
cc -O2 -I crates/vmem-ffi/include -o "$out/ab-pairs" bench/ab-pairs.c -L "$out/new" -l:libvmem.so.1

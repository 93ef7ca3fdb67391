#!/usr/bin/env bash
# Capacity under churn (issue #11): builds crates/vmem-ffi/tests/c/capacity.c
# against this project's libvmem.so and against the original libvmem 1.8,
# runs both (pools in /dev/shm, or the directory given as the first argument)
# and prints the markdown table vmem | libvmem 1.8 | goal.
#
# The original library: $LIBVMEM18 when set (an install prefix with
# include/libvmem.h and lib/ or lib/<triplet>/libvmem.so); else, as Debian 11
# was the last release to ship it, its libvmem1 and libvmem-dev packages are
# fetched with apt into target/libvmem-1.8 (apt's state in a scratch
# directory: nothing is installed on the system). Without either, the
# libvmem column says "not installed".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dir=${1:-/dev/shm}
source=crates/vmem-ffi/tests/c/capacity.c
cflags=(-std=c11 -D_GNU_SOURCE -Wall -Wextra -O2 -pthread)

nice -n 5 cargo build --release -p vmem-ffi --quiet || exit 1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Ours, installed under its soname as a user would have it.
mkdir -p "$out/vmem"
cp target/release/libvmem.so "$out/vmem/libvmem.so.1"
ln -s libvmem.so.1 "$out/vmem/libvmem.so"
cc "${cflags[@]}" -I crates/vmem-ffi/include -o "$out/capacity-vmem" "$source" -L "$out/vmem" -lvmem || exit 1
echo "vmem: $source" >&2
LD_LIBRARY_PATH="$out/vmem" "$out/capacity-vmem" "$dir" | tee "$out/vmem.txt" >&2

# Debian 11's libvmem 1.8 packages, unpacked under $1; prints the prefix.
fetch_libvmem18() {
  local dest=$1 state uri arch
  if [ ! -f "$dest/usr/include/libvmem.h" ]; then
    command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || return 1
    # The archive this machine's apt already uses for its main release.
    uri=$(apt-get indextargets --format '$(REPO_URI)' 'Identifier: Packages' 2>/dev/null | grep -v -m 1 security) || return 1
    arch=$(dpkg --print-architecture)
    state=$out/apt
    mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$dest"
    echo "deb ${uri%/} bullseye main" >"$state/sources.list"
    local opts=(-o Dir::Etc::SourceList="$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o Dir::State::Lists="$state/lists" -o Dir::Cache="$state/cache" -o APT::Architecture="$arch" -o APT::Sandbox::User=root)
    echo "libvmem 1.8: fetching Debian 11's libvmem1 and libvmem-dev" >&2
    apt-get "${opts[@]}" -qq update >&2 || return 1
    (cd "$state" && apt-get "${opts[@]}" -qq download libvmem1 libvmem-dev 2>/dev/null) || return 1
    for deb in "$state"/*.deb; do dpkg-deb -x "$deb" "$dest" || return 1; done
  fi
  echo "$dest/usr"
}

# The original: its prefix, then its library directory.
prefix=${LIBVMEM18:-}
if [ -z "$prefix" ]; then
  prefix=$(fetch_libvmem18 "$root/target/libvmem-1.8") || prefix=
fi
built=
if [ -n "$prefix" ]; then
  libdir=$(dirname "$(find "$prefix/lib" -name 'libvmem.so' 2>/dev/null | head -n 1)")
  if cc "${cflags[@]}" -I "$prefix/include" -o "$out/capacity-libvmem" "$source" \
    -L "$libdir" -Wl,-rpath,"$libdir" -lvmem; then
    built=yes
    echo "libvmem 1.8 ($libdir): $source" >&2
    "$out/capacity-libvmem" "$dir" | tee "$out/libvmem.txt" >&2
  fi
fi
[ -n "$built" ] || echo "libvmem 1.8: not installed (set LIBVMEM18 to its install prefix)" >&2

# The figure of row `key` in a run's output, or what stands in for it.
figure() { # file, key, placeholder
  [ -f "$1" ] || { echo "$3"; return; }
  local line
  line=$(grep "^$2: " "$1") || { echo "did not run"; return; }
  line=${line#"$2": }
  echo "${line%% (goal*}"
}

echo
echo "| after ..., with every block freed again (64 MiB pools) | vmem | libvmem 1.8 | goal |"
echo "| --- | --- | --- | --- |"
while IFS='|' read -r key label goal; do
  echo "| $label | $(figure "$out/vmem.txt" "$key" "did not run") | $(figure "$out/libvmem.txt" "$key" "not installed") | $goal |"
done <<'EOF'
grow40|malloc(32 MiB), free → malloc(40 MiB)|ok
largest|largest single block, by binary search on a fresh pool (each probe freed)|≥ 93.7 %
largest-half|largest single block of a pool half filled (64 B, 4 KiB, 64 KiB blocks) and emptied|≥ 93.7 %
interleaved-4k|20000 B blocks interleaved with 1 MiB-aligned 1 MiB blocks until full → 4 KiB fill|≥ 99 %
interleaved-1m|… then 1 MiB fill|≥ 98 %
idle-1m|7 threads at once each freed 1/8 of the pool in 64 B objects (shuffled) and stay idle → an 8th thread's 1 MiB fill|≥ 95 %
churn-1m|mixed churn (80 % ≤ 512 B, 18 % ≤ 16 KiB, 2 % ≤ 512 KiB) on 4 threads, joined → 1 MiB fill|≥ 98 %
aligned32m|aligned_alloc(32 MiB alignment, 4096 B) until it fails, freed → 4 KiB fill|≥ 99 %
EOF

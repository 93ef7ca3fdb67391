#!/usr/bin/env bash
# Sourced by bench/run.sh and bench/profile.sh: finds the allocators vmem is
# compared with, installing the missing ones from Debian's packages when run
# as root (apt-get update first), one package at a time so that one that
# cannot be had leaves only its own column "n/a". Sets jemalloc_so,
# mimalloc_so, tcmalloc_so (libraries for LD_PRELOAD; empty when missing),
# have_mimalloc_h and have_memkind_h (1 when the headers are there).
lib_of() { ls /usr/lib/*/"$1" 2>/dev/null | head -n 1 || true; }

find_peers() {
  jemalloc_so=$(lib_of libjemalloc.so.2)
  mimalloc_so=$(lib_of libmimalloc.so.2)
  tcmalloc_so=$(lib_of libtcmalloc_minimal.so.4)
  have_mimalloc_h=0
  [ -e /usr/include/mimalloc.h ] && have_mimalloc_h=1
  have_memkind_h=0
  [ -e /usr/include/memkind.h ] && have_memkind_h=1
  return 0
}

find_peers
if { [ -z "$jemalloc_so" ] || [ -z "$mimalloc_so" ] || [ -z "$tcmalloc_so" ] || [ "$have_mimalloc_h" = 0 ] ||
  [ "$have_memkind_h" = 0 ]; } && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== installing the peers: libjemalloc-dev, libmimalloc-dev, libtcmalloc-minimal4, libmemkind-dev"
  apt-get update -qq || true
  for package in libjemalloc-dev libmimalloc-dev libtcmalloc-minimal4 libmemkind-dev; do
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null || echo "   $package not installed: its column says n/a"
  done
  find_peers
fi

#!/usr/bin/env bash
# Installs libvmem (scripts/install-c.sh) into a scratch prefix, compiles
# each C test here with the system cc against it, and runs it; some again
# under valgrind. Ends with "c: N passed, M failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
cd "$root"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Install into a scratch prefix the way a user would (scripts/install-c.sh
# builds what it needs): the tests build against that tree.
scripts/install-c.sh "$out" >/dev/null || exit 1
lib="$out/lib"
cflags=(-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g -I "$out/include")

passed=0 failed=0
threads_find_caches="through the pools' thread slots"
# grep reads all its input (no -q) in these pipes: with pipefail, a grep -q
# that stops at its match can kill the writer with SIGPIPE and fail the
# pipe (58 of 200 runs of `ldd --version | grep -qi glibc` did).
if ldd --version 2>&1 | grep -i 'glibc\|gnu libc' >/dev/null && [[ $(uname -m) =~ ^(x86_64|aarch64)$ ]]; then
  threads_find_caches="first through a static thread-local"
fi
run() { # name, command...
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    echo "FAILED: $name"
    failed=$((failed + 1))
  fi
}

# Runs a test program with the level 2 log on stderr; passes when the
# program does and its log says `expected`.
passes_and_logs() { # expected log text, program
  local log
  log=$(env VMEM_LOG_LEVEL=2 LD_LIBRARY_PATH="$lib" "$2" 2>&1) || { echo "$log"; return 1; }
  grep -q "$1" <<<"$log" || { echo "$log"; echo "the log does not say: $1"; return 1; }
  grep '^ok' <<<"$log"
}

for source in "$here"/*.c; do
  name=$(basename "$source" .c)
  # dlopen.c loads the library itself, after start: not linked against it.
  link=(-L "$lib" -lvmem -lpthread)
  [ "$name" = dlopen ] && link=(-ldl -lpthread)
  if ! cc "${cflags[@]}" -o "$out/$name" "$source" "${link[@]}"; then
    echo "FAILED: $name does not compile"
    failed=$((failed + 1))
    continue
  fi
  case $name in
    log_file) run "$name" env VMEM_LOG_LEVEL=2 VMEM_LOG_FILE="$out/vmem.log-" LD_LIBRARY_PATH="$lib" "$out/$name" ;;
    fds) run "$name" env VMEM_LOG_LEVEL=4 VMEM_LOG_FILE="$out/fds.log" LD_LIBRARY_PATH="$lib" "$out/$name" ;;
    # Loaded with dlopen, the library's thread-locals are not at a static
    # offset: threads find their caches through the slots. Linked at start,
    # they are (glibc; elsewhere the slots serve every thread).
    dlopen) run "$name" passes_and_logs "through the pools' thread slots" "$out/$name" ;;
    threads) run "$name" passes_and_logs "$threads_find_caches" "$out/$name" ;;
    *) run "$name" env LD_LIBRARY_PATH="$lib" "$out/$name" ;;
  esac
done

# libvmem.so exports the libvmem API and nothing else, each function as
# vmem_*@@LIBVMEM_1.0 like PMDK's libvmem; a program linked against it needs
# that version and starts without "no version information available".
expected="vmem_aligned_alloc vmem_calloc vmem_check vmem_check_version vmem_create vmem_create_in_region vmem_delete vmem_errormsg vmem_free vmem_malloc vmem_malloc_usable_size vmem_realloc vmem_set_funcs vmem_stats_print vmem_strdup vmem_wcsdup"
expected_versioned=$(printf '%s@@LIBVMEM_1.0\n' $expected | paste -sd' ')
exported=$(readelf --dyn-syms -W "$lib/libvmem.so.1" | awk '$7 != "UND" && $8 ~ /^[a-z_]/ { print $8 }' | sort | paste -sd' ')
if [ "$exported" = "$expected_versioned" ]; then
  echo "ok exports: the 16 libvmem functions only, as vmem_*@@LIBVMEM_1.0"
  passed=$((passed + 1))
else
  echo "FAILED: exports: $exported"
  failed=$((failed + 1))
fi
# Thread-locals stay dynamic (see dlopen.c): no initial-exec TLS, which
# would mark the library STATIC_TLS.
if ! readelf -d -W "$lib/libvmem.so.1" | grep STATIC_TLS >/dev/null; then
  echo "ok tls: no static TLS, so dlopen after start always works"
  passed=$((passed + 1))
else
  echo "FAILED: tls: libvmem.so needs static TLS"
  failed=$((failed + 1))
fi
needed=$(readelf -V -W "$out/api" | sed -n '/Version needs section/,$p' | grep -c 'Name: LIBVMEM_1.0')
started=$(LD_LIBRARY_PATH="$lib" "$out/api" 2>&1 >/dev/null)
if [ "$needed" -ge 1 ] && ! grep -q 'no version information' <<<"$started"; then
  echo "ok versions: a program needs LIBVMEM_1.0 and starts without a version warning"
  passed=$((passed + 1))
else
  echo "FAILED: versions: needs LIBVMEM_1.0: $needed; start: $started"
  failed=$((failed + 1))
fi

# The C examples build and run too.
for source in "$root"/examples/c/*.c; do
  name=example_$(basename "$source" .c)
  if cc "${cflags[@]}" -o "$out/$name" "$source" -L "$lib" -lvmem -lpthread; then
    run "$name" env LD_LIBRARY_PATH="$lib" VMEM_LOG_FILE="$out/$name.log" "$out/$name" /dev/shm
  else
    echo "FAILED: $name does not compile"
    failed=$((failed + 1))
  fi
done

# Memcheck sees the library's own heap use: no invalid access, no leak, and
# no block "possibly lost" (the library's state is held by its start).
if command -v valgrind >/dev/null; then
  for name in manpage_example set_funcs api threads; do
    run "valgrind $name" env LD_LIBRARY_PATH="$lib" valgrind -q --error-exitcode=99 \
      --leak-check=full --show-leak-kinds=definite,possible --errors-for-leak-kinds=definite,possible "$out/$name"
  done
  # Pool blocks are memcheck chunks: a use after free, an overrun into free
  # pool space and a leak are reported; a clean run of every call has none.
  memcheck_reports() { # mode, expected text: memcheck reports it
    local report
    report=$(env LD_LIBRARY_PATH="$lib" valgrind --leak-check=full --show-leak-kinds=definite \
      "$out/memcheck" "$1" 2>&1)
    if grep -q "$2" <<<"$report" && grep -q "main (memcheck.c" <<<"$report"; then
      echo "ok memcheck reports $1: $2"
    else
      echo "$report"
      return 1
    fi
  }
  run "memcheck use-after-free" memcheck_reports use-after-free "Invalid write of size 1"
  run "memcheck overrun" memcheck_reports overrun "Invalid write of size 1"
  run "memcheck leak" memcheck_reports leak "definitely lost"
  run "valgrind memcheck" env LD_LIBRARY_PATH="$lib" valgrind -q --error-exitcode=99 \
    --leak-check=full --show-leak-kinds=definite,possible --errors-for-leak-kinds=definite,possible "$out/memcheck"
  # Only the heap-checking tools get the paths that describe blocks to them:
  # under callgrind the pool runs its real paths, so profiles count those.
  callgrind_real_paths() {
    env LD_LIBRARY_PATH="$lib" valgrind -q --tool=callgrind --callgrind-out-file="$out/callgrind.out" \
      "$out/manpage_example" >/dev/null 2>&1 || return 1
    if grep -q vmem_malloc "$out/callgrind.out" && ! grep -q under_valgrind "$out/callgrind.out"; then
      echo "ok callgrind: the pool's real paths, not memcheck's"
    else
      grep under_valgrind "$out/callgrind.out"
      return 1
    fi
  }
  run "callgrind real paths" callgrind_real_paths
else
  echo "valgrind not installed: memcheck runs skipped"
fi

# The installed tree: the soname links, and pkg-config (as libvmem and as
# vmem) gives what a program needs to build and run.
links=$(cd "$lib" && echo "$(readlink libvmem.so) $(readlink libvmem.so.1)")
if [[ $links =~ ^libvmem.so.1\ libvmem.so.1.[0-9]+.[0-9]+$ ]] && [ -f "$lib/$(readlink "$lib/libvmem.so.1")" ]; then
  echo "ok install: libvmem.so -> $links"
  passed=$((passed + 1))
else
  echo "FAILED: install links: $links"
  failed=$((failed + 1))
fi
if command -v pkg-config >/dev/null; then
  for pc in libvmem vmem; do
    if cc -std=c11 -o "$out/pkgconfig_$pc" "$here/manpage_example.c" \
      $(PKG_CONFIG_PATH="$lib/pkgconfig" pkg-config --cflags --libs $pc); then
      run "pkg-config $pc" env LD_LIBRARY_PATH="$lib" "$out/pkgconfig_$pc"
    else
      echo "FAILED: pkg-config $pc build"
      failed=$((failed + 1))
    fi
  done
fi

# The manual pages render without a warning: libvmem(7), the two grouped
# pages of section 3, and a page for every function name.
manpages_render() {
  local page text
  for page in "$out"/share/man/man7/libvmem.7 "$out"/share/man/man3/vmem_create.3 "$out"/share/man/man3/vmem_malloc.3; do
    if command -v man >/dev/null; then
      text=$(MANWIDTH=80 man -l "$page" 2>&1) || return 1
    else
      text=$(groff -man -Tutf8 "$page" 2>&1) || return 1
    fi
    grep -q "^NAME" <<<"$text" || { echo "$page: $text"; return 1; }
    warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
    [ -z "$warnings" ] || { echo "$page: $warnings"; return 1; }
  done
  for name in $expected; do
    [ -f "$out/share/man/man3/$name.3" ] || { echo "no page for $name"; return 1; }
  done
  echo "ok man pages: libvmem(7), vmem_create(3), vmem_malloc(3) and a page per function"
}
if command -v groff >/dev/null; then
  run "man pages" manpages_render
else
  echo "groff not installed: man page check skipped"
fi

# The static library links too, with nothing but libc's own dependencies.
if cc "${cflags[@]}" -o "$out/manpage_static" "$here/manpage_example.c" "$lib/libvmem.a" -lpthread -ldl -lm; then
  run manpage_static "$out/manpage_static"
else
  echo "FAILED: static link"
  failed=$((failed + 1))
fi

echo "c: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

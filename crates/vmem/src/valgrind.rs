//! Valgrind client requests, so that memcheck sees pool blocks as it sees
//! `malloc`'s: a pool is a memcheck "mempool" whose memory is NOACCESS until
//! allocated, each block is a chunk (UNDEFINED when allocated, NOACCESS when
//! freed), and a block never freed while its pool lives is a leak.
//!
//! A client request is a magic instruction sequence that does nothing on a
//! real CPU and that Valgrind's JIT recognises (the sequences are those of
//! `valgrind.h`, written here as inline assembly for x86_64 and aarch64; on
//! other targets every request answers its default, as outside Valgrind).
//! Outside Valgrind the allocation paths pay one relaxed load and a branch
//! (four instructions in `libvmem.so`, the flag's address coming from the GOT):
//! [`active`] asks Valgrind once per process and caches the answer.
//!
//! Only the tools that track heap blocks (memcheck, helgrind, drd, massif,
//! dhat: those that replace `malloc`) get the slow paths that describe
//! blocks to them. Under the others (callgrind, cachegrind, none) the pool
//! runs its real paths, so that callgrind counts the instructions a program
//! runs outside Valgrind.

use std::sync::atomic::{AtomicU8, Ordering};

const UNKNOWN: u8 = 0;
const ABSENT: u8 = 1;
const PRESENT: u8 = 2;
static STATE: AtomicU8 = AtomicU8::new(UNKNOWN);

// Request codes, from valgrind.h and memcheck.h (stable since Valgrind 3.x).
const RUNNING_ON_VALGRIND: usize = 0x1001;
const CREATE_MEMPOOL: usize = 0x1303;
const DESTROY_MEMPOOL: usize = 0x1304;
const MEMPOOL_ALLOC: usize = 0x1305;
const MEMPOOL_FREE: usize = 0x1306;
const CHANGE_ERR_DISABLEMENT: usize = 0x1801;
/// `VG_USERREQ_TOOL_BASE('M', 'C')`: memcheck's own requests.
const MEMCHECK_BASE: usize = ((b'M' as usize) << 24) | ((b'C' as usize) << 16);
const MAKE_MEM_NOACCESS: usize = MEMCHECK_BASE;
const MAKE_MEM_DEFINED: usize = MEMCHECK_BASE + 2;
const GET_VBITS: usize = MEMCHECK_BASE + 8;
const SET_VBITS: usize = MEMCHECK_BASE + 9;
/// Above this many bytes a resized block's kept bytes are made DEFINED
/// rather than copied bit for bit (the copy takes as much host memory).
const VBITS_MAX: usize = 64 << 20;

/// Sends a client request; `default` is the answer when not under Valgrind.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn request(default: usize, args: [usize; 6]) -> usize {
    let result;
    // SAFETY: the four rotations of rdi add up to 128 bits (rdi is left as
    // it was) and `xchg rbx, rbx` changes nothing: on a CPU the sequence is
    // a no-op but for the flags (asm! assumes them clobbered). Under
    // Valgrind it hands `args` (through rax) to the tool and leaves the
    // answer in rdx; memory is not declared untouched, so the compiler
    // keeps the program's accesses on the side of the request they were.
    unsafe {
        std::arch::asm!(
            "rol rdi, 3",
            "rol rdi, 13",
            "rol rdi, 61",
            "rol rdi, 51",
            "xchg rbx, rbx",
            in("rax") args.as_ptr(),
            inlateout("rdx") default => result,
            options(nostack),
        );
    }
    result
}

/// Sends a client request; `default` is the answer when not under Valgrind.
#[cfg(target_arch = "aarch64")]
#[inline(always)]
fn request(default: usize, args: [usize; 6]) -> usize {
    let result;
    // SAFETY: the four rotations of x12 add up to 128 bits and
    // `orr x10, x10, x10` changes nothing: on a CPU the sequence is a no-op.
    // Under Valgrind it hands `args` (through x4) to the tool and leaves
    // the answer in x3; memory is not declared untouched, as on x86_64.
    unsafe {
        std::arch::asm!(
            "ror x12, x12, #3",
            "ror x12, x12, #13",
            "ror x12, x12, #51",
            "ror x12, x12, #61",
            "orr x10, x10, x10",
            in("x4") args.as_ptr(),
            inlateout("x3") default => result,
            options(nostack),
        );
    }
    result
}

/// Targets without a written request sequence: never under Valgrind.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline(always)]
fn request(default: usize, _args: [usize; 6]) -> usize {
    default
}

fn send(code: usize, a1: usize, a2: usize, a3: usize) {
    request(0, [code, a1, a2, a3, 0, 0]);
}

/// Whether the process runs under a Valgrind tool that tracks heap blocks
/// (see [`heap_tool_in`]). Inlined into the allocation paths: a load and a
/// compare once the answer is known.
#[inline(always)]
pub(crate) fn active() -> bool {
    match STATE.load(Ordering::Relaxed) {
        ABSENT => false,
        PRESENT => true,
        _ => detect(),
    }
}

#[cold]
#[inline(never)]
fn detect() -> bool {
    let running = request(0, [RUNNING_ON_VALGRIND, 0, 0, 0, 0, 0]) != 0;
    // The maps are read only under Valgrind: outside it nothing but the
    // request above runs. Without them (no /proc) the tool is taken for a
    // heap checker: describing blocks is always correct, only slower.
    let checking = running && std::fs::read_to_string("/proc/self/maps").map_or(true, |maps| heap_tool_in(&maps));
    STATE.store(if checking { PRESENT } else { ABSENT }, Ordering::Relaxed);
    checking
}

/// The Valgrind tools that track heap blocks, and so want pool blocks
/// described to them: each replaces `malloc` through a preloaded
/// `vgpreload_<tool>-<platform>.so`, which callgrind, cachegrind and none
/// do not have.
const HEAP_TOOLS: [&str; 5] = ["memcheck", "helgrind", "drd", "massif", "dhat"];

/// Whether `maps` (the text of `/proc/self/maps` under Valgrind) shows the
/// preloaded library of a heap-tracking tool. The tool's own name cannot be
/// asked for with a client request; its preload is mapped into the process
/// before `main`, whatever the program does with its environment.
fn heap_tool_in(maps: &str) -> bool {
    let mut preloads = maps.lines().filter_map(|line| line.rsplit('/').next()?.strip_prefix("vgpreload_"));
    preloads
        .any(|rest| HEAP_TOOLS.iter().any(|tool| rest.strip_prefix(tool).is_some_and(|after| after.starts_with('-'))))
}

/// Makes `[base, base + len)` a mempool named by `base`, all NOACCESS.
pub(crate) fn create_pool(base: *const u8, len: usize) {
    // No red zones (jemalloc packs its size classes), chunks not zeroed.
    send(CREATE_MEMPOOL, base as usize, 0, 0);
    send(MAKE_MEM_NOACCESS, base as usize, len, 0);
}

/// Forgets the mempool at `base` and every chunk still in it: deleting a
/// pool frees all its blocks at once.
pub(crate) fn destroy_pool(base: *const u8) {
    send(DESTROY_MEMPOOL, base as usize, 0, 0);
}

/// `[addr, addr + size)` is now an allocated, UNDEFINED block of the pool.
pub(crate) fn alloc(pool_base: *const u8, addr: *const u8, size: usize) {
    send(MEMPOOL_ALLOC, pool_base as usize, addr as usize, size);
}

/// The block at `addr` is freed: NOACCESS, and a second free is reported.
pub(crate) fn free(pool_base: *const u8, addr: *const u8) {
    send(MEMPOOL_FREE, pool_base as usize, addr as usize, 0);
}

/// Makes memory ordinary DEFINED memory: a caller's region after its pool
/// is deleted, or resized bytes whose bits were not saved.
pub(crate) fn make_defined(addr: *const u8, len: usize) {
    send(MAKE_MEM_DEFINED, addr as usize, len, 0);
}

/// The definedness bits of `[addr, addr + len)`, an allocated block, to
/// restore with [`set_definedness`] after jemalloc moved the bytes (memcheck
/// loses them when the new place is allocated in its books). `None` for
/// blocks too large to copy the bits of.
pub(crate) fn definedness(addr: *const u8, len: usize) -> Option<Vec<u8>> {
    if len > VBITS_MAX {
        return None;
    }
    let mut bits = vec![0u8; len];
    let answer = request(0, [GET_VBITS, addr as usize, bits.as_mut_ptr() as usize, len, 0, 0]);
    // 1: copied; anything else (not memcheck, unaddressable bytes): none.
    (answer == 1).then_some(bits)
}

/// Gives `[addr, addr + len)` the definedness saved by [`definedness`], or
/// makes it DEFINED when none was saved.
pub(crate) fn set_definedness(addr: *const u8, len: usize, bits: Option<Vec<u8>>) {
    match bits {
        Some(bits) => send(SET_VBITS, addr as usize, bits.as_ptr() as usize, len),
        None => make_defined(addr, len),
    }
}

/// Runs `f` with this thread's error reports off: for jemalloc's own writes
/// into pool memory (extent zeroing) that memcheck would take for the
/// program's.
pub(crate) fn quietly<R>(f: impl FnOnce() -> R) -> R {
    send(CHANGE_ERR_DISABLEMENT, 1, 0, 0);
    let result = f();
    send(CHANGE_ERR_DISABLEMENT, usize::MAX, 0, 0);
    result
}

#[cfg(test)]
mod tests {
    /// Outside Valgrind every request answers its default, and `active`
    /// says so (the test suite does not run under Valgrind).
    #[test]
    fn requests_are_no_ops_outside_valgrind() {
        assert_eq!(super::request(42, [super::RUNNING_ON_VALGRIND, 0, 0, 0, 0, 0]), 42);
        assert!(!super::active());
        assert!(!super::active());
    }

    /// The tool is told by its preloaded library: memcheck's maps take the
    /// described slow paths, callgrind's (only the core preload) do not.
    #[test]
    fn heap_tools_are_told_by_their_preload() {
        let core = "04837000-04838000 r--p 00000000 fe:00 328592 /usr/libexec/valgrind/vgpreload_core-amd64-linux.so\n\
                    58000000-58001000 r--p 00000000 fe:00 328498 /usr/libexec/valgrind/callgrind-amd64-linux\n";
        assert!(!super::heap_tool_in(core));
        for tool in super::HEAP_TOOLS {
            let maps = format!("{core}0483c000-04841000 r--p 00000000 fe:00 328602 /usr/libexec/valgrind/vgpreload_{tool}-amd64-linux.so\n");
            assert!(super::heap_tool_in(&maps), "{tool}");
        }
        // A program's own file named like a tool is not a preload.
        assert!(!super::heap_tool_in("7f00-7f01 r--p 0 fe:00 1 /home/me/memcheck-amd64-linux.so\n"));
    }
}

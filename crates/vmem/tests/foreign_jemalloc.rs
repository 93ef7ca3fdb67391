//! A program whose global allocator is jemalloc too (tikv-jemallocator, as
//! many Rust services have) keeps its own heap's settings while it uses
//! pools: vmem's jemalloc is a separate one (vmem-jemalloc-sys: its own
//! symbols, library and options), not tikv-jemalloc-sys's with vmem's
//! options pushed into it (issue #14).

mod common;

use std::ffi::CStr;

use vmem::Pool;

#[global_allocator]
static HOST_HEAP: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The host jemalloc's default `opt.retain`, which vmem needs false in its
/// own: true on 64-bit Linux and macOS (`default_retain` in jemalloc's
/// configure.ac), false elsewhere (FreeBSD).
const HOST_RETAIN: bool = cfg!(all(target_pointer_width = "64", any(target_os = "linux", target_os = "macos")));
/// The host jemalloc's default `opt.lg_extent_max_active_fit`, which vmem
/// needs 0 in its own.
const HOST_LG_EXTENT_MAX_ACTIVE_FIT: usize = 6;

const POOL: usize = common::POOL_64M;

/// The host jemalloc's settings and arena count.
fn host() -> (bool, usize, u32) {
    // SAFETY: each name's value has the type read (jemalloc's mallctl docs).
    unsafe {
        (
            tikv_jemalloc_ctl::raw::read::<bool>(b"opt.retain\0").unwrap(),
            tikv_jemalloc_ctl::raw::read::<usize>(b"opt.lg_extent_max_active_fit\0").unwrap(),
            tikv_jemalloc_ctl::raw::read::<u32>(b"arenas.narenas\0").unwrap(),
        )
    }
}

/// Reads the `T` at `name` from vmem's own jemalloc.
fn vmem_read<T: Copy + Default>(name: &CStr) -> T {
    let mut value = T::default();
    let mut len = std::mem::size_of::<T>();
    // SAFETY: a valid name and an out-parameter of the value's size.
    let rc = unsafe {
        vmem_jemalloc_sys::mallctl(name.as_ptr(), (&mut value as *mut T).cast(), &mut len, std::ptr::null_mut(), 0)
    };
    assert_eq!(rc, 0, "mallctl {name:?}");
    value
}

#[test]
fn the_host_jemalloc_keeps_its_settings_while_pools_work() {
    // The Rust heap is the host jemalloc: this Vec lives there.
    let mut blocks = Vec::with_capacity(1 << 16);
    let (retain, fit, host_arenas) = host();
    assert_eq!((retain, fit), (HOST_RETAIN, HOST_LG_EXTENT_MAX_ACTIVE_FIT), "host jemalloc before any pool");

    let pool = Pool::create(common::SHM, POOL).expect("a 64 MiB pool");
    // vmem's jemalloc runs with its own options...
    assert!(!vmem_read::<bool>(c"opt.retain"));
    assert_eq!(vmem_read::<usize>(c"opt.lg_extent_max_active_fit"), 0);
    // ...and makes the pool's arena in itself, not in the host's.
    assert_eq!(host().2, host_arenas, "a pool made an arena in the host jemalloc");

    let largest = common::largest_block(&pool, POOL);
    assert!(largest >= POOL / 16 * 15, "largest block {largest} of {POOL}");
    // Fill with mixed sizes until ENOMEM, then free everything.
    let sizes = [24, 200, 3000, 40_000, 300_000];
    for i in 0.. {
        let size = sizes[i % sizes.len()];
        match pool.malloc(size) {
            Ok(ptr) => {
                // SAFETY: a fresh block of at least `size` bytes.
                unsafe { ptr.as_ptr().add(size - 1).write(1) };
                blocks.push(ptr);
            }
            Err(e) if e.errno() == libc::ENOMEM => break,
            Err(e) => panic!("fill: {e}"),
        }
    }
    assert!(blocks.len() > 100, "the fill got {} blocks", blocks.len());
    for ptr in blocks.drain(..) {
        // SAFETY: every block is live and freed once.
        unsafe { pool.free(ptr.as_ptr()) };
    }
    // The pool has all of itself again: the largest block fits again.
    let again = pool.malloc(largest).expect("the largest block after freeing everything");
    // SAFETY: a live block, freed once.
    unsafe { pool.free(again.as_ptr()) };

    drop(pool);
    let (retain, fit, arenas) = host();
    assert_eq!((retain, fit), (HOST_RETAIN, HOST_LG_EXTENT_MAX_ACTIVE_FIT), "host jemalloc after a pool");
    assert_eq!(arenas, host_arenas);
}

//! The calling thread's cache for its first pool, where a thread-local can
//! be read without a call: a thread-local whose offset from the thread
//! pointer is the same in every thread, read as one load at that offset.
//!
//! That holds only on glibc for a module whose thread-locals are in the
//! static TLS block: a program that links vmem in, or `libvmem.so` loaded
//! at start (`-lvmem`). A library loaded with dlopen (the Node.js addon,
//! Python's ctypes) has its thread-locals allocated per thread on first use,
//! and could not be given a static block: with the initial-exec model
//! dlopen would fail for want of room in glibc's small static reserve. So
//! the offset is found at run time ([`crate::sys::static_tls_offset`]) and,
//! where there is none, the hot path reads a word that never matches and
//! takes the pool's thread slots instead ([`crate::slots`]).
//!
//! Each thread keeps one (pool id, cache) pair: that of the first live pool
//! it got a cache for. It is replaced only when that pool is gone, never
//! while the thread may be using it, so even a signal handler that takes
//! the slow path cannot change it under an interrupted hot path. Threads
//! that use several pools find the others through the slots.

use std::cell::Cell;
use std::ptr::{self, NonNull};
use std::sync::atomic::{compiler_fence, AtomicUsize, Ordering};
use std::sync::Once;

use crate::thread_cache::ThreadCache;

/// A thread's pair: its pool's id (0 when none) and its cache, laid out as
/// two words so that the hot path can read them at `OFFSET` and
/// `OFFSET + 8`.
#[repr(C)]
struct Home {
    pool_id: Cell<u64>,
    cache: Cell<*mut ThreadCache>,
}

thread_local! {
    // Const-initialised and without a destructor: a plain word pair in the
    // module's TLS block, with no registration on first use.
    static HOME: Home = const { Home { pool_id: Cell::new(0), cache: Cell::new(ptr::null_mut()) } };
}

/// `HOME`'s offset from the thread pointer in every thread, or 0: then the
/// hot path reads the thread pointer's own first word (on glibc the TCB's
/// pointer to itself on x86-64, its DTV pointer on aarch64), an address that
/// no pool id (counted from 1) reaches.
static OFFSET: AtomicUsize = AtomicUsize::new(0);

/// The address of the calling thread's `HOME`.
#[cfg(all(target_os = "linux", target_env = "gnu", any(target_arch = "x86_64", target_arch = "aarch64")))]
extern "C" fn home_address() -> usize {
    HOME.with(|home| home as *const Home as usize)
}

/// Finds `HOME`'s offset, once per process (it spawns a thread).
fn init() {
    static FOUND: Once = Once::new();
    FOUND.call_once(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu", any(target_arch = "x86_64", target_arch = "aarch64")))]
        if let Some(offset) = crate::sys::static_tls_offset(home_address) {
            OFFSET.store(offset, Ordering::Relaxed);
        }
        let how = match OFFSET.load(Ordering::Relaxed) {
            0 => "through the pools' thread slots (no static thread-local block)",
            _ => "first through a static thread-local",
        };
        crate::vlog!(crate::log::Level::Basic, "threads find their caches {how}");
    });
}

/// Where the hot path looks: `HOME`'s offset from the thread pointer, the
/// same in every thread, or 0 (see `OFFSET`). A pool keeps a copy, so that
/// the hot path reads it from the pool it already has at hand.
pub(crate) fn offset() -> usize {
    init();
    OFFSET.load(Ordering::Relaxed)
}

/// The calling thread's cache if pool `pool_id` is its home pool: the hot
/// path's first lookup: the thread pointer, then the word at `offset` from
/// it, no call. `offset` is [`offset`]'s.
#[inline(always)]
pub(crate) fn get(pool_id: u64, offset: usize) -> Option<NonNull<ThreadCache>> {
    #[cfg(all(target_os = "linux", target_env = "gnu", any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let home = crate::sys::unix::thread_id().wrapping_add(offset) as *const u64;
        // SAFETY: with an offset, `home` is the calling thread's `HOME`
        // (the same offset in every thread, proven by `init`); without one,
        // the thread pointer itself, whose first word glibc's TCB holds on
        // these targets. Both are the calling thread's, alive while it runs.
        if unsafe { home.read() } == pool_id {
            // SAFETY: a pool id matched, so there is an offset and `home` is
            // `HOME`; its second word is the cache `offer` stored before the
            // id, alive while the pool is (and the caller uses the pool).
            return Some(unsafe { NonNull::new_unchecked(home.add(1).read() as *mut ThreadCache) });
        }
    }
    let _ = (pool_id, offset);
    None
}

/// Makes `cache` the calling thread's home cache, for pool `pool_id`, if
/// the thread has none or its home pool is gone (`is_live` says so).
pub(crate) fn offer(pool_id: u64, cache: NonNull<ThreadCache>, is_live: impl Fn(u64) -> bool) {
    if OFFSET.load(Ordering::Relaxed) == 0 {
        return;
    }
    let _ = HOME.try_with(|home| {
        let current = home.pool_id.get();
        if current != 0 && (current == pool_id || is_live(current)) {
            return;
        }
        // The id goes last, so that a signal handler on this thread never
        // sees an id with another pool's cache.
        home.pool_id.set(0);
        compiler_fence(Ordering::Release);
        home.cache.set(cache.as_ptr());
        compiler_fence(Ordering::Release);
        home.pool_id.set(pool_id);
    });
}

/// Forgets the calling thread's home cache if it is pool `pool_id`'s (the
/// cache is being freed: the thread is exiting).
pub(crate) fn forget(pool_id: u64) {
    let _ = HOME.try_with(|home| {
        if home.pool_id.get() == pool_id {
            home.pool_id.set(0);
            compiler_fence(Ordering::Release);
            home.cache.set(ptr::null_mut());
        }
    });
}

// A test binary is a program: its thread-locals are in the static block.
#[cfg(all(test, target_os = "linux", target_env = "gnu", any(target_arch = "x86_64", target_arch = "aarch64")))]
mod tests {
    use super::*;

    #[test]
    fn a_program_finds_its_thread_local_at_one_offset_in_every_thread() {
        let offset = offset();
        assert_ne!(offset, 0);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| assert_eq!(crate::sys::unix::thread_id().wrapping_add(offset), home_address()));
            }
        });
    }

    #[test]
    fn the_home_pool_is_the_first_live_one() {
        let offset = offset();
        std::thread::spawn(move || {
            // Stand-in caches: only compared, never used.
            static SECOND: u64 = 0;
            let (first, second) = (NonNull::<ThreadCache>::dangling(), NonNull::from(&SECOND).cast::<ThreadCache>());
            assert_eq!(get(u64::MAX - 1, offset), None);
            offer(u64::MAX - 1, first, |_| true);
            assert_eq!(get(u64::MAX - 1, offset), Some(first));
            // Another pool while the first lives: the slots serve it.
            offer(u64::MAX - 2, second, |_| true);
            assert_eq!(get(u64::MAX - 2, offset), None);
            assert_eq!(get(u64::MAX - 1, offset), Some(first));
            // Once the first is gone, the next pool becomes home.
            offer(u64::MAX - 2, second, |pool| pool != u64::MAX - 1);
            assert_eq!(get(u64::MAX - 2, offset), Some(second));
            assert_eq!(get(u64::MAX - 1, offset), None);
            forget(u64::MAX - 2);
            assert_eq!(get(u64::MAX - 2, offset), None);
        })
        .join()
        .unwrap();
    }
}

//! What one thread keeps for one pool, and how it is handed over.
//!
//! A cache is its owner's alone except while another thread empties it: an
//! allocation that fails must reclaim what every thread caches for the pool,
//! including threads that are idle or blocked and will never call again. The
//! owner marks the cache in use around every use; a reclaiming thread marks
//! it claimed, waits until it is not in use, empties it and lets it go.
//!
//! The owner's slow path checks the claim ([`ThreadCache::enter`]). Its fast
//! path does not ([`ThreadCache::enter_gated`]): a pop or push checks its
//! bin's length against the bin's cap anyway, and a reclaiming thread first
//! closes those gates (every cap 0, [`FrontCache::close_gates`]), so a fast
//! path that starts after that misses and takes the slow path; one that
//! started before is waited for. The gates stay closed after the claim
//! ends, until the owner opens them on its slow path: a fast path that
//! started after they closed may have read a bin's length from before the
//! emptying, and must still find its gate closed. That keeps the fast path
//! to two stores around its work: a load of the claim and its branch cost
//! the 64 B malloc/free pair 6 % (median of 300 paired runs,
//! `bench/ab-pairs.c`).
//!
//! Either way the owner's side is plain stores and loads: the ordering
//! between its store and its loads that such a hand-over needs is paid by
//! the reclaiming thread alone (see [`crate::barrier`]). The reclaiming
//! thread's steps are in [`crate::threads`]' `reclaim_all`.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

use crate::barrier;
use crate::front::FrontCache;

/// What one thread keeps for one pool. The words every call touches come
/// first, on one cache line (`repr(C)` keeps the order), and the cache
/// starts on a 128-byte boundary (a pair of lines, which x86 prefetches
/// together), so no other thread's data shares its hot lines: the
/// 2-thread batch of `npm run bench`, 16 alternating runs, fastest 9.0 →
/// 8.4 ns per operation, median 11.2 → 10.5.
#[repr(C, align(128))]
pub(crate) struct ThreadCache {
    /// Written by the owner only: it is using the cache.
    in_use: AtomicBool,
    /// Written by a reclaiming thread only: it is emptying the cache.
    claimed: AtomicBool,
    /// `MALLOCX_ARENA | MALLOCX_TCACHE` for this thread and pool.
    pub(crate) flags: i32,
    /// Its explicit jemalloc cache, if jemalloc could make one.
    pub(crate) tcache: Option<u32>,
    /// Bytes jemalloc handed out through this cache minus bytes given back
    /// through it (negative when this thread frees others' blocks); written
    /// by whoever has the cache, read by anyone.
    live: AtomicIsize,
    /// Used by the owner only between [`enter`](Self::enter) (or
    /// [`enter_gated`](Self::enter_gated)) and [`leave`](Self::leave), or by
    /// the thread that claimed the cache, which may close its gates while the
    /// owner's fast path reads them.
    pub(crate) front: FrontCache,
}

impl ThreadCache {
    /// Marks the cache in use by its owner for its fast path, which then
    /// checks the front cache's gates, not the claim (see the module's
    /// documentation); [`leave`](Self::leave) ends it.
    #[inline(always)]
    pub(crate) fn enter_gated(&self) {
        self.in_use.store(true, Ordering::Relaxed);
        barrier::light();
    }

    /// Marks the cache in use by its owner; false (and not in use) while
    /// another thread has claimed it.
    #[inline(always)]
    fn try_enter(&self) -> bool {
        self.in_use.store(true, Ordering::Relaxed);
        barrier::light();
        if self.claimed.load(Ordering::Acquire) {
            crate::hint::cold();
            self.in_use.store(false, Ordering::Release);
            return false;
        }
        true
    }

    /// Marks the cache in use by its owner, waiting while another thread
    /// empties it.
    pub(crate) fn enter(&self) {
        while !self.try_enter() {
            while self.claimed.load(Ordering::Acquire) {
                std::thread::yield_now();
            }
        }
    }

    /// Ends the owner's use.
    #[inline(always)]
    pub(crate) fn leave(&self) {
        self.in_use.store(false, Ordering::Release);
    }

    /// A cache that is nobody's yet in use.
    pub(crate) fn new(flags: i32, tcache: Option<u32>, front: FrontCache) -> Self {
        ThreadCache {
            in_use: AtomicBool::new(false),
            claimed: AtomicBool::new(false),
            flags,
            tcache,
            live: AtomicIsize::new(0),
            front,
        }
    }

    /// Adds `bytes` to what jemalloc handed out through this cache; only by
    /// whoever has the cache to itself (a plain read-modify-write).
    pub(crate) fn count_live(&self, bytes: isize) {
        self.live.store(self.live.load(Ordering::Relaxed).wrapping_add(bytes), Ordering::Relaxed);
    }

    /// What jemalloc handed out through this cache and has not taken back.
    pub(crate) fn live(&self) -> isize {
        self.live.load(Ordering::Relaxed)
    }

    /// Marks the cache claimed by a reclaiming thread (which then pays for
    /// the ordering with [`crate::barrier::heavy`] before
    /// [`wait_unused`](Self::wait_unused)).
    pub(crate) fn claim(&self) {
        self.claimed.store(true, Ordering::Relaxed);
    }

    /// Waits until the owner is not using the cache.
    pub(crate) fn wait_unused(&self) {
        while self.in_use.load(Ordering::Acquire) {
            std::thread::yield_now();
        }
    }

    /// Gives a claimed cache back to its owner.
    pub(crate) fn unclaim(&self) {
        self.claimed.store(false, Ordering::Release);
    }

    /// In a forked child: the cache goes on without its jemalloc cache,
    /// which is left as it is, never flushed nor destroyed (its objects are
    /// lost to the child). jemalloc's child keeps only the forking thread's
    /// automatic cache on each arena's list of thread caches; destroying a
    /// cache made before the fork (`tcache.flush` destroys too) unlinks it
    /// through neighbours that are no longer on the list, such as a dead
    /// thread's thread-locals, whose stack the child's new threads reuse:
    /// a forked child died of SIGSEGV in `tcache_arena_dissociate`.
    ///
    /// # Safety
    ///
    /// Nothing else uses the cache meanwhile: the child's one thread calls
    /// this from its fork handler.
    pub(crate) unsafe fn forget_tcache_after_fork(cache: NonNull<Self>, uncached_flags: i32) {
        // SAFETY: no other reference to the cache is in use (caller's
        // contract).
        unsafe {
            (*cache.as_ptr()).tcache = None;
            (*cache.as_ptr()).flags = uncached_flags;
        }
    }

    /// In a forked child, where the owner (another thread of the parent) no
    /// longer exists: neither in use nor claimed. If the owner was inside
    /// the cache at the fork, the child's copy of its front cache may be
    /// half-changed (a length counted ahead of its stack, a stack half
    /// shifted), and a reclaim in the child would give some object back
    /// twice: its objects are forgotten instead (they stay allocated in the
    /// child, as the dead thread's own blocks do).
    ///
    /// # Safety
    ///
    /// Nothing else uses the cache meanwhile: the child's one thread calls
    /// this from its fork handler.
    pub(crate) unsafe fn reset_after_fork(cache: NonNull<Self>) {
        // SAFETY: a live cache (caller's contract).
        let this = unsafe { cache.as_ref() };
        if this.in_use.load(Ordering::Relaxed) {
            // SAFETY: no other reference to the cache is in use (caller's
            // contract).
            unsafe { (*cache.as_ptr()).front.forget_all() };
        }
        // SAFETY: as above.
        let this = unsafe { cache.as_ref() };
        this.in_use.store(false, Ordering::Relaxed);
        this.claimed.store(false, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sizeclass::SizeClasses;

    /// A cache holding three objects (stand-ins: only counted, never used),
    /// in use or not at a fork, as the child's fork handler finds it.
    fn objects_after_fork(in_use_at_fork: bool) -> usize {
        let classes = SizeClasses::get();
        let bin = classes.bin_of(64);
        let cache =
            NonNull::from(Box::leak(Box::new(ThreadCache::new(0, None, FrontCache::new(classes, 64 << 20).unwrap()))));
        // SAFETY: made above, used by this thread alone, freed at the end.
        unsafe {
            for n in 1..=3 {
                assert!((*cache.as_ptr()).front.push(bin, NonNull::new((n * 64) as *mut u8).unwrap()));
            }
            if in_use_at_fork {
                cache.as_ref().enter_gated();
            }
            ThreadCache::reset_after_fork(cache);
            assert!(!cache.as_ref().in_use.load(Ordering::Relaxed));
            let left = FrontCache::take_all(std::ptr::addr_of_mut!((*cache.as_ptr()).front)).len();
            drop(Box::from_raw(cache.as_ptr()));
            left
        }
    }

    #[test]
    fn a_cache_in_use_at_a_fork_forgets_its_objects_in_the_child() {
        assert_eq!(objects_after_fork(true), 0);
        assert_eq!(objects_after_fork(false), 3);
    }
}

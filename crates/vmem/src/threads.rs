//! Which cache is the calling thread's: one [`ThreadCache`] per (thread,
//! pool), found through the thread's home cache ([`crate::home_cache`]), the
//! pool's thread slots ([`crate::slots`]) or a thread-local, registered with
//! its pool, emptied when its thread exits, and claimable by any thread of
//! the process when the pool runs out of room.
//!
//! How a cache is handed between its owner and a reclaiming thread is
//! [`crate::thread_cache`]'s.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use vmem_jemalloc_sys as jemalloc;

use crate::barrier;
use crate::ctl;
use crate::fork::{ForkLocks, Release};
use crate::front::FrontCache;
use crate::home_cache;
use crate::log::Level;
use crate::sizeclass::SizeClasses;
use crate::slots::ThreadSlots;
use crate::sys::unix::thread_id;
use crate::thread_cache::ThreadCache;
use crate::thread_entries;

/// The thread caches of one pool.
pub(crate) struct Threads {
    pool_id: u64,
    arena: u32,
    classes: &'static SizeClasses,
    /// The pool's size, which bounds what a front cache may keep.
    pool_len: usize,
    slots: ThreadSlots,
    /// [`ThreadCache::live`] of the calls made without a cache, and of caches
    /// that are gone.
    orphaned_live: AtomicIsize,
    /// Every live cache of the pool, owned here (made by `Box::leak`);
    /// `None` once the pool is gone. Held while a cache is registered,
    /// released or claimed, so a claimed cache is never freed under its
    /// claimer.
    caches: Mutex<Option<Vec<NonNull<ThreadCache>>>>,
}

// SAFETY: the cache pointers in `caches` are only dereferenced under its
// lock, by the hand-over rules above; everything else is atomic or immutable.
unsafe impl Send for Threads {}
// SAFETY: as above.
unsafe impl Sync for Threads {}

impl Threads {
    /// The thread caches of a new pool, listed among the live pools until
    /// [`destroy_all`](Self::destroy_all).
    pub(crate) fn new(pool_id: u64, arena: u32, classes: &'static SizeClasses, pool_len: usize) -> Arc<Self> {
        barrier::init();
        let threads = Arc::new(Threads {
            pool_id,
            arena,
            classes,
            pool_len,
            slots: ThreadSlots::new(),
            orphaned_live: AtomicIsize::new(0),
            caches: Mutex::new(Some(Vec::new())),
        });
        thread_entries::list_pool(pool_id, threads.clone());
        threads
    }

    fn lock(&self) -> MutexGuard<'_, Option<Vec<NonNull<ThreadCache>>>> {
        self.caches.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `MALLOCX_ARENA | MALLOCX_TCACHE_NONE` for this pool.
    pub(crate) fn uncached_flags(&self) -> i32 {
        ctl::mallocx_arena(self.arena) | ctl::MALLOCX_TCACHE_NONE
    }

    /// The calling thread's cache for this pool (made on its first use), or
    /// `None` while the thread is exiting.
    #[inline(always)]
    pub(crate) fn current(self: &Arc<Self>) -> Option<NonNull<ThreadCache>> {
        let found = home_cache::get(self.pool_id, home_cache::offset()).or_else(|| self.current_from_home_slot());
        match found.or_else(|| self.current_from_slot()) {
            Some(cache) => Some(cache),
            None => self.current_from_thread_local(),
        }
    }

    /// The calling thread's cache if it holds its home slot of this pool:
    /// the hot path's lookup.
    #[inline(always)]
    pub(crate) fn current_from_home_slot(&self) -> Option<NonNull<ThreadCache>> {
        self.slots.home(thread_id())
    }

    /// The calling thread's cache if it holds any slot of this pool: the
    /// lookup of a thread whose home slot another thread holds, before it
    /// takes the slow path.
    #[inline]
    pub(crate) fn current_from_slot(&self) -> Option<NonNull<ThreadCache>> {
        self.slots.find(thread_id())
    }

    #[inline(never)]
    fn current_from_thread_local(self: &Arc<Self>) -> Option<NonNull<ThreadCache>> {
        let (last_pool, last_cache) = thread_entries::last_used();
        if last_pool == self.pool_id {
            return NonNull::new(last_cache);
        }
        self.current_slow()
    }

    #[cold]
    fn current_slow(self: &Arc<Self>) -> Option<NonNull<ThreadCache>> {
        let cache = match self.this_thread() {
            Some(cache) => cache,
            None => self.register_thread()?,
        };
        thread_entries::set_last_used(self.pool_id, cache.as_ptr());
        // While allocations are traced, or memcheck watches the pool, no
        // thread takes a slot, so every call takes the paths that log and
        // tell memcheck.
        let tracing = crate::log::enabled(Level::Alloc) || crate::valgrind::active();
        if !tracing {
            self.slots.take(thread_id(), cache);
            home_cache::offer(self.pool_id, cache, thread_entries::is_live);
        }
        Some(cache)
    }

    /// The calling thread's cache for this pool, if it has one.
    pub(crate) fn this_thread(&self) -> Option<NonNull<ThreadCache>> {
        thread_entries::find(self.pool_id)
    }

    #[cold]
    fn register_thread(self: &Arc<Self>) -> Option<NonNull<ThreadCache>> {
        let mut list = self.lock();
        let list = list.as_mut()?;
        // Without memory for its stacks the thread holds nothing in front of
        // jemalloc: slower, never failing for it, and registered all the
        // same (else each of its calls would come here again).
        let front = FrontCache::new(self.classes, self.pool_len).unwrap_or_else(|error| {
            crate::vlog!(Level::Basic, "no front cache for pool {} ({error})", self.pool_id);
            FrontCache::holding_nothing()
        });
        let tcache = match ctl::read::<u32>("tcache.create") {
            Ok(tcache) => Some(tcache),
            Err(errno) => {
                crate::vlog!(Level::Basic, "no thread cache for pool {} (error {errno})", self.pool_id);
                None
            }
        };
        let flags = ctl::mallocx_arena(self.arena) | tcache.map_or(ctl::MALLOCX_TCACHE_NONE, ctl::mallocx_tcache);
        let cache = Box::new(ThreadCache::new(flags, tcache, front));
        let cache = NonNull::from(Box::leak(cache));
        if thread_entries::add(self.pool_id, cache) {
            list.push(cache);
            return Some(cache);
        }
        // The thread is exiting: leave nothing behind.
        if let Some(tcache) = tcache {
            let _ = ctl::write("tcache.destroy", tcache);
        }
        // SAFETY: made by Box::leak above and never shared.
        drop(unsafe { Box::from_raw(cache.as_ptr()) });
        None
    }

    /// Counts `bytes` that jemalloc handed out (or, negative, took back)
    /// through `cache`, which the caller has to itself, or without a cache.
    pub(crate) fn count_live(&self, cache: Option<NonNull<ThreadCache>>, bytes: isize) {
        match cache {
            Some(cache) => {
                // SAFETY: a live cache the caller has to itself.
                unsafe { cache.as_ref() }.count_live(bytes);
            }
            None => {
                self.orphaned_live.fetch_add(bytes, Ordering::Relaxed);
            }
        }
    }

    /// Bytes in blocks jemalloc has handed out and not taken back (front
    /// caches included), a snapshot.
    pub(crate) fn live_bytes(&self) -> usize {
        let list = self.lock();
        let cached = list.iter().flatten().map(|cache| {
            // SAFETY: listed caches are alive while the lock is held.
            unsafe { cache.as_ref() }.live()
        });
        let total = cached.fold(self.orphaned_live.load(Ordering::Relaxed), isize::wrapping_add);
        usize::try_from(total).unwrap_or(0)
    }

    /// Frees an object of class `bin` taken out of `cache`'s front cache to
    /// jemalloc.
    pub(crate) fn give_back(&self, cache: NonNull<ThreadCache>, bin: u8, object: NonNull<u8>, flags: i32) {
        let size = self.classes.size_of(bin);
        // SAFETY: a live object of this pool's class `bin`; the flags name
        // its arena.
        unsafe { jemalloc::sdallocx(object.as_ptr().cast(), size, flags) };
        self.count_live(Some(cache), -(size as isize));
    }

    /// Returns everything `cache` holds to the arena: its front cache
    /// through `flags`, then its jemalloc cache.
    ///
    /// # Safety
    ///
    /// The caller has `cache` to itself: it is the owner inside
    /// [`ThreadCache::enter`], or it claimed the cache.
    unsafe fn empty(&self, cache: NonNull<ThreadCache>, flags: i32) {
        // SAFETY: exclusive use of the front cache (caller's contract); the
        // borrow is of it alone, since the owner and `live_bytes` may touch
        // the cache's atomics meanwhile, and ends before jemalloc runs, which
        // may log through a user callback.
        let (objects, tcache) =
            unsafe { (FrontCache::take_all(std::ptr::addr_of_mut!((*cache.as_ptr()).front)), cache.as_ref().tcache) };
        for (bin, object) in objects {
            self.give_back(cache, bin, object, flags);
        }
        if let Some(tcache) = tcache {
            let _ = ctl::write("tcache.flush", tcache);
        }
    }

    /// Returns the objects the calling thread caches for this pool to the
    /// arena.
    pub(crate) fn flush_current_thread(&self) {
        let Some(cache) = self.this_thread() else { return };
        // SAFETY: this thread's own cache, alive while its entry is.
        let owner = unsafe { cache.as_ref() };
        owner.enter();
        // SAFETY: entered above.
        unsafe {
            self.empty(cache, owner.flags);
            (*cache.as_ptr()).front.open_gates_after_reclaim();
        }
        owner.leave();
    }

    /// Returns what every thread caches for this pool to the arena, idle and
    /// blocked threads included. The caller must not be inside
    /// [`ThreadCache::enter`] for this pool.
    pub(crate) fn reclaim_all(&self) {
        let guard = self.lock();
        let Some(list) = guard.as_ref() else { return };
        // SAFETY: listed caches stay alive while the lock is held, and only
        // their atomics are shared.
        let listed = |cache: &NonNull<ThreadCache>| unsafe { &*cache.as_ptr() };
        for cache in list {
            listed(cache).claim();
        }
        if !barrier::heavy() {
            // Without the process-wide barrier an owner's use could be
            // missed: give the caches back untouched, and empty only the
            // caller's own.
            for cache in list {
                listed(cache).unclaim();
            }
            drop(guard);
            self.flush_current_thread();
            return;
        }
        // Owners are now out of their slow paths for good, which are the
        // only ones to change the caps; their fast paths may run.
        let front = |cache: &NonNull<ThreadCache>| {
            // SAFETY: listed, so alive.
            unsafe { std::ptr::addr_of_mut!((*cache.as_ptr()).front) }
        };
        let mut saved = Vec::with_capacity(list.len());
        for cache in list {
            listed(cache).wait_unused();
            // SAFETY: claimed and left (above).
            saved.push(unsafe { FrontCache::close_gates(front(cache)) });
        }
        // A fast path that started before the gates closed is in use now;
        // one that starts after sees its gate closed, and it stays closed
        // until the owner opens it on its slow path, after the claim.
        if !barrier::heavy() {
            // It worked a moment ago; should it fail now, leave every cache
            // as it was.
            for (cache, saved) in list.iter().zip(saved) {
                // SAFETY: as above.
                unsafe { FrontCache::reopen_gates(front(cache), saved) };
                listed(cache).unclaim();
            }
            drop(guard);
            self.flush_current_thread();
            return;
        }
        for cache in list {
            let claimed = listed(cache);
            claimed.wait_unused();
            // Objects go back without the owner's jemalloc cache, which is
            // the owner's to use (the owner may be this very caller).
            // SAFETY: claimed, its gates closed, and the owner left it
            // (above).
            unsafe { self.empty(*cache, self.uncached_flags()) };
            claimed.unclaim();
        }
    }

    /// Empties and destroys one thread's cache (the thread is exiting).
    pub(crate) fn release(&self, cache: NonNull<ThreadCache>) {
        self.slots.leave(thread_id());
        home_cache::forget(self.pool_id);
        // Holding the lock keeps the arena alive (the pool destroys its arena
        // only after `destroy_all` took the list) and keeps reclaiming
        // threads out.
        let mut list = self.lock();
        let Some(list) = list.as_mut() else { return };
        list.retain(|&listed| listed != cache);
        // SAFETY: the exiting thread's own cache, unlisted, so no other
        // thread can claim it any more; made by Box::leak, freed only here.
        unsafe {
            self.empty(cache, cache.as_ref().flags);
            if let Some(tcache) = cache.as_ref().tcache {
                let _ = ctl::write("tcache.destroy", tcache);
            }
            let residue = cache.as_ref().live();
            self.orphaned_live.fetch_add(residue, Ordering::Relaxed);
            drop(Box::from_raw(cache.as_ptr()));
        }
    }

    /// Destroys every cache of the pool, returning the objects of their
    /// jemalloc caches to the arena; called before the arena is destroyed.
    /// Objects in front caches go with the pool. Other threads keep a small
    /// entry for the pool until they next make a cache or exit.
    pub(crate) fn destroy_all(&self) {
        for cache in self.lock().take().unwrap_or_default() {
            // SAFETY: listed caches are alive and owned by the list, which is
            // gone now: nothing reaches them any more (their threads' entries
            // find the pool gone).
            let cache = unsafe { Box::from_raw(cache.as_ptr()) };
            if let Some(tcache) = cache.tcache {
                let _ = ctl::write("tcache.destroy", tcache);
            }
        }
        thread_entries::forget(self.pool_id);
        thread_entries::unlist_pool(self.pool_id);
    }
}

impl ForkLocks for Threads {
    /// In the child, the other threads are gone: their caches stay listed,
    /// to be reclaimed, but no longer in use or claimed, and their slots are
    /// free (a new thread may get a dead one's id). No cache keeps a jemalloc
    /// cache made before the fork (see
    /// [`ThreadCache::forget_tcache_after_fork`]).
    fn hold(&self) -> Release<'_> {
        let list = self.lock();
        Box::new(move |in_child| {
            if in_child {
                for &cache in list.iter().flatten() {
                    // SAFETY: listed caches are alive while the lock is
                    // held, and the child's one thread is here, using none.
                    unsafe { ThreadCache::forget_tcache_after_fork(cache, self.uncached_flags()) };
                    // SAFETY: as above.
                    unsafe { ThreadCache::reset_after_fork(cache) };
                }
                self.slots.keep_only(thread_id());
            }
            drop(list);
        })
    }
}

//! Which cache is the calling thread's: one [`ThreadCache`] per (thread,
//! pool), found through a pool's thread slots or a thread-local, registered
//! with its pool, emptied when its thread exits, and claimable by any thread
//! of the process when the pool runs out of room.
//!
//! Finding the calling thread's cache must not cost a `__tls_get_addr` call
//! (what a thread-local costs in a shared library such as `libvmem.so` or the
//! Node addon): each pool keeps a few slots that map a thread's id (its
//! thread pointer, one instruction) to its cache. A slot is written only by
//! the thread it names, or claimed while empty, so a thread that finds its
//! own id in a slot also finds its own cache there. Threads that find no slot
//! fall back to a thread-local.
//!
//! A cache is its owner's alone except while another thread empties it: an
//! allocation that fails must reclaim what every thread caches for the pool,
//! including threads that are idle or blocked and will never call again. The
//! owner marks the cache in use around every use ([`ThreadCache::enter`]);
//! a reclaiming thread marks it claimed, waits until it is not in use, empties
//! it and lets it go. The owner's side is two plain stores and a load: the
//! ordering between its store and load that such a hand-over needs is paid by
//! the reclaiming thread alone (see [`crate::barrier`]).

use std::cell::{Cell, RefCell};
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tikv_jemalloc_sys as jemalloc;

use crate::barrier;
use crate::ctl;
use crate::fork::{ForkLocks, Release};
use crate::front::FrontCache;
use crate::log::Level;
use crate::sizeclass::SizeClasses;
use crate::sys::unix::thread_id;

/// Threads per pool that find their cache without a thread-local.
const THREAD_SLOTS: usize = 16;

/// What one thread keeps for one pool. The words every call touches come
/// first, on one cache line (`repr(C)` keeps the order).
#[repr(C)]
pub(crate) struct ThreadCache {
    /// Written by the owner only: it is using the cache.
    in_use: AtomicBool,
    /// Written by a reclaiming thread only: it is emptying the cache.
    claimed: AtomicBool,
    /// `MALLOCX_ARENA | MALLOCX_TCACHE` for this thread and pool.
    pub(crate) flags: i32,
    tcache: Option<u32>,
    /// Bytes jemalloc handed out through this cache minus bytes given back
    /// through it (negative when this thread frees others' blocks); written
    /// by whoever has the cache, read by anyone.
    live: AtomicIsize,
    /// Used only between [`enter`](Self::enter) and [`leave`](Self::leave),
    /// or by the thread that claimed the cache.
    pub(crate) front: FrontCache,
}

impl ThreadCache {
    /// Marks the cache in use by its owner; false (and not in use) while
    /// another thread has claimed it.
    #[inline(always)]
    pub(crate) fn try_enter(&self) -> bool {
        self.in_use.store(true, Ordering::Relaxed);
        barrier::light();
        if self.claimed.load(Ordering::Acquire) {
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
}

/// One thread's way to its cache for one pool.
#[derive(Default)]
struct ThreadSlot {
    /// The owner's [`thread_id`], 0 when free.
    thread: AtomicUsize,
    cache: AtomicPtr<ThreadCache>,
}

/// The slot a thread tries for every pool.
#[inline(always)]
fn slot_of(thread: usize) -> usize {
    // Thread pointers differ in their high bits (stacks are megabytes
    // apart): a multiplicative hash spreads them over the slots.
    ((thread as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (u64::BITS - THREAD_SLOTS.trailing_zeros())) as usize
}

/// The thread caches of one pool.
pub(crate) struct Threads {
    pool_id: u64,
    arena: u32,
    classes: &'static SizeClasses,
    /// The pool's size, which bounds what a front cache may keep.
    pool_len: usize,
    slots: [ThreadSlot; THREAD_SLOTS],
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

/// The thread caches of every live pool, by pool id: how an exiting thread
/// finds the pools it has caches for. A pool leaves it when it is deleted, so
/// nothing of a deleted pool outlives it but the small entries of threads
/// that used it (no heap block of their own). Held across `fork`.
pub(crate) static LIVE_POOLS: Mutex<Vec<(u64, Arc<Threads>)>> = Mutex::new(Vec::new());

fn live_pools() -> MutexGuard<'static, Vec<(u64, Arc<Threads>)>> {
    LIVE_POOLS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The thread caches of live pool `pool_id`.
fn live_pool(pool_id: u64) -> Option<Arc<Threads>> {
    live_pools().iter().find(|(id, _)| *id == pool_id).map(|(_, threads)| threads.clone())
}

/// This thread's way to its cache of one pool. The cache itself belongs to
/// the pool's list: freed when the thread exits or when the pool goes,
/// whichever comes first.
struct ThreadEntry {
    pool_id: u64,
    /// Reached through `LAST_USED` on the hot path; valid while the pool is
    /// live.
    cache: NonNull<ThreadCache>,
}

/// This thread's caches. Empties those whose pool is still alive at exit.
struct ThreadCaches(Vec<ThreadEntry>);

impl Drop for ThreadCaches {
    fn drop(&mut self) {
        // No later call on this thread may use a cache dropped here.
        let _ = LAST_USED.try_with(|last| last.set((0, ptr::null_mut())));
        for entry in std::mem::take(&mut self.0) {
            if let Some(threads) = live_pool(entry.pool_id) {
                threads.release(entry.cache);
            }
        }
    }
}

thread_local! {
    static THREAD_CACHES: RefCell<ThreadCaches> = const { RefCell::new(ThreadCaches(Vec::new())) };
    /// The pool this thread used last and its cache: the hot path's answer
    /// in one thread-local read (no destructor, so no lazy registration).
    static LAST_USED: Cell<(u64, *mut ThreadCache)> = const { Cell::new((0, ptr::null_mut())) };
}

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
            slots: Default::default(),
            orphaned_live: AtomicIsize::new(0),
            caches: Mutex::new(Some(Vec::new())),
        });
        live_pools().push((pool_id, threads.clone()));
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
        match self.current_from_slot() {
            Some(cache) => Some(cache),
            None => self.current_from_thread_local(),
        }
    }

    /// The calling thread's id and the one slot of this pool it may hold.
    #[inline(always)]
    fn my_slot(&self) -> (usize, &ThreadSlot) {
        let me = thread_id();
        (me, &self.slots[slot_of(me)])
    }

    /// The calling thread's cache if it holds a slot of this pool.
    #[inline(always)]
    pub(crate) fn current_from_slot(&self) -> Option<NonNull<ThreadCache>> {
        let (me, slot) = self.my_slot();
        // Relaxed: only this thread writes a slot that names it.
        if slot.thread.load(Ordering::Relaxed) == me {
            return NonNull::new(slot.cache.load(Ordering::Relaxed));
        }
        None
    }

    #[inline(never)]
    fn current_from_thread_local(self: &Arc<Self>) -> Option<NonNull<ThreadCache>> {
        let (last_pool, last_cache) = LAST_USED.with(Cell::get);
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
        let _ = LAST_USED.try_with(|last| last.set((self.pool_id, cache.as_ptr())));
        let (me, slot) = self.my_slot();
        // While allocations are traced, or memcheck watches the pool, no
        // thread takes a slot, so every call takes the paths that log and
        // tell memcheck.
        let tracing = crate::log::enabled(Level::Alloc) || crate::valgrind::active();
        if !tracing && slot.thread.compare_exchange(0, me, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
            slot.cache.store(cache.as_ptr(), Ordering::Relaxed);
        }
        Some(cache)
    }

    /// Frees the calling thread's slot, if it holds one (it is exiting).
    fn leave_slot(&self) {
        let (me, slot) = self.my_slot();
        if slot.thread.load(Ordering::Relaxed) == me {
            slot.cache.store(ptr::null_mut(), Ordering::Relaxed);
            slot.thread.store(0, Ordering::Relaxed);
        }
    }

    /// The calling thread's cache for this pool, if it has one.
    pub(crate) fn this_thread(&self) -> Option<NonNull<ThreadCache>> {
        THREAD_CACHES
            .try_with(|caches| caches.borrow().0.iter().find(|entry| entry.pool_id == self.pool_id).map(|e| e.cache))
            .ok()
            .flatten()
    }

    #[cold]
    fn register_thread(self: &Arc<Self>) -> Option<NonNull<ThreadCache>> {
        let mut list = self.lock();
        let list = list.as_mut()?;
        let tcache = match ctl::read::<u32>("tcache.create") {
            Ok(tcache) => Some(tcache),
            Err(errno) => {
                crate::vlog!(Level::Basic, "no thread cache for pool {} (error {errno})", self.pool_id);
                None
            }
        };
        let flags = ctl::mallocx_arena(self.arena) | tcache.map_or(ctl::MALLOCX_TCACHE_NONE, ctl::mallocx_tcache);
        let cache = Box::new(ThreadCache {
            flags,
            tcache,
            front: FrontCache::new(self.classes, self.pool_len),
            in_use: AtomicBool::new(false),
            claimed: AtomicBool::new(false),
            live: AtomicIsize::new(0),
        });
        let cache = NonNull::from(Box::leak(cache));
        let entry = ThreadEntry { pool_id: self.pool_id, cache };
        let registered = THREAD_CACHES.try_with(|caches| {
            let mut caches = caches.borrow_mut();
            // Forget the entries of pools that are gone (their objects went
            // with the pool's memory).
            let live = live_pools();
            caches.0.retain(|entry| live.iter().any(|(id, _)| *id == entry.pool_id));
            caches.0.push(entry);
        });
        match registered {
            Ok(()) => {
                list.push(cache);
                Some(cache)
            }
            // The thread is exiting: leave nothing behind.
            Err(_) => {
                if let Some(tcache) = tcache {
                    let _ = ctl::write("tcache.destroy", tcache);
                }
                // SAFETY: made by Box::leak above and never shared.
                drop(unsafe { Box::from_raw(cache.as_ptr()) });
                None
            }
        }
    }

    /// Counts `bytes` that jemalloc handed out (or, negative, took back)
    /// through `cache`, which the caller has to itself, or without a cache.
    pub(crate) fn count_live(&self, cache: Option<NonNull<ThreadCache>>, bytes: isize) {
        match cache {
            Some(cache) => {
                // SAFETY: a live cache the caller has to itself.
                let live = unsafe { &cache.as_ref().live };
                live.store(live.load(Ordering::Relaxed).wrapping_add(bytes), Ordering::Relaxed);
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
            unsafe { cache.as_ref() }.live.load(Ordering::Relaxed)
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
        // SAFETY: exclusive use (caller's contract); the take ends before
        // jemalloc runs, which may log through a user callback.
        let (objects, tcache) = unsafe {
            let cache = &mut *cache.as_ptr();
            (cache.front.take_all(), cache.tcache)
        };
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
        unsafe { self.empty(cache, owner.flags) };
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
            listed(cache).claimed.store(true, Ordering::Relaxed);
        }
        if !barrier::heavy() {
            // Without the process-wide barrier an owner's use could be
            // missed: give the caches back untouched, and empty only the
            // caller's own.
            for cache in list {
                listed(cache).claimed.store(false, Ordering::Release);
            }
            drop(guard);
            self.flush_current_thread();
            return;
        }
        for cache in list {
            let claimed = listed(cache);
            while claimed.in_use.load(Ordering::Acquire) {
                std::thread::yield_now();
            }
            // Objects go back without the owner's jemalloc cache, which is
            // the owner's to use (the owner may be this very caller).
            // SAFETY: claimed, and the owner left it (above).
            unsafe { self.empty(*cache, self.uncached_flags()) };
            claimed.claimed.store(false, Ordering::Release);
        }
    }

    /// Empties and destroys one thread's cache (the thread is exiting).
    fn release(&self, cache: NonNull<ThreadCache>) {
        self.leave_slot();
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
            let residue = cache.as_ref().live.load(Ordering::Relaxed);
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
        let _ = THREAD_CACHES.try_with(|caches| {
            if let Ok(mut caches) = caches.try_borrow_mut() {
                caches.0.retain(|entry| entry.pool_id != self.pool_id);
                if caches.0.is_empty() {
                    caches.0 = Vec::new();
                }
            }
        });
        let mut live = live_pools();
        live.retain(|(id, _)| *id != self.pool_id);
        if live.is_empty() {
            *live = Vec::new();
        }
    }
}

impl ForkLocks for Threads {
    /// In the child, the other threads are gone: their caches stay listed,
    /// to be reclaimed, but no longer in use or claimed, and their slots are
    /// free (a new thread may get a dead one's id).
    fn hold(&self) -> Release<'_> {
        let list = self.lock();
        Box::new(move |in_child| {
            if in_child {
                for cache in list.iter().flatten() {
                    // SAFETY: listed caches are alive while the lock is held.
                    let cache = unsafe { cache.as_ref() };
                    cache.in_use.store(false, Ordering::Relaxed);
                    cache.claimed.store(false, Ordering::Relaxed);
                }
                let me = thread_id();
                for slot in &self.slots {
                    if slot.thread.load(Ordering::Relaxed) != me {
                        slot.cache.store(ptr::null_mut(), Ordering::Relaxed);
                        slot.thread.store(0, Ordering::Relaxed);
                    }
                }
            }
            drop(list);
        })
    }
}

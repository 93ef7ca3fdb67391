//! Per-thread caches, one per (thread, pool): a front cache of small objects
//! over an explicit jemalloc cache, and the allocation paths through them.
//!
//! jemalloc's automatic thread cache is shared by every arena a thread uses,
//! so with several pools a cached object of one pool could be handed out by
//! another. Each thread therefore gets its own explicit cache (`tcache.create`)
//! for each pool it touches, and in front of it a [`FrontCache`] that serves
//! the common small allocations and frees without calling jemalloc at all.
//! The pool owns the list of its jemalloc caches and destroys them before its
//! arena; a thread that exits first empties and destroys its own.
//!
//! Finding the calling thread's cache must not cost a `__tls_get_addr` call
//! (what a thread-local costs in a shared library such as `libvmem.so` or the
//! Node addon): each pool keeps a few slots that map a thread's id (its
//! thread pointer, one instruction) to its cache. A slot is written only by
//! the thread it names, or claimed while empty, so a thread that finds its
//! own id in a slot also finds its own cache there. Threads that find no slot
//! fall back to a thread-local.

use std::cell::{Cell, RefCell};
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use tikv_jemalloc_sys as jemalloc;

use crate::arena;
use crate::ctl;
use crate::error::{Error, Result};
use crate::front::{FrontCache, BIN_MAX_OBJECTS};
use crate::log::Level;
use crate::pagemap::{PageMap, NOT_CACHED};
use crate::sizeclass::SizeClasses;
use crate::sys::unix::thread_id;

/// Threads per pool that find their cache without a thread-local.
const THREAD_SLOTS: usize = 16;

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

/// The caches of one pool, shared with the threads that use them.
pub(crate) struct PoolCaches {
    pool_id: u64,
    arena: u32,
    slots: [ThreadSlot; THREAD_SLOTS],
    classes: &'static SizeClasses,
    pages: PageMap,
    /// Live tcache indices; `None` once the pool is gone.
    live: Mutex<Option<Vec<u32>>>,
}

/// What one thread keeps for one pool.
struct ThreadCache {
    /// `MALLOCX_ARENA | MALLOCX_TCACHE` for this thread and pool.
    flags: i32,
    tcache: Option<u32>,
    front: FrontCache,
}

struct ThreadEntry {
    pool_id: u64,
    /// Owned (made by `Box::into_raw`); the hot path reaches it through
    /// `LAST_USED` without borrowing `THREAD_CACHES`.
    cache: NonNull<ThreadCache>,
    caches: Weak<PoolCaches>,
}

impl Drop for ThreadEntry {
    fn drop(&mut self) {
        // SAFETY: `cache` came from Box::into_raw and is freed only here;
        // entries are dropped outside any use of the cache.
        drop(unsafe { Box::from_raw(self.cache.as_ptr()) });
    }
}

/// This thread's caches. Empties those whose pool is still alive at exit.
struct ThreadCaches(Vec<ThreadEntry>);

impl Drop for ThreadCaches {
    fn drop(&mut self) {
        // No later call on this thread may use a cache dropped here.
        let _ = LAST_USED.try_with(|last| last.set((0, ptr::null_mut())));
        for entry in self.0.drain(..) {
            if let Some(caches) = entry.caches.upgrade() {
                caches.release(entry.cache);
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

impl PoolCaches {
    /// The caches of pool `pool_id`, whose memory is `[base, base + len)`.
    pub(crate) fn new(pool_id: u64, arena: u32, base: usize, len: usize) -> Result<Arc<Self>> {
        let classes = SizeClasses::get();
        let pages = PageMap::new(base, len, classes.page_shift())
            .map_err(|err| Error::from_io(&err, format_args!("cannot map the page map of a {len}-byte pool")))?;
        Ok(Arc::new(PoolCaches {
            pool_id,
            arena,
            slots: Default::default(),
            classes,
            pages,
            live: Mutex::new(Some(Vec::new())),
        }))
    }

    /// The `mallocx` flags for `cache`: its arena and jemalloc cache, or no
    /// cache on a thread without one (it is exiting).
    fn flags(&self, cache: Option<NonNull<ThreadCache>>) -> i32 {
        match cache {
            // SAFETY: this thread's cache; a plain read.
            Some(cache) => unsafe { (*cache.as_ptr()).flags },
            None => ctl::mallocx_arena(self.arena) | ctl::MALLOCX_TCACHE_NONE,
        }
    }

    /// Frees an object of class `bin` taken out of a front cache (or never
    /// put in one) to jemalloc.
    fn give_back(&self, bin: u8, object: NonNull<u8>, flags: i32) {
        // SAFETY: a live object of this pool's class `bin`; the flags name
        // its arena.
        unsafe { jemalloc::sdallocx(object.as_ptr().cast(), self.classes.size_of(bin), flags) };
    }

    /// The calling thread's cache for this pool (made on its first use), or
    /// `None` while the thread is exiting.
    #[inline(always)]
    fn current(self: &Arc<Self>) -> Option<NonNull<ThreadCache>> {
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
    fn current_from_slot(&self) -> Option<NonNull<ThreadCache>> {
        let (me, slot) = self.my_slot();
        // Relaxed: only this thread writes a slot that names it.
        if slot.thread.load(Ordering::Relaxed) == me {
            return NonNull::new(slot.cache.load(Ordering::Relaxed));
        }
        None
    }

    /// The fast path of a small allocation: an object from the calling
    /// thread's front cache, or `None` (then [`alloc`](Self::alloc) it).
    #[inline(always)]
    pub(crate) fn pop_cached(&self, size: usize) -> Option<NonNull<u8>> {
        // Sizes no bin caches map to a bin that is always empty.
        let bin = self.classes.bin_of(size);
        let cache = self.current_from_slot()?;
        // SAFETY: this thread's cache; the borrow ends with the pop.
        unsafe { (*cache.as_ptr()).front.pop(bin) }
    }

    /// The fast path of a free: into the calling thread's front cache when
    /// there is room; false otherwise (then [`free`](Self::free) it).
    ///
    /// # Safety
    ///
    /// `ptr` must be a live allocation of this pool.
    #[inline(always)]
    pub(crate) unsafe fn push_cached(&self, ptr: NonNull<u8>) -> bool {
        // NOT_CACHED names a bin that is always full.
        // SAFETY: a block of this pool (caller's contract).
        let bin = unsafe { self.pages.get_in_pool(ptr.as_ptr()) };
        let Some(cache) = self.current_from_slot() else { return false };
        // SAFETY: this thread's cache; the borrow ends with the push.
        unsafe { (*cache.as_ptr()).front.push(bin, ptr) }
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
        // While allocations are traced no thread takes a slot, so every call
        // takes the paths that log.
        let tracing = crate::log::enabled(Level::Alloc);
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
    fn this_thread(&self) -> Option<NonNull<ThreadCache>> {
        THREAD_CACHES
            .try_with(|caches| caches.borrow().0.iter().find(|entry| entry.pool_id == self.pool_id).map(|e| e.cache))
            .ok()
            .flatten()
    }

    #[cold]
    fn register_thread(self: &Arc<Self>) -> Option<NonNull<ThreadCache>> {
        let tcache = self.create_tcache();
        let flags = ctl::mallocx_arena(self.arena) | tcache.map_or(ctl::MALLOCX_TCACHE_NONE, ctl::mallocx_tcache);
        let cache = Box::new(ThreadCache { flags, tcache, front: FrontCache::new(self.classes) });
        let cache = NonNull::from(Box::leak(cache));
        let entry = ThreadEntry { pool_id: self.pool_id, cache, caches: Arc::downgrade(self) };
        let registered = THREAD_CACHES.try_with(|caches| {
            let mut caches = caches.borrow_mut();
            // Forget the entries of pools that are gone (their objects went
            // with the pool's memory).
            caches.0.retain(|entry| entry.caches.strong_count() > 0);
            caches.0.push(entry);
        });
        match registered {
            Ok(()) => Some(cache),
            // The thread is exiting and `entry` was dropped with the closure:
            // do not leave a jemalloc cache behind.
            Err(_) => {
                if let Some(tcache) = tcache {
                    self.destroy_tcache(tcache);
                }
                None
            }
        }
    }

    /// A new explicit tcache recorded in `live`, or `None` (no caching) when
    /// jemalloc has none left.
    fn create_tcache(&self) -> Option<u32> {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let live = live.as_mut()?;
        match ctl::read::<u32>("tcache.create") {
            Ok(tcache) => {
                live.push(tcache);
                Some(tcache)
            }
            Err(errno) => {
                crate::vlog!(Level::Basic, "no thread cache for pool {} (error {errno})", self.pool_id);
                None
            }
        }
    }

    fn destroy_tcache(&self, tcache: u32) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(live) = live.as_mut() {
            if let Some(position) = live.iter().position(|&t| t == tcache) {
                live.swap_remove(position);
                let _ = ctl::write("tcache.destroy", tcache);
            }
        }
    }

    /// Empties and destroys one thread's caches (the thread is exiting).
    fn release(&self, cache: NonNull<ThreadCache>) {
        self.leave_slot();
        // Holding the lock keeps the arena alive: the pool destroys its
        // arena only after `destroy_all` took the list.
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let Some(live) = live.as_mut() else { return };
        // SAFETY: the exiting thread's cache, no longer reachable from
        // LAST_USED, and the pool's arena is alive (above).
        let cache = unsafe { &mut *cache.as_ptr() };
        for (bin, object) in cache.front.take_all() {
            self.give_back(bin, object, cache.flags);
        }
        if let Some(position) = cache.tcache.and_then(|tcache| live.iter().position(|&t| t == tcache)) {
            let _ = ctl::write("tcache.destroy", live.swap_remove(position));
        }
    }

    /// Destroys every jemalloc cache of the pool, returning their objects to
    /// the arena; called before the arena is destroyed. Objects in front
    /// caches go with the pool.
    pub(crate) fn destroy_all(&self) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        for tcache in live.take().unwrap_or_default() {
            let _ = ctl::write("tcache.destroy", tcache);
        }
    }

    /// Returns the objects the calling thread caches for this pool to the
    /// arena (a thread may empty only its own caches).
    pub(crate) fn flush_current_thread(self: &Arc<Self>) {
        let Some(cache) = self.this_thread() else { return };
        // SAFETY: this thread's own cache; the take ends before jemalloc runs.
        let (objects, flags, tcache) = unsafe {
            let cache = &mut *cache.as_ptr();
            (cache.front.take_all(), cache.flags, cache.tcache)
        };
        for (bin, object) in objects {
            self.give_back(bin, object, flags);
        }
        if let Some(tcache) = tcache {
            let _ = ctl::write("tcache.flush", tcache);
        }
    }

    /// `size` (at least 1) bytes from the pool, or null when it is full.
    /// `extra_flags` are `mallocx` flags: zeroing, alignment.
    #[inline]
    pub(crate) fn alloc(self: &Arc<Self>, size: usize, extra_flags: i32) -> *mut u8 {
        let cache = self.current();
        let bin = self.classes.bin_of(size);
        if let (Some(cache), true) = (cache, bin != NOT_CACHED) {
            if extra_flags & !ctl::MALLOCX_ZERO == 0 {
                // SAFETY: this thread's cache; the borrow ends with the pop.
                let ptr = match unsafe { (*cache.as_ptr()).front.pop(bin) } {
                    Some(ptr) => ptr.as_ptr(),
                    None => self.refill(cache, bin),
                };
                if extra_flags & ctl::MALLOCX_ZERO != 0 && !ptr.is_null() {
                    // SAFETY: a block of at least `size` bytes.
                    unsafe { ptr.write_bytes(0, size) };
                }
                return ptr;
            }
        }
        self.alloc_uncached(cache, size, extra_flags)
    }

    /// Fetches a batch of `bin` objects from jemalloc: one to return, the
    /// rest into the front cache.
    #[inline(never)]
    fn refill(self: &Arc<Self>, cache: NonNull<ThreadCache>, bin: u8) -> *mut u8 {
        let size = self.classes.size_of(bin);
        // SAFETY: this thread's cache; plain reads.
        let (flags, batch) = unsafe { ((*cache.as_ptr()).flags, (*cache.as_ptr()).front.batch(bin)) };
        let first = self.jemalloc_alloc(size, flags, bin);
        if first.is_null() {
            return self.alloc_after_flush(size, flags, bin);
        }
        for _ in 1..batch {
            let Some(ptr) = NonNull::new(self.jemalloc_alloc(size, flags, bin)) else { break };
            // SAFETY: this thread's cache; no borrow is held across jemalloc
            // calls, which may log through a user callback.
            if !unsafe { (*cache.as_ptr()).front.push(bin, ptr) } {
                self.give_back(bin, ptr, flags);
                break;
            }
        }
        first
    }

    /// One object of class `bin` straight from jemalloc, recorded in the
    /// page map.
    #[inline]
    fn jemalloc_alloc(&self, size: usize, flags: i32, bin: u8) -> *mut u8 {
        // SAFETY: size is non-zero and the flags name this pool's arena and
        // this thread's cache for it.
        let ptr: *mut u8 = unsafe { jemalloc::mallocx(size, flags).cast() };
        if !ptr.is_null() {
            self.pages.set(ptr, bin);
        }
        ptr
    }

    /// Allocations the front cache does not serve: large, aligned, or on a
    /// thread without caches.
    fn alloc_uncached(self: &Arc<Self>, cache: Option<NonNull<ThreadCache>>, size: usize, extra_flags: i32) -> *mut u8 {
        let flags = self.flags(cache);
        // SAFETY: size is non-zero and the flags name this pool's arena.
        let ptr: *mut u8 = unsafe { jemalloc::mallocx(size, flags | extra_flags).cast() };
        if ptr.is_null() {
            return self.alloc_after_flush(size, flags | extra_flags, NOT_CACHED);
        }
        self.pages.set(ptr, NOT_CACHED);
        ptr
    }

    /// Out of memory: what this thread caches may be what is missing, and
    /// free extents jemalloc has not merged yet.
    #[cold]
    fn alloc_after_flush(self: &Arc<Self>, size: usize, flags: i32, page_entry: u8) -> *mut u8 {
        self.make_room();
        // SAFETY: as in `alloc_uncached`.
        let ptr: *mut u8 = unsafe { jemalloc::mallocx(size, flags).cast() };
        if !ptr.is_null() {
            self.pages.set(ptr, page_entry);
        }
        ptr
    }

    /// Everything this thread can do for an allocation that failed: empty
    /// its caches and have the arena merge its free extents.
    fn make_room(self: &Arc<Self>) {
        self.flush_current_thread();
        arena::purge(self.arena);
    }

    /// Frees `ptr`, a live object of this pool.
    ///
    /// # Safety
    ///
    /// `ptr` must be a live allocation of this pool.
    #[inline]
    pub(crate) unsafe fn free(self: &Arc<Self>, object: NonNull<u8>) {
        let bin = self.pages.get(object.as_ptr());
        let cache = self.current();
        if let (Some(cache), true) = (cache, bin != NOT_CACHED) {
            // SAFETY: this thread's cache; the borrow ends with the push.
            if unsafe { (*cache.as_ptr()).front.push(bin, object) } {
                return;
            }
            self.spill(cache, bin);
            // SAFETY: as above; the bin now has room unless a callback
            // during the spill filled it again.
            if unsafe { (*cache.as_ptr()).front.push(bin, object) } {
                return;
            }
        }
        // SAFETY: a live object of this pool; the flags name its arena.
        unsafe { jemalloc::dallocx(object.as_ptr().cast(), self.flags(cache)) };
    }

    /// Gives the older half of a full bin back to jemalloc.
    #[inline(never)]
    fn spill(&self, cache: NonNull<ThreadCache>, bin: u8) {
        let mut oldest = [NonNull::dangling(); BIN_MAX_OBJECTS];
        // SAFETY: this thread's cache; the borrow ends with the take.
        let (taken, flags) = unsafe {
            let cache = &mut *cache.as_ptr();
            let batch = cache.front.batch(bin);
            (cache.front.take_oldest(bin, &mut oldest[..batch]), cache.flags)
        };
        for &object in &oldest[..taken] {
            self.give_back(bin, object, flags);
        }
    }

    /// Resizes `ptr` (live, of this pool) to `size` (at least 1) bytes with
    /// extra `mallocx` flags; null when the pool is full.
    ///
    /// # Safety
    ///
    /// `ptr` must be a live allocation of this pool.
    pub(crate) unsafe fn realloc(self: &Arc<Self>, ptr: *mut u8, size: usize, extra_flags: i32) -> *mut u8 {
        let flags = self.flags(self.current());
        // SAFETY: a live object of this pool (caller's contract).
        let mut moved: *mut u8 = unsafe { jemalloc::rallocx(ptr.cast(), size, flags | extra_flags).cast() };
        if moved.is_null() {
            self.make_room();
            // SAFETY: as above; `ptr` is still live after a failed rallocx.
            moved = unsafe { jemalloc::rallocx(ptr.cast(), size, flags | extra_flags).cast() };
        }
        if !moved.is_null() {
            self.pages.set(moved, NOT_CACHED);
        }
        moved
    }

    /// The usable size of `ptr`, a live object of this pool.
    ///
    /// # Safety
    ///
    /// `ptr` must be a live allocation of this pool.
    pub(crate) unsafe fn usable_size(&self, ptr: *const u8) -> usize {
        match self.pages.get(ptr) {
            // SAFETY: a live jemalloc object (caller's contract).
            NOT_CACHED => unsafe { jemalloc::sallocx(ptr.cast(), 0) },
            bin => self.classes.size_of(bin),
        }
    }
}

//! The allocation paths of a pool through the calling thread's caches: a
//! front cache (small classes, and large ones up to 1 MiB) over an explicit
//! jemalloc cache.
//!
//! jemalloc's automatic thread cache is shared by every arena a thread uses,
//! so with several pools a cached object of one pool could be handed out by
//! another. Each thread therefore gets its own explicit cache (`tcache.create`)
//! for each pool it touches, and in front of it a
//! [`FrontCache`](crate::front::FrontCache) that serves the common
//! allocations and frees without calling jemalloc at all. Which cache is the
//! calling thread's, and how another thread may empty it, is
//! [`crate::threads`]' job. When the pool has no room, one place decides what
//! to do ([`PoolCaches::make_room_in_turn`]): every thread's caches go back to
//! the arena, the arena returns its free extents to the pool's free space,
//! and the allocation is tried again, in turns ([`room`]).

use std::ptr::NonNull;
use std::sync::Arc;

use vmem_jemalloc_sys as jemalloc;

use crate::arena;
use crate::ctl;
use crate::error::{Error, Result};
use crate::front::{Refill, BIN_MAX_OBJECTS};
use crate::log::Level;
use crate::pagemap::PageMap;
use crate::placement::Placement;
use crate::sizeclass::{SizeClasses, SmallBins, NO_BIN};
use crate::space::FreeSpace;
use crate::thread_cache::ThreadCache;
use crate::threads::Threads;

mod fast;
mod realloc;
mod room;

use room::RoomGate;

/// The caches of one pool and its allocation paths.
pub(crate) struct PoolCaches {
    pool_id: u64,
    /// Where the calling thread's home cache is ([`crate::home_cache`]).
    home_offset: usize,
    arena: u32,
    space: Arc<FreeSpace>,
    threads: Arc<Threads>,
    classes: &'static SizeClasses,
    /// The small part of `classes`' lookup, read by the hot path.
    small_bins: SmallBins,
    pages: PageMap,
    /// Where large blocks go in the pool.
    placement: Placement,
    /// The turns of allocations that need room.
    room: Arc<RoomGate>,
}

/// The calling thread's cache while it is in use: entered on creation, left
/// on drop, so no path can forget to leave it.
struct InUse(NonNull<ThreadCache>);

impl InUse {
    /// Enters `cache`, waiting while another thread empties it.
    fn enter(cache: NonNull<ThreadCache>) -> Self {
        // SAFETY: the calling thread's cache, alive while its thread is.
        unsafe { cache.as_ref() }.enter();
        let entered = InUse(cache);
        entered.front().open_gates_after_reclaim();
        entered
    }

    fn flags(&self) -> i32 {
        // SAFETY: entered; a plain read.
        unsafe { self.0.as_ref() }.flags
    }

    fn cache(&self) -> Option<NonNull<ThreadCache>> {
        Some(self.0)
    }

    /// The front cache, for one operation that calls no jemalloc and no
    /// user code (so no other borrow of it can start meanwhile).
    #[allow(clippy::mut_from_ref)]
    fn front(&self) -> &mut crate::front::FrontCache {
        // SAFETY: entered, so this thread has the cache to itself; callers
        // keep the borrow short (above).
        unsafe { &mut (*self.0.as_ptr()).front }
    }
}

impl Drop for InUse {
    fn drop(&mut self) {
        // SAFETY: as in `enter`.
        unsafe { self.0.as_ref() }.leave();
    }
}

impl PoolCaches {
    /// The caches of pool `pool_id`, whose arena is `arena` over `space`,
    /// its memory `[base, base + len)`.
    pub(crate) fn new(pool_id: u64, arena: u32, space: Arc<FreeSpace>, base: usize, len: usize) -> Result<Self> {
        let classes = SizeClasses::get();
        if classes.page_shift() < crate::pagemap::MAP_PAGE_SHIFT {
            return Err(Error::new(libc::ENOTSUP, "jemalloc's pages are smaller than 4 KiB"));
        }
        let pages = PageMap::new(base, len)
            .map_err(|err| Error::from_io(&err, format_args!("cannot map the page map of a {len}-byte pool")))?;
        let home_offset = crate::home_cache::offset();
        Ok(PoolCaches {
            pool_id,
            home_offset,
            arena,
            space,
            threads: Threads::new(pool_id, arena, classes, len),
            classes,
            small_bins: classes.small_bins(),
            pages,
            placement: Placement::for_base(base),
            room: Arc::default(),
        })
    }

    /// Returns the objects the calling thread caches for this pool to the
    /// arena (a thread may empty only its own caches this way).
    pub(crate) fn flush_current_thread(&self) {
        self.threads.flush_current_thread();
    }

    /// Everything that can make room for an allocation that failed (or for
    /// a large one, after churn): every thread's caches go back to the arena,
    /// and the arena returns its free extents to the pool, where they merge.
    /// Called in a turn of [`room`].
    #[cold]
    fn make_room_in_turn(&self) {
        self.threads.reclaim_all();
        arena::purge(self.arena);
    }

    /// Makes room before a large allocation (1/64 of the pool or more) when
    /// free space that jemalloc holds — cached by threads, or in extents it
    /// keeps for reuse — adds up to 1/32 of the pool. Placed among
    /// those pieces, the block would cut the pool's free space for good;
    /// after it, it lands where the pieces merged.
    #[inline]
    fn consolidate_before(&self, size: usize) {
        let len = self.space.len();
        if size < len / 64 {
            return;
        }
        let held = len - self.space.free_bytes();
        if held >= len / 32 && held.saturating_sub(self.threads.live_bytes()) >= len / 32 {
            self.make_room();
        }
    }

    /// `size` (at least 1) bytes from the pool, or null when it is full.
    /// `extra_flags` are `mallocx` flags: zeroing, alignment.
    #[inline]
    pub(crate) fn alloc(&self, size: usize, extra_flags: i32) -> *mut u8 {
        // Every path asks jemalloc for the bin's class (see `class_size`).
        let bin = self.classes.bin_of(size);
        let size = if bin == NO_BIN { size } else { self.classes.size_of(bin) };
        self.consolidate_before(size);
        let ptr = self.alloc_once(size, bin, extra_flags);
        if !ptr.is_null() {
            return ptr;
        }
        self.retry_making_room(|| self.alloc_once(size, bin, extra_flags))
    }

    /// One try at [`alloc`](Self::alloc): `size` is `bin`'s class (or any
    /// size when `bin` is [`NO_BIN`]).
    fn alloc_once(&self, size: usize, bin: u8, extra_flags: i32) -> *mut u8 {
        let Some(cache) = self.threads.current() else {
            return self.jemalloc_alloc(None, size, self.threads.uncached_flags() | extra_flags, NO_BIN);
        };
        let cache = InUse::enter(cache);
        if bin == NO_BIN || extra_flags & !ctl::MALLOCX_ZERO != 0 {
            return self.jemalloc_alloc(cache.cache(), size, cache.flags() | extra_flags, NO_BIN);
        }
        let ptr = match cache.front().pop(bin) {
            Some(ptr) => ptr.as_ptr(),
            None => self.refill(&cache, bin),
        };
        if extra_flags & ctl::MALLOCX_ZERO != 0 && !ptr.is_null() {
            // SAFETY: a block of at least `size` bytes.
            unsafe { ptr.write_bytes(0, size) };
        }
        ptr
    }

    /// Fetches a batch of `bin` objects from jemalloc: one to return, the
    /// rest into the front cache.
    #[inline(never)]
    fn refill(&self, cache: &InUse, bin: u8) -> *mut u8 {
        let size = self.classes.size_of(bin);
        // While another allocation waits for room, one object, straight from
        // the arena: no cache takes a batch of the room being made.
        let (flags, batch) = match self.room.pressed() {
            false => match cache.front().next_refill(bin) {
                Refill { objects, cached: true } => (cache.flags(), objects),
                // A class this thread has barely used: none for jemalloc's
                // cache either.
                Refill { objects, cached: false } => (self.threads.uncached_flags(), objects),
            },
            true => (self.threads.uncached_flags(), 1),
        };
        let first = self.jemalloc_alloc(cache.cache(), size, flags, bin);
        if first.is_null() {
            return first;
        }
        for _ in 1..batch {
            let Some(ptr) = NonNull::new(self.jemalloc_alloc(cache.cache(), size, flags, bin)) else { break };
            if !cache.front().push(bin, ptr) {
                self.threads.give_back(cache.0, bin, ptr, flags);
                break;
            }
        }
        first
    }

    /// One object straight from jemalloc, placed at its natural alignment
    /// ([`Placement`]), recorded in the page map under `page_entry` (its
    /// bin, or [`NO_BIN`]) and counted as live through `cache` (entered by
    /// the caller).
    #[inline]
    fn jemalloc_alloc(&self, cache: Option<NonNull<ThreadCache>>, size: usize, flags: i32, page_entry: u8) -> *mut u8 {
        let usable = match page_entry {
            // SAFETY: nallocx only computes (a size class, no lookup).
            NO_BIN => unsafe { jemalloc::nallocx(size, flags) },
            bin => self.classes.size_of(bin),
        };
        // SAFETY: size is non-zero and the flags name this pool's arena (and
        // this thread's cache for it, entered by the caller).
        let ptr: *mut u8 = unsafe { jemalloc::mallocx(size, self.placement.flags(flags, usable)).cast() };
        if ptr.is_null() {
            return ptr;
        }
        if !self.pages.covers(ptr) {
            return self.not_in_pool(ptr);
        }
        self.pages.set(ptr, page_entry);
        self.threads.count_live(cache, usable as isize);
        ptr
    }

    /// Frees a block straight to jemalloc through `flags` (`cache`'s, which
    /// the caller entered, or none), uncounting it.
    ///
    /// # Safety
    ///
    /// `object` must be a live allocation of this pool, recorded
    /// [`NO_BIN`] or of a bin that could not take it.
    unsafe fn jemalloc_free(&self, cache: Option<NonNull<ThreadCache>>, object: NonNull<u8>, flags: i32) {
        // SAFETY: a live object of this pool (caller's contract).
        let usable = unsafe { self.usable_size(object.as_ptr()) };
        // SAFETY: as above, of `usable` bytes (the size lets jemalloc skip
        // its own lookup); the flags name its arena.
        unsafe { jemalloc::sdallocx(object.as_ptr().cast(), usable, flags) };
        self.threads.count_live(cache, -(usable as isize));
    }

    /// A block jemalloc handed out from another arena: it does so on a thread
    /// whose jemalloc state was torn down (a thread-exit destructor running
    /// after jemalloc's), whatever arena it is asked for. Not the pool's
    /// memory, so freed again: the allocation fails.
    #[cold]
    fn not_in_pool(&self, ptr: *mut u8) -> *mut u8 {
        // SAFETY: a live block jemalloc just handed out; freeing it without
        // naming an arena lets jemalloc find its own.
        unsafe { jemalloc::dallocx(ptr.cast(), ctl::MALLOCX_TCACHE_NONE) };
        crate::vlog!(Level::Error, "no pool memory for a thread whose allocator state is gone");
        std::ptr::null_mut()
    }

    /// Frees `ptr`, a live object of this pool.
    ///
    /// # Safety
    ///
    /// `ptr` must be a live allocation of this pool.
    #[inline]
    pub(crate) unsafe fn free(&self, object: NonNull<u8>) {
        let bin = self.pages.get(object.as_ptr());
        let Some(cache) = self.threads.current() else {
            // SAFETY: a live object of this pool (caller's contract).
            unsafe { self.jemalloc_free(None, object, self.threads.uncached_flags()) };
            return;
        };
        let cache = InUse::enter(cache);
        if bin != NO_BIN {
            if cache.front().push_or_grow(bin, object) {
                return;
            }
            self.spill(&cache, bin);
            // The bin now has room, unless a logging callback during the
            // spill filled it again.
            if cache.front().push(bin, object) {
                return;
            }
        }
        // SAFETY: a live object of this pool; the flags name its arena and
        // this thread's (entered) cache.
        unsafe { self.jemalloc_free(cache.cache(), object, cache.flags()) };
    }

    /// Gives the older half of a full bin back to jemalloc, a few hundred
    /// objects at a time (a grown bin's half, at once, would put 16 KiB on
    /// the stack of a thread that may have little).
    #[inline(never)]
    fn spill(&self, cache: &InUse, bin: u8) {
        let mut oldest = [NonNull::dangling(); BIN_MAX_OBJECTS];
        let mut left = cache.front().spill_count(bin);
        while left > 0 {
            let taken = cache.front().take_oldest(bin, &mut oldest[..left.min(BIN_MAX_OBJECTS)]);
            if taken == 0 {
                break;
            }
            left -= taken;
            for &object in &oldest[..taken] {
                self.threads.give_back(cache.0, bin, object, cache.flags());
            }
        }
    }

    /// The usable size of `ptr`, a live object of this pool.
    ///
    /// # Safety
    ///
    /// `ptr` must be a live allocation of this pool.
    pub(crate) unsafe fn usable_size(&self, ptr: *const u8) -> usize {
        match self.pages.get(ptr) {
            // SAFETY: a live jemalloc object (caller's contract).
            NO_BIN => unsafe { jemalloc::sallocx(ptr.cast(), 0) },
            bin => self.classes.size_of(bin),
        }
    }

    /// The locks of the pool's caches to hold across `fork`, in taking
    /// order: a turn to make room takes the caches' lock.
    pub(crate) fn fork_locks(&self) -> [Arc<dyn crate::fork::ForkLocks>; 2] {
        [self.room.clone(), self.threads.clone()]
    }

    /// Destroys every jemalloc cache of the pool; called before its arena is
    /// destroyed.
    pub(crate) fn destroy_all(&self) {
        self.threads.destroy_all();
    }
}

//! The fast paths of a pool's allocations: a pop from, or a push onto, the
//! calling thread's front cache, in a few instructions, with no call. Every
//! other case returns `None` or false, and the caller takes the slow path.

use std::ptr::{addr_of_mut, NonNull};

use super::PoolCaches;
use crate::front::FrontCache;
use crate::hint::cold;
use crate::home_cache;
use crate::thread_cache::ThreadCache;

impl PoolCaches {
    /// The fast path of a small allocation: an object from the calling
    /// thread's front cache, or `None` (then [`alloc`](Self::alloc) it).
    #[inline(always)]
    pub(crate) fn pop_cached(&self, size: usize) -> Option<NonNull<u8>> {
        // Sizes no bin caches map to a bin that is always empty.
        let bin = match self.small_bins.get(size) {
            Some(bin) => bin,
            None => {
                // Laid out past the return, so that a small size's path has
                // no taken jump.
                cold();
                self.classes.large_bin_of(size)
            }
        };
        // SAFETY: the size tables' bins are below MAX_BINS.
        unsafe { Self::pop_from(self.hot_cache()?, bin) }
    }

    /// The calling thread's cache as the hot path finds it: its home cache
    /// or its home slot.
    #[inline(always)]
    fn hot_cache(&self) -> Option<NonNull<ThreadCache>> {
        match home_cache::get(self.pool_id, self.home_offset) {
            Some(cache) => Some(cache),
            None => {
                // Out of the straight path, which is the home cache's (a
                // program linked with vmem); a dlopened library (the Node.js
                // addon) always comes here, for the cost of a jump.
                cold();
                self.threads.current_from_home_slot()
            }
        }
    }

    /// [`pop_cached`](Self::pop_cached) for a thread that holds a slot past
    /// its home slot (the start of the slow path).
    pub(crate) fn pop_cached_past_home(&self, size: usize) -> Option<NonNull<u8>> {
        // SAFETY: the size tables' bins are below MAX_BINS.
        unsafe { Self::pop_from(self.threads.current_from_slot()?, self.classes.bin_of(size)) }
    }

    /// Pops an object of `bin` from `cache`, the calling thread's own.
    ///
    /// # Safety
    ///
    /// `bin` is below [`MAX_BINS`](crate::sizeclass::MAX_BINS): a number
    /// the size tables gave.
    #[inline(always)]
    unsafe fn pop_from(cache: NonNull<ThreadCache>, bin: u8) -> Option<NonNull<u8>> {
        // SAFETY: this thread's cache, alive while its thread is. Each
        // shared borrow of the whole cache ends before the front cache is
        // written through `cache`, and a new one starts after.
        unsafe { cache.as_ref() }.enter_gated();
        // SAFETY: entered (gated): this thread's alone but for what a
        // reclaiming thread may do to the gates; `bin` is below MAX_BINS
        // (caller's contract).
        let object = unsafe { FrontCache::pop_entered(addr_of_mut!((*cache.as_ptr()).front), usize::from(bin)) };
        // SAFETY: as above.
        unsafe { cache.as_ref() }.leave();
        object
    }

    /// The fast path of a free: into the calling thread's front cache when
    /// there is room; false otherwise (then [`free`](Self::free) it).
    ///
    /// # Safety
    ///
    /// `ptr` must be a live allocation of this pool.
    #[inline(always)]
    pub(crate) unsafe fn push_cached(&self, ptr: NonNull<u8>) -> bool {
        // NO_BIN names a bin that is always full.
        // SAFETY: a block of this pool (caller's contract).
        let bin = unsafe { self.pages.get_in_pool(ptr.as_ptr()) };
        let Some(cache) = self.hot_cache() else { return false };
        // SAFETY: the page map's entries are below MAX_BINS.
        unsafe { Self::push_to(cache, bin, ptr) }
    }

    /// [`push_cached`](Self::push_cached) for a thread that holds a slot
    /// past its home slot (the start of the slow path).
    ///
    /// # Safety
    ///
    /// `ptr` must be a live allocation of this pool.
    pub(crate) unsafe fn push_cached_past_home(&self, ptr: NonNull<u8>) -> bool {
        let Some(cache) = self.threads.current_from_slot() else { return false };
        // SAFETY: a block of this pool (caller's contract); the page map's
        // entries are below MAX_BINS.
        unsafe { Self::push_to(cache, self.pages.get_in_pool(ptr.as_ptr()), ptr) }
    }

    /// Pushes `ptr`, an object of `bin`, onto `cache`, the calling thread's
    /// own.
    ///
    /// # Safety
    ///
    /// `bin` is below [`MAX_BINS`](crate::sizeclass::MAX_BINS): a number
    /// the page map gave.
    #[inline(always)]
    unsafe fn push_to(cache: NonNull<ThreadCache>, bin: u8, ptr: NonNull<u8>) -> bool {
        // SAFETY: as in `pop_from`.
        unsafe { cache.as_ref() }.enter_gated();
        // SAFETY: as in `pop_from`.
        let pushed = unsafe { FrontCache::push_entered(addr_of_mut!((*cache.as_ptr()).front), usize::from(bin), ptr) };
        // SAFETY: as in `pop_from`.
        unsafe { cache.as_ref() }.leave();
        pushed
    }
}

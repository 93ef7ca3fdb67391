//! Resizing a block of the pool: in place when jemalloc can, else moved
//! to a block placed as a new one would be.

use std::ptr::NonNull;

use vmem_jemalloc_sys as jemalloc;

use super::{InUse, PoolCaches};
use crate::ctl;
use crate::sizeclass::NO_BIN;

impl PoolCaches {
    /// Resizes `ptr` (live, of this pool) to `size` (at least 1) bytes with
    /// extra `mallocx` flags; null when the pool is full.
    ///
    /// # Safety
    ///
    /// `ptr` must be a live allocation of this pool.
    pub(crate) unsafe fn realloc(&self, ptr: *mut u8, size: usize, extra_flags: i32) -> *mut u8 {
        let size = self.classes.class_size(size);
        self.consolidate_before(size);
        // SAFETY: forwarded from the caller's contract.
        let moved = unsafe { self.realloc_once(ptr, size, extra_flags) };
        if !moved.is_null() {
            return moved;
        }
        // SAFETY: as above; `ptr` is still live after a failed rallocx.
        self.retry_making_room(|| unsafe { self.realloc_once(ptr, size, extra_flags) })
    }

    /// One try at [`realloc`](Self::realloc): in place when jemalloc can,
    /// else moved to a block placed as a new one would be; null when it must
    /// move and there is no room (then `ptr` is as it was).
    ///
    /// # Safety
    ///
    /// `ptr` must be a live allocation of this pool.
    unsafe fn realloc_once(&self, ptr: *mut u8, size: usize, extra_flags: i32) -> *mut u8 {
        let Some(cache) = self.threads.current().map(InUse::enter) else {
            // SAFETY: forwarded from the caller's contract.
            return unsafe { self.realloc_by_copy(ptr, size, extra_flags) };
        };
        let flags = cache.flags() | extra_flags;
        // SAFETY: a live object of this pool (caller's contract).
        let before = unsafe { self.usable_size(ptr) };
        // SAFETY: nallocx only computes (a size class, no lookup).
        let class = unsafe { jemalloc::nallocx(size, flags) };
        // In place first, wherever the block lies: asked for the new size's
        // natural alignment (placement.rs), jemalloc would move a block that
        // does not have it, so a shrink in a full pool failed, and a block
        // could not grow into the free space after it. An alignment the
        // caller asks for the block must have already: xallocx never moves
        // it, and answers its old size both when it cannot resize and when
        // the address lacks the alignment.
        let aligned = (ptr as usize) & (ctl::alignment_of(flags) - 1) == 0;
        // SAFETY: as above; the flags name its arena and this thread's
        // (entered) cache. xallocx resizes to `size` or leaves the block as
        // it was; its usable size then equals `class` only if the block
        // already fits the request.
        let resized = aligned && unsafe { jemalloc::xallocx(ptr.cast(), size, 0, flags) } == class;
        let moved = match resized {
            true => ptr,
            // SAFETY: as above.
            false => unsafe { jemalloc::rallocx(ptr.cast(), size, self.placement.flags(flags, class)).cast() },
        };
        if !moved.is_null() {
            self.pages.set(moved, NO_BIN);
            // SAFETY: a live object jemalloc just handed out.
            let after = unsafe { jemalloc::sallocx(moved.cast(), 0) };
            self.threads.count_live(cache.cache(), after as isize - before as isize);
        }
        moved
    }

    /// `realloc` on a thread without caches (it is exiting), where jemalloc
    /// may have lost track of arenas and `rallocx` could move the block out
    /// of the pool: allocate, copy, free, each step checked.
    ///
    /// # Safety
    ///
    /// `ptr` must be a live allocation of this pool.
    #[cold]
    unsafe fn realloc_by_copy(&self, ptr: *mut u8, size: usize, extra_flags: i32) -> *mut u8 {
        let moved = self.jemalloc_alloc(None, size, self.threads.uncached_flags() | extra_flags, NO_BIN);
        if !moved.is_null() {
            // SAFETY: `ptr` is live (caller's contract) with at least its
            // usable size; `moved` is a fresh block of at least `size` bytes.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, moved, self.usable_size(ptr).min(size));
                self.free(NonNull::new_unchecked(ptr));
            }
        }
        moved
    }
}

//! `malloc` and `free` split in two for the C ABI: a fast path that calls
//! nothing that can unwind (served without an unwinding guard, whose landing
//! pad would cost every call a stack frame), and the rest out of line.

use std::ptr::NonNull;

use super::Pool;
use crate::error::Result;
use crate::log::Level;
use crate::valgrind;

impl Pool {
    /// [`malloc`](Self::malloc)'s fast path alone: a block from the calling
    /// thread's front cache, or `None`. It calls nothing that can unwind, so
    /// the C ABI serves it without its unwinding guard (whose landing pad
    /// would cost every call a stack frame).
    #[doc(hidden)]
    #[inline(always)]
    pub fn malloc_cached(&self, size: usize) -> Option<NonNull<u8>> {
        self.caches.pop_cached(size)
    }

    /// [`free`](Self::free)'s fast path alone: true when `ptr` went into the
    /// calling thread's front cache (see [`malloc_cached`](Self::malloc_cached)).
    ///
    /// # Safety
    ///
    /// As for [`free`](Self::free).
    #[doc(hidden)]
    #[inline(always)]
    pub unsafe fn free_cached(&self, ptr: *mut u8) -> bool {
        // SAFETY: the pool starts above address 0, so a pointer into it is
        // not null; and it is a live block (caller's contract).
        self.contains(ptr) && unsafe { self.caches.push_cached(NonNull::new_unchecked(ptr)) }
    }

    /// [`malloc`](Self::malloc) without its fast path, for a caller that
    /// has just tried [`malloc_cached`](Self::malloc_cached).
    #[doc(hidden)]
    #[inline(never)]
    pub fn malloc_slow(&self, size: usize) -> Result<NonNull<u8>> {
        // A thread whose home slot another thread holds still pops from its
        // front cache, a few loads later.
        if let Some(ptr) = self.caches.pop_cached_past_home(size) {
            return Ok(ptr);
        }
        self.finish_alloc(self.alloc_raw(size.max(1), 0), size, "malloc")
    }

    /// [`free`](Self::free) without its fast path, for a caller that has
    /// just tried [`free_cached`](Self::free_cached).
    ///
    /// # Safety
    ///
    /// As for [`free`](Self::free).
    #[doc(hidden)]
    #[inline(never)]
    pub unsafe fn free_slow(&self, ptr: *mut u8) {
        // As in `malloc_slow`: a thread that holds a slot past its home slot.
        // SAFETY: the pool starts above address 0, so a pointer into it is
        // not null; and it is a live block (caller's contract).
        if self.contains(ptr) && unsafe { self.caches.push_cached_past_home(NonNull::new_unchecked(ptr)) } {
            return;
        }
        crate::vlog!(Level::Alloc, "free({ptr:p})");
        if ptr.is_null() {
            return;
        }
        if !self.contains(ptr) {
            // Nothing to return: the refusal is only reported.
            self.foreign_pointer(ptr);
            return;
        }
        if valgrind::active() {
            // Told to memcheck first: from then on the block is NOACCESS.
            valgrind::free(self.base(), ptr);
        }
        // SAFETY: inside the pool, so not null; a live block of this pool
        // (caller's contract).
        unsafe { self.caches.free(NonNull::new_unchecked(ptr)) };
    }
}

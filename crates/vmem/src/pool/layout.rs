//! Allocation by `Layout` (size and alignment), for the
//! [`Allocator`](allocator_api2::alloc::Allocator) implementations in
//! `alloc_api`. Failure is a null pointer, as that trait wants: nothing is
//! reported or logged.

use super::Pool;
use crate::ctl;

impl Pool {
    /// Allocates `size` bytes aligned to `align`; null when the pool has no
    /// room.
    pub(crate) fn alloc_layout(&self, size: usize, align: usize) -> *mut u8 {
        self.alloc_raw(size.max(1), align_flags(align))
    }

    /// Resizes with alignment kept; null (the block untouched) when the pool
    /// has no room.
    ///
    /// # Safety
    ///
    /// `ptr` is a live block of this pool.
    pub(crate) unsafe fn realloc_layout(&self, ptr: *mut u8, size: usize, align: usize) -> *mut u8 {
        // SAFETY: forwarded from the caller's contract.
        unsafe { self.resize_raw(ptr, size.max(1), align_flags(align)) }
    }
}

/// `mallocx` flags for an alignment: none when jemalloc's natural alignment
/// (16 bytes, or 8 for 8-byte objects) already gives it, so such requests
/// can use the front cache.
fn align_flags(align: usize) -> i32 {
    if align <= 8 {
        0
    } else {
        ctl::mallocx_lg_align(align.trailing_zeros())
    }
}

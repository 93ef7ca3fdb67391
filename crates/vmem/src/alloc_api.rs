//! `&Pool` as an [`Allocator`], so `allocator_api2` and `hashbrown`
//! collections can live in a pool.

use std::ptr::NonNull;

use allocator_api2::alloc::{AllocError, Allocator, Layout};

use crate::Pool;

/// # Example
///
/// ```
/// use allocator_api2::vec::Vec;
///
/// let pool = vmem::Pool::create(std::env::temp_dir(), vmem::MIN_POOL)?;
/// let mut numbers = Vec::new_in(&pool);
/// numbers.extend([1, 2, 3]);
/// assert!(pool.contains(numbers.as_ptr().cast()));
/// # Ok::<(), vmem::Error>(())
/// ```
// SAFETY: blocks come from jemalloc and stay valid until deallocated or the
// pool is dropped, which the `&Pool` borrow prevents while they are in use;
// `Pool` is Sync, so clones of `&Pool` may be used from any thread.
unsafe impl Allocator for &Pool {
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        let ptr = NonNull::new(self.alloc_layout(layout.size(), layout.align())).ok_or(AllocError)?;
        Ok(NonNull::slice_from_raw_parts(ptr, layout.size()))
    }

    unsafe fn deallocate(&self, ptr: NonNull<u8>, _layout: Layout) {
        // SAFETY: the Allocator contract says `ptr` came from this allocator.
        unsafe { self.free(ptr.as_ptr()) }
    }

    unsafe fn grow(&self, ptr: NonNull<u8>, _old: Layout, new: Layout) -> Result<NonNull<[u8]>, AllocError> {
        // SAFETY: `ptr` is a live block of this pool (Allocator contract).
        let moved = unsafe { self.realloc_layout(ptr.as_ptr(), new.size(), new.align()) };
        let moved = NonNull::new(moved).ok_or(AllocError)?;
        Ok(NonNull::slice_from_raw_parts(moved, new.size()))
    }

    unsafe fn shrink(&self, ptr: NonNull<u8>, old: Layout, new: Layout) -> Result<NonNull<[u8]>, AllocError> {
        // SAFETY: as in `grow`.
        unsafe { self.grow(ptr, old, new) }
    }
}

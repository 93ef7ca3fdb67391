//! Pools as [`Allocator`]s, so `allocator_api2` and `hashbrown` collections
//! can live in a pool: `&Pool` for collections that borrow the pool, and
//! [`SharedPool`] for collections that own (a share of) it.
//!
//! Zero-sized requests never touch the pool, as with the global allocator:
//! they get a dangling pointer aligned to the layout, and giving back a
//! zero-sized block does nothing. That matters for `shrink` to size 0
//! (`Vec::shrink_to_fit` on an empty vector): `allocator_api2`'s `RawVec`
//! forgets the block it gets back when the new capacity is 0, so that block
//! must be the freed old one's dangling stand-in, not a fresh 1-byte block.

use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::Arc;

use allocator_api2::alloc::{AllocError, Allocator, Layout};

use crate::Pool;

/// The block a zero-sized request gets: non-null, aligned to `layout`, and
/// never dereferenced or handed to the pool (what `Global` returns).
fn dangling(layout: Layout) -> NonNull<[u8]> {
    // An address equal to the alignment (a non-zero power of two) is aligned
    // and non-null; `without_provenance` marks it as pointing at nothing.
    let ptr = NonNull::new(std::ptr::without_provenance_mut::<u8>(layout.align())).unwrap_or(NonNull::dangling());
    NonNull::slice_from_raw_parts(ptr, 0)
}

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
// Zero-sized blocks are dangling and never reach the pool.
unsafe impl Allocator for &Pool {
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        if layout.size() == 0 {
            return Ok(dangling(layout));
        }
        let ptr = NonNull::new(self.alloc_layout(layout.size(), layout.align())).ok_or(AllocError)?;
        Ok(NonNull::slice_from_raw_parts(ptr, layout.size()))
    }

    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        if layout.size() == 0 {
            return; // a dangling stand-in, see `allocate`
        }
        // SAFETY: the Allocator contract says `ptr` came from this allocator.
        unsafe { self.free(ptr.as_ptr()) }
    }

    unsafe fn grow(&self, ptr: NonNull<u8>, old: Layout, new: Layout) -> Result<NonNull<[u8]>, AllocError> {
        if old.size() == 0 {
            // `ptr` is dangling, not a pool block: there is nothing to move.
            return self.allocate(new);
        }
        // SAFETY: `ptr` is a live, non-empty block of this pool (Allocator contract).
        let moved = unsafe { self.realloc_layout(ptr.as_ptr(), new.size(), new.align()) };
        let moved = NonNull::new(moved).ok_or(AllocError)?;
        Ok(NonNull::slice_from_raw_parts(moved, new.size()))
    }

    unsafe fn shrink(&self, ptr: NonNull<u8>, old: Layout, new: Layout) -> Result<NonNull<[u8]>, AllocError> {
        if new.size() == 0 {
            // Free, as `Global` does: the caller keeps only the dangling
            // pointer, so a 1-byte block here would leak (issue #12).
            // SAFETY: `ptr` with layout `old` came from this allocator.
            unsafe { self.deallocate(ptr, old) };
            return Ok(dangling(new));
        }
        // SAFETY: as in `grow`; `new.size()` is not 0, so `old.size()` is not either.
        unsafe { self.grow(ptr, old, new) }
    }
}

/// A cloneable, owning handle to a [`Pool`] that is an [`Allocator`]:
/// collections that allocate through it keep the pool alive, so they can be
/// struct fields, be returned from functions or move into spawned threads
/// without a borrow of the pool.
///
/// It is an [`Arc<Pool>`] underneath: clones share one pool, which is
/// dropped (and its file deleted) when the last handle — including those
/// held by collections — is gone. It dereferences to the [`Pool`], so the
/// malloc-style calls stay available.
///
/// # Example
///
/// ```
/// use vmem::allocator_api2::vec::Vec;
/// use vmem::SharedPool;
///
/// struct Service {
///     log: Vec<u64, SharedPool>,
/// }
///
/// let pool = SharedPool::new(vmem::Pool::create(std::env::temp_dir(), vmem::MIN_POOL)?);
/// let mut service = Service { log: Vec::new_in(pool.clone()) };
/// service.log.extend([1, 2, 3]);
///
/// // A collection and its handle move into another thread together.
/// let worker = std::thread::spawn(move || {
///     service.log.push(4);
///     service.log.iter().sum::<u64>()
/// });
/// assert_eq!(worker.join().unwrap(), 10);
/// // The vector and its handle were dropped in the worker: one handle left.
/// assert_eq!(std::sync::Arc::strong_count(pool.as_arc()), 1);
/// # Ok::<(), vmem::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct SharedPool(Arc<Pool>);

impl SharedPool {
    /// Wraps `pool` in a new handle.
    pub fn new(pool: Pool) -> SharedPool {
        SharedPool(Arc::new(pool))
    }

    /// The shared pool as an [`Arc`], for code that wants one.
    pub fn as_arc(&self) -> &Arc<Pool> {
        &self.0
    }

    /// Unwraps the handle into its [`Arc`].
    pub fn into_arc(self) -> Arc<Pool> {
        self.0
    }
}

impl From<Pool> for SharedPool {
    fn from(pool: Pool) -> SharedPool {
        SharedPool::new(pool)
    }
}

impl From<Arc<Pool>> for SharedPool {
    fn from(pool: Arc<Pool>) -> SharedPool {
        SharedPool(pool)
    }
}

impl Deref for SharedPool {
    type Target = Pool;

    fn deref(&self) -> &Pool {
        &self.0
    }
}

impl AsRef<Pool> for SharedPool {
    fn as_ref(&self) -> &Pool {
        &self.0
    }
}

// SAFETY: every call goes to `&Pool`'s implementation above, on the one pool
// all clones share; the `Arc` keeps that pool (and so every block) alive
// until the last clone, including those inside collections, is dropped.
// `Pool` is Send + Sync, so the handle may move to and be shared by threads.
unsafe impl Allocator for SharedPool {
    #[inline]
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        (&*self.0).allocate(layout)
    }

    #[inline]
    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        // SAFETY: forwarded from the caller's contract; same pool.
        unsafe { (&*self.0).deallocate(ptr, layout) }
    }

    #[inline]
    unsafe fn grow(&self, ptr: NonNull<u8>, old: Layout, new: Layout) -> Result<NonNull<[u8]>, AllocError> {
        // SAFETY: forwarded from the caller's contract; same pool.
        unsafe { (&*self.0).grow(ptr, old, new) }
    }

    #[inline]
    unsafe fn shrink(&self, ptr: NonNull<u8>, old: Layout, new: Layout) -> Result<NonNull<[u8]>, AllocError> {
        // SAFETY: forwarded from the caller's contract; same pool.
        unsafe { (&*self.0).shrink(ptr, old, new) }
    }
}

//! The allocation paths under Valgrind: every block is a memcheck chunk of
//! its usable size, and jemalloc's own writes into the pool are kept quiet.

use super::Pool;
use crate::ctl;
use crate::valgrind;

impl Pool {
    /// [`alloc_raw`](Pool::alloc_raw) under Valgrind: the block becomes a
    /// memcheck chunk of its usable size (the program may use all of it).
    /// jemalloc's writes into the pool (zeroing extents) are not the
    /// program's, so they are not reported; calloc's zeroing is done here,
    /// after the block is a chunk, so its zeros are DEFINED.
    #[cold]
    #[inline(never)]
    pub(super) fn alloc_under_valgrind(&self, size: usize, extra_flags: i32) -> *mut u8 {
        let flags = extra_flags & !ctl::MALLOCX_ZERO;
        let ptr = valgrind::quietly(|| self.caches.alloc(size, flags));
        if !ptr.is_null() {
            // SAFETY: a live block of this pool, just allocated.
            valgrind::alloc(self.base(), ptr, unsafe { self.caches.usable_size(ptr) });
            if extra_flags & ctl::MALLOCX_ZERO != 0 {
                // SAFETY: a block of at least `size` bytes.
                unsafe { ptr.write_bytes(0, size) };
            }
        }
        ptr
    }

    /// A resize under Valgrind: jemalloc's own resize (in place when it can,
    /// as outside Valgrind), with its copy kept quiet, then the old chunk
    /// freed and the new one allocated in memcheck's books, the kept bytes
    /// as defined or undefined as they were.
    ///
    /// # Safety
    ///
    /// `ptr` is a live block of this pool; `size` is at least 1.
    #[cold]
    #[inline(never)]
    pub(super) unsafe fn realloc_under_valgrind(&self, ptr: *mut u8, size: usize, extra_flags: i32) -> *mut u8 {
        // SAFETY: a live block of this pool (caller's contract).
        let keep = unsafe { self.caches.usable_size(ptr) }.min(size);
        let vbits = valgrind::definedness(ptr, keep);
        // SAFETY: as above.
        let moved = valgrind::quietly(|| unsafe { self.caches.realloc(ptr, size, extra_flags) });
        if !moved.is_null() {
            valgrind::free(self.base(), ptr);
            // SAFETY: a live block of this pool, just resized.
            valgrind::alloc(self.base(), moved, unsafe { self.caches.usable_size(moved) });
            valgrind::set_definedness(moved, keep, vbits);
        }
        moved
    }
}

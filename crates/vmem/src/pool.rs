//! [`Pool`]: a malloc-like heap over one pool's memory — its malloc-family
//! calls, statistics and checks. Creation and teardown, the string copies,
//! the Valgrind paths and allocation by `Layout` are in the submodules.

mod create;
mod layout;
mod memcheck;
mod split;
mod strings;

use std::ptr::{self, NonNull};

use crate::arena::Arena;
use crate::blocks::BlockTable;
use crate::ctl;
use crate::error::{Error, Result};
use crate::log::{self, Level};
use crate::mapping::MemoryKind;
use crate::registry;
use crate::stats::{self, PoolStats};
use crate::tcache::PoolCaches;
use crate::valgrind;

/// A pool of volatile memory on a memory-mapped file, with malloc-like calls.
///
/// The pool's memory lives outside the process heap: in a temporary file on
/// tmpfs, a persistent-memory (DAX) file system or a disk, or in a region the
/// caller mapped. Everything in it is gone when the pool is dropped or the
/// process ends. A pool is `Send + Sync`: threads may allocate from one pool
/// and free each other's blocks. `&Pool` is an
/// [`Allocator`](allocator_api2::alloc::Allocator), so collections can live in
/// a pool.
///
/// # Example
///
/// ```
/// use vmem::Pool;
///
/// let pool = Pool::create(std::env::temp_dir(), vmem::MIN_POOL)?;
/// let block = pool.malloc(100)?;
/// // SAFETY: `block` is a live 100-byte allocation of `pool`.
/// unsafe {
///     block.as_ptr().write_bytes(7, 100);
///     assert!(pool.usable_size(block.as_ptr()) >= 100);
///     pool.free(block.as_ptr());
/// }
/// # Ok::<(), vmem::Error>(())
/// ```
pub struct Pool {
    id: u64,
    base: usize,
    len: usize,
    caches: PoolCaches,
    /// Blocks listed for sharing between threads (see `blocks.rs`).
    blocks: BlockTable,
    /// Declared last: dropped after the caches are gone, and it unmaps.
    arena: Arena,
}

impl Pool {
    /// The pool's process-unique id: ids count up from 1 and are never
    /// reused, so an id names one pool for the life of the process.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Gives back every block the calling thread caches for this pool (its
    /// front cache and jemalloc's thread cache) to the pool's arena, so
    /// that statistics and other threads see them free. Other threads'
    /// caches are theirs to flush.
    pub fn flush(&self) {
        self.caches.flush_current_thread();
    }

    /// The blocks listed for sharing between threads.
    pub(crate) fn blocks(&self) -> &BlockTable {
        &self.blocks
    }

    /// The first byte of the pool's memory.
    pub fn base(&self) -> *mut u8 {
        self.base as *mut u8
    }

    /// The size of the pool's memory in bytes.
    pub fn size(&self) -> usize {
        self.len
    }

    /// Where the pool's memory comes from.
    pub fn kind(&self) -> MemoryKind {
        self.arena.memory().kind()
    }

    /// Whether `ptr` points into this pool's memory.
    #[inline]
    pub fn contains(&self, ptr: *const u8) -> bool {
        (ptr as usize).wrapping_sub(self.base) < self.len
    }

    /// Checks the pool's internal consistency (libvmem's `vmem_check`):
    /// `Ok(true)` when consistent, `Ok(false)` when not — another live pool
    /// shares its memory, or its arena no longer runs on its hooks. Never
    /// modifies the pool.
    ///
    /// ```
    /// let pool = vmem::Pool::create(std::env::temp_dir(), vmem::MIN_POOL)?;
    /// assert_eq!(pool.check(), Ok(true));
    /// # Ok::<(), vmem::Error>(())
    /// ```
    pub fn check(&self) -> Result<bool> {
        crate::vlog!(Level::Call, "check pool {}", self.id);
        if !registry::is_alone(self.id) {
            crate::vlog!(Level::Error, "pool {} overlaps another live pool", self.id);
            return Ok(false);
        }
        Ok(self.arena.hooks_intact())
    }

    /// A snapshot of the pool's statistics. Blocks freed by this thread are
    /// returned from its caches first; blocks cached by other threads still
    /// count as allocated until those threads exit.
    ///
    /// ```
    /// let pool = vmem::Pool::create(std::env::temp_dir(), vmem::MIN_POOL)?;
    /// let block = pool.malloc(1 << 20)?;
    /// assert!(pool.stats().allocated >= 1 << 20);
    /// # unsafe { pool.free(block.as_ptr()) };
    /// # Ok::<(), vmem::Error>(())
    /// ```
    pub fn stats(&self) -> PoolStats {
        self.caches.flush_current_thread();
        stats::collect(self.arena.index(), self.len, self.arena.used())
    }

    /// Prints the pool's statistics, jemalloc style, through the print
    /// function (see [`set_funcs`](crate::set_funcs)). Each character of
    /// `opts` leaves a part out: `g` general information, `m` the pool
    /// totals, `a` the per-arena part, `b` its bins, `l` its large classes;
    /// other characters are ignored.
    ///
    /// ```
    /// let pool = vmem::Pool::create(std::env::temp_dir(), vmem::MIN_POOL)?;
    /// pool.stats_print("gbl");
    /// # Ok::<(), vmem::Error>(())
    /// ```
    pub fn stats_print(&self, opts: &str) {
        log::print(&self.stats_text(opts));
    }

    /// The text [`stats_print`](Pool::stats_print) prints, as a string.
    ///
    /// ```
    /// let pool = vmem::Pool::create(std::env::temp_dir(), vmem::MIN_POOL)?;
    /// assert!(pool.stats_text("").starts_with("___ Begin vmem statistics ___"));
    /// # Ok::<(), vmem::Error>(())
    /// ```
    pub fn stats_text(&self, opts: &str) -> String {
        stats::render(self.arena.index(), self.base(), &self.stats(), opts)
    }

    /// Returns the pages of freed memory to the file system now, rather than
    /// after jemalloc's decay time (10 s).
    ///
    /// ```
    /// let pool = vmem::Pool::create(std::env::temp_dir(), vmem::MIN_POOL)?;
    /// let block = pool.malloc(1 << 20)?;
    /// // SAFETY: a live block of `pool`, freed once.
    /// unsafe { pool.free(block.as_ptr()) };
    /// pool.flush();
    /// pool.purge();
    /// assert_eq!(pool.stats().allocated, 0);
    /// # Ok::<(), vmem::Error>(())
    /// ```
    pub fn purge(&self) {
        self.arena.purge();
    }

    /// Allocates with jemalloc's `mallocx` flags; null when the pool has no
    /// room (nothing reported).
    #[inline]
    fn alloc_raw(&self, size: usize, extra_flags: i32) -> *mut u8 {
        if size > self.len {
            return ptr::null_mut();
        }
        if valgrind::active() {
            return self.alloc_under_valgrind(size, extra_flags);
        }
        self.caches.alloc(size, extra_flags)
    }

    /// Resizes with jemalloc's `rallocx` flags; null (the block untouched)
    /// when the pool has no room (nothing reported).
    ///
    /// # Safety
    ///
    /// `ptr` is a live block of this pool; `size` is at least 1.
    #[inline]
    unsafe fn resize_raw(&self, ptr: *mut u8, size: usize, extra_flags: i32) -> *mut u8 {
        if size > self.len {
            return ptr::null_mut();
        }
        // SAFETY: forwarded from the caller's contract.
        unsafe {
            if valgrind::active() {
                self.realloc_under_valgrind(ptr, size, extra_flags)
            } else {
                self.caches.realloc(ptr, size, extra_flags)
            }
        }
    }

    /// The error of an allocation that found no room, reported.
    #[cold]
    fn out_of_memory(&self, size: usize) -> Error {
        Error::new(libc::ENOMEM, format!("cannot allocate {size} bytes: out of pool memory")).report()
    }

    /// The answer of a malloc-family call: the block, or `ENOMEM` reported.
    #[inline]
    fn finish_alloc(&self, ptr: *mut u8, size: usize, what: &str) -> Result<NonNull<u8>> {
        crate::vlog!(Level::Alloc, "{what}({size}) = {ptr:p}");
        NonNull::new(ptr).ok_or_else(|| self.out_of_memory(size))
    }

    /// Allocates `size` bytes (libvmem's `vmem_malloc`); a size of 0 gives a
    /// unique minimal block.
    ///
    /// # Errors
    ///
    /// `ENOMEM` when the pool has no room.
    #[inline]
    pub fn malloc(&self, size: usize) -> Result<NonNull<u8>> {
        // The common case in a few instructions; everything else (and every
        // call while tracing) out of line, so the fast path saves no registers.
        // (No thread holds a cache slot while allocations are traced or
        // under Valgrind: every block goes through `alloc_raw`, which tells
        // memcheck.)
        if let Some(ptr) = self.malloc_cached(size) {
            return Ok(ptr);
        }
        self.malloc_slow(size)
    }

    /// Allocates zeroed room for `nmemb` elements of `size` bytes.
    ///
    /// # Errors
    ///
    /// `ENOMEM` when the pool has no room or `nmemb * size` overflows.
    ///
    /// ```
    /// let pool = vmem::Pool::create(std::env::temp_dir(), vmem::MIN_POOL)?;
    /// assert_eq!(pool.calloc(usize::MAX, 2).unwrap_err().errno(), libc::ENOMEM);
    /// # Ok::<(), vmem::Error>(())
    /// ```
    pub fn calloc(&self, nmemb: usize, size: usize) -> Result<NonNull<u8>> {
        let Some(total) = nmemb.checked_mul(size) else {
            return Err(Error::new(libc::ENOMEM, format!("calloc size {nmemb} * {size} overflows")).report());
        };
        self.finish_alloc(self.alloc_raw(total.max(1), ctl::MALLOCX_ZERO), total, "calloc")
    }

    /// Allocates `size` bytes aligned to `alignment`, a power of two.
    ///
    /// # Errors
    ///
    /// `EINVAL` when `alignment` is not a power of two; `ENOMEM` when the pool
    /// has no room.
    pub fn aligned_alloc(&self, alignment: usize, size: usize) -> Result<NonNull<u8>> {
        if !alignment.is_power_of_two() {
            return Err(Error::new(libc::EINVAL, format!("alignment {alignment} is not a power of two")).report());
        }
        let flags = ctl::mallocx_lg_align(alignment.trailing_zeros());
        self.finish_alloc(self.alloc_raw(size.max(1), flags), size, "aligned_alloc")
    }

    /// Resizes a block, keeping its contents up to the smaller size (libvmem's
    /// `vmem_realloc`). A null `ptr` allocates; a `size` of 0 frees `ptr` and
    /// gives `Ok(None)`. On error `ptr` is left as it was.
    ///
    /// # Errors
    ///
    /// `ENOMEM` when the pool has no room.
    ///
    /// # Safety
    ///
    /// `ptr` is null or a live block of this pool; when the call succeeds it
    /// must not be used any more (use the returned pointer).
    pub unsafe fn realloc(&self, ptr: *mut u8, size: usize) -> Result<Option<NonNull<u8>>> {
        if ptr.is_null() {
            return self.malloc(size).map(Some);
        }
        if size == 0 {
            // SAFETY: forwarded from the caller's contract.
            unsafe { self.free(ptr) };
            return Ok(None);
        }
        if !self.contains(ptr) {
            return Err(self.foreign_pointer(ptr));
        }
        // SAFETY: `ptr` is a live block of this pool (caller's contract) and
        // `size` is not 0.
        let moved = unsafe { self.resize_raw(ptr, size, 0) };
        self.finish_alloc(moved, size, "realloc").map(Some)
    }

    /// Frees a block (libvmem's `vmem_free`); a null `ptr` does nothing. A
    /// pointer outside the pool is refused rather than freed, and reported
    /// (`EINVAL` as [`errormsg`](crate::errormsg), logged at level 1).
    ///
    /// # Safety
    ///
    /// `ptr` is null or a live block of this pool, not used afterwards.
    #[inline]
    pub unsafe fn free(&self, ptr: *mut u8) {
        // As in `malloc`: the common case inline, the rest out of line.
        // SAFETY: forwarded from the caller's contract.
        if unsafe { self.free_cached(ptr) } {
            return;
        }
        // SAFETY: forwarded from the caller's contract.
        unsafe { self.free_slow(ptr) }
    }

    /// The error of a pointer outside this pool, reported.
    #[cold]
    fn foreign_pointer(&self, ptr: *mut u8) -> Error {
        Error::new(libc::EINVAL, format!("pointer {ptr:p} is not in pool {:#x}+{}", self.base, self.len)).report()
    }

    /// The usable size of a block: at least what was asked for.
    ///
    /// # Safety
    ///
    /// `ptr` is a live block of this pool.
    pub unsafe fn usable_size(&self, ptr: *const u8) -> usize {
        if ptr.is_null() || !self.contains(ptr) {
            return 0;
        }
        // SAFETY: `ptr` is a live block of this pool (caller's contract).
        unsafe { self.caches.usable_size(ptr) }
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("base", &self.base()).field("size", &self.len).field("kind", &self.kind()).finish()
    }
}

//! [`Pool`]: a malloc-like heap over one pool's memory.

use std::ffi::CStr;
use std::path::Path;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::arena::Arena;
use crate::ctl;
use crate::error::{Error, Result};
use crate::fork;
use crate::log::{self, Level};
use crate::mapping::{MemoryKind, PoolMemory};
use crate::registry;
use crate::stats::{self, PoolStats};
use crate::tcache::PoolCaches;
use crate::valgrind;

static NEXT_POOL_ID: AtomicU64 = AtomicU64::new(1);

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
    /// Declared last: dropped after the caches are gone, and it unmaps.
    arena: Arena,
}

impl Pool {
    /// Creates a pool of `size` bytes in a temporary file inside `dir`
    /// (libvmem's `vmem_create`).
    ///
    /// The file never shows in a directory listing and its space returns to
    /// the file system when the pool is dropped or the process ends, even by a
    /// crash. All `size` bytes are reserved now, so a full file system fails
    /// here with `ENOSPC` and never later with SIGBUS. `size` is rounded up to
    /// the page size; a little of it holds allocator state, so slightly less
    /// is usable. When `dir` is a device-DAX character device, the whole
    /// device is the pool and `size` is ignored.
    ///
    /// # Errors
    ///
    /// `EINVAL` when `size` is below [`MIN_POOL`](crate::MIN_POOL); `ENOENT`,
    /// `ENOTDIR`, `EACCES` for a missing, non-directory or forbidden `dir`;
    /// `ENOSPC` when the file system cannot hold `size` bytes; `ENOMEM` when
    /// no allocator arena can be made.
    ///
    /// ```
    /// let pool = vmem::Pool::create("/dev/shm", 64 << 20)?;
    /// assert_eq!(pool.size(), 64 << 20);
    /// # Ok::<(), vmem::Error>(())
    /// ```
    pub fn create(dir: impl AsRef<Path>, size: usize) -> Result<Pool> {
        let dir = dir.as_ref();
        crate::vlog!(Level::Call, "create dir {} size {size}", dir.display());
        let memory = PoolMemory::create_in_dir(dir, size)?;
        Self::with_memory(memory)
    }

    /// Creates a pool inside memory the caller already mapped (libvmem's
    /// `vmem_create_in_region`). Its old contents are lost; dropping the pool
    /// does not unmap it. `size` is rounded down to the page size.
    ///
    /// # Errors
    ///
    /// `EINVAL` when `addr` is not page aligned or `size` is below
    /// [`MIN_POOL`](crate::MIN_POOL).
    ///
    /// # Safety
    ///
    /// `[addr, addr + size)` must be readable and writable, must stay mapped
    /// for as long as the pool lives, and must not be used otherwise meanwhile.
    ///
    /// ```
    /// let layout = std::alloc::Layout::from_size_align(vmem::MIN_POOL, 4096).unwrap();
    /// // SAFETY: a fresh allocation, released only after the pool is dropped.
    /// unsafe {
    ///     let region = std::alloc::alloc(layout);
    ///     let pool = vmem::Pool::create_in_region(region, vmem::MIN_POOL)?;
    ///     assert!(pool.contains(pool.malloc(10)?.as_ptr()));
    ///     drop(pool);
    ///     std::alloc::dealloc(region, layout);
    /// }
    /// # Ok::<(), vmem::Error>(())
    /// ```
    pub unsafe fn create_in_region(addr: *mut u8, size: usize) -> Result<Pool> {
        crate::vlog!(Level::Call, "create_in_region addr {addr:p} size {size}");
        // SAFETY: forwarded from the caller's contract.
        let memory = unsafe { PoolMemory::from_region(addr, size)? };
        Self::with_memory(memory)
    }

    /// [`create_in_region`](Pool::create_in_region) that refuses memory a
    /// live pool already uses, atomically with respect to other calls of
    /// this function (the Node.js binding's `createInRegion`). Not part of
    /// the API.
    ///
    /// # Errors
    ///
    /// Those of `create_in_region`; `EBUSY` when the page-aligned region
    /// overlaps the memory of a live pool.
    ///
    /// # Safety
    ///
    /// As for `create_in_region`.
    #[doc(hidden)]
    pub unsafe fn create_in_region_exclusive(addr: *mut u8, size: usize) -> Result<Pool> {
        crate::vlog!(Level::Call, "create_in_region_exclusive addr {addr:p} size {size}");
        // SAFETY: forwarded from the caller's contract.
        let memory = unsafe { PoolMemory::from_region(addr, size)? };
        let base = memory.base() as usize;
        // Held until the pool has registered its own range.
        let _reserved = registry::reserve_exclusive(base..base + memory.len())?;
        Self::with_memory(memory)
    }

    fn with_memory(memory: PoolMemory) -> Result<Pool> {
        let base = memory.base() as usize;
        let len = memory.len();
        let arena = Arena::new(memory)?;
        let id = NEXT_POOL_ID.fetch_add(1, Ordering::Relaxed);
        let caches = PoolCaches::new(id, arena.index(), arena.space().clone(), base, len)?;
        // The order in which a pool nests its locks: a thread cache's
        // jemalloc calls may reach the extent hooks.
        fork::track(id, vec![caches.fork_locks(), arena.space().clone()]);
        registry::add(id, base..base + len);
        if valgrind::active() {
            valgrind::create_pool(base as *const u8, len);
        }
        crate::vlog!(Level::Basic, "pool {id} created at {base:#x} size {len}");
        Ok(Pool { id, base, len, caches, arena })
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
    pub fn purge(&self) {
        self.arena.purge();
    }

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

    /// [`alloc_raw`](Pool::alloc_raw) under Valgrind: the block becomes a
    /// memcheck chunk of its usable size (the program may use all of it).
    /// jemalloc's writes into the pool (zeroing extents) are not the
    /// program's, so they are not reported; calloc's zeroing is done here,
    /// after the block is a chunk, so its zeros are DEFINED.
    #[cold]
    #[inline(never)]
    fn alloc_under_valgrind(&self, size: usize, extra_flags: i32) -> *mut u8 {
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
    unsafe fn realloc_under_valgrind(&self, ptr: *mut u8, size: usize, extra_flags: i32) -> *mut u8 {
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

    #[cold]
    fn out_of_memory(&self, size: usize) -> Error {
        Error::new(libc::ENOMEM, format!("cannot allocate {size} bytes: out of pool memory"))
    }

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

    #[inline(never)]
    fn malloc_slow(&self, size: usize) -> Result<NonNull<u8>> {
        self.finish_alloc(self.alloc_raw(size.max(1), 0), size, "malloc")
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
            return Err(Error::new(libc::ENOMEM, format!("calloc size {nmemb} * {size} overflows")));
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
            return Err(Error::new(libc::EINVAL, format!("alignment {alignment} is not a power of two")));
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
        if size > self.len {
            return Err(self.out_of_memory(size));
        }
        // SAFETY: `ptr` is a live block of this pool (caller's contract).
        let moved = unsafe {
            if valgrind::active() {
                self.realloc_under_valgrind(ptr, size, 0)
            } else {
                self.caches.realloc(ptr, size, 0)
            }
        };
        self.finish_alloc(moved, size, "realloc").map(Some)
    }

    /// Frees a block (libvmem's `vmem_free`); a null `ptr` does nothing. A
    /// pointer outside the pool is refused (and logged) rather than freed.
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

    #[inline(never)]
    unsafe fn free_slow(&self, ptr: *mut u8) {
        crate::vlog!(Level::Alloc, "free({ptr:p})");
        if ptr.is_null() {
            return;
        }
        if !self.contains(ptr) {
            let _ = self.foreign_pointer(ptr);
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

    #[cold]
    fn foreign_pointer(&self, ptr: *mut u8) -> Error {
        Error::new(libc::EINVAL, format!("pointer {ptr:p} is not in pool {:#x}+{}", self.base, self.len))
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

    /// Copies a C string into the pool, NUL included (libvmem's
    /// `vmem_strdup`).
    ///
    /// # Errors
    ///
    /// `ENOMEM` when the pool has no room.
    ///
    /// ```
    /// let pool = vmem::Pool::create(std::env::temp_dir(), vmem::MIN_POOL)?;
    /// let copy = pool.strdup(c"hello")?;
    /// // SAFETY: strdup returns a NUL-terminated copy.
    /// assert_eq!(unsafe { std::ffi::CStr::from_ptr(copy.as_ptr()) }, c"hello");
    /// # Ok::<(), vmem::Error>(())
    /// ```
    pub fn strdup(&self, s: &CStr) -> Result<NonNull<libc::c_char>> {
        let bytes = s.to_bytes_with_nul();
        let copy = self.finish_alloc(self.alloc_raw(bytes.len(), 0), bytes.len(), "strdup")?;
        // SAFETY: `copy` is a fresh block of `bytes.len()` bytes.
        unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), copy.as_ptr(), bytes.len()) };
        Ok(copy.cast())
    }

    /// Copies a wide string into the pool, up to its first NUL (or all of
    /// it), and terminates the copy with a NUL (libvmem's `vmem_wcsdup`).
    ///
    /// # Errors
    ///
    /// `ENOMEM` when the pool has no room.
    ///
    /// ```
    /// let pool = vmem::Pool::create(std::env::temp_dir(), vmem::MIN_POOL)?;
    /// let wide: Vec<libc::wchar_t> = "hé".chars().map(|c| c as libc::wchar_t).collect();
    /// let copy = pool.wcsdup(&wide)?;
    /// // SAFETY: wcsdup returns wide.len() + 1 elements.
    /// assert_eq!(unsafe { std::slice::from_raw_parts(copy.as_ptr(), 3) }, &[104, 233, 0]);
    /// # Ok::<(), vmem::Error>(())
    /// ```
    pub fn wcsdup(&self, s: &[libc::wchar_t]) -> Result<NonNull<libc::wchar_t>> {
        let chars = s.iter().position(|&c| c == 0).unwrap_or(s.len());
        let bytes = (chars + 1) * std::mem::size_of::<libc::wchar_t>();
        let copy = self.finish_alloc(self.alloc_raw(bytes, 0), bytes, "wcsdup")?;
        let copy = copy.cast::<libc::wchar_t>();
        // SAFETY: `copy` is a fresh, suitably aligned block of chars + 1 elements.
        unsafe {
            ptr::copy_nonoverlapping(s.as_ptr(), copy.as_ptr(), chars);
            copy.as_ptr().add(chars).write(0);
        }
        Ok(copy)
    }

    /// Allocation with `Layout`, for the `Allocator` implementation.
    pub(crate) fn alloc_layout(&self, size: usize, align: usize) -> *mut u8 {
        self.alloc_raw(size.max(1), align_flags(align))
    }

    /// Resizes with alignment kept, for the `Allocator` implementation.
    ///
    /// # Safety
    ///
    /// `ptr` is a live block of this pool.
    pub(crate) unsafe fn realloc_layout(&self, ptr: *mut u8, size: usize, align: usize) -> *mut u8 {
        if size > self.len {
            return ptr::null_mut();
        }
        // SAFETY: forwarded from the caller's contract; size is non-zero.
        unsafe {
            if valgrind::active() {
                self.realloc_under_valgrind(ptr, size.max(1), align_flags(align))
            } else {
                self.caches.realloc(ptr, size.max(1), align_flags(align))
            }
        }
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

impl Drop for Pool {
    fn drop(&mut self) {
        crate::vlog!(Level::Basic, "pool {} deleted", self.id);
        registry::remove(self.id);
        fork::untrack(self.id);
        // Cached objects go back to the arena before it is destroyed.
        self.caches.destroy_all();
        if valgrind::active() {
            valgrind::destroy_pool(self.base());
            if self.kind() == MemoryKind::Region {
                // The caller's memory is the caller's again.
                valgrind::make_defined(self.base(), self.len);
            }
        }
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("base", &self.base()).field("size", &self.len).field("kind", &self.kind()).finish()
    }
}

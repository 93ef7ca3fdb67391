//! Making and unmaking a [`Pool`]: its memory, arena, caches, and the
//! process-wide books it is listed in (fork, overlap registry, Valgrind).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Pool;
use crate::arena::Arena;
use crate::error::{Error, Result};
use crate::fork;
use crate::log::Level;
use crate::mapping::{MemoryKind, PoolMemory};
use crate::registry;
use crate::tcache::PoolCaches;
use crate::valgrind;

static NEXT_POOL_ID: AtomicU64 = AtomicU64::new(1);

impl Pool {
    /// Creates a pool of `size` bytes in a temporary file inside `dir`
    /// (libvmem's `vmem_create`).
    ///
    /// The file never shows in a directory listing and its space returns to
    /// the file system when the pool is dropped or the process ends, even by a
    /// crash. All `size` bytes are reserved now, so a full file system fails
    /// here with `ENOSPC` and never later with SIGBUS. `size` is rounded up to
    /// the page size, and all of it is usable: the allocator's own state lives
    /// outside the pool. When `dir` is a device-DAX character device, the
    /// whole device is the pool and `size` is ignored.
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
        PoolMemory::create_in_dir(dir, size).and_then(Self::with_memory).map_err(Error::report)
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
        unsafe { PoolMemory::from_region(addr, size) }.and_then(Self::with_memory).map_err(Error::report)
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
        let created = unsafe { PoolMemory::from_region(addr, size) }.and_then(|memory| {
            let base = memory.base() as usize;
            // Held until the pool has registered its own range.
            let _reserved = registry::reserve_exclusive(base..base + memory.len())?;
            Self::with_memory(memory)
        });
        created.map_err(Error::report)
    }

    fn with_memory(memory: PoolMemory) -> Result<Pool> {
        let base = memory.base() as usize;
        let len = memory.len();
        let arena = Arena::new(memory)?;
        let id = NEXT_POOL_ID.fetch_add(1, Ordering::Relaxed);
        let caches = PoolCaches::new(id, arena.index(), arena.space().clone(), base, len)?;
        // The order in which a pool nests its locks: a thread cache's
        // jemalloc calls may reach the extent hooks.
        let [room, threads] = caches.fork_locks();
        fork::track(id, vec![room, threads, arena.space().clone()]);
        registry::add(id, base..base + len);
        if valgrind::active() {
            valgrind::create_pool(base as *const u8, len);
        }
        crate::vlog!(Level::Basic, "pool {id} created at {base:#x} size {len}");
        Ok(Pool { id, base, len, caches, blocks: Default::default(), arena })
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

//! The jemalloc arena of a pool and the extent hooks that feed it pieces of
//! the pool's memory, and nothing else.
//!
//! The hooks take extents from the pool's [`FreeSpace`] and give them back
//! there (`dalloc`), where they merge with their free neighbours: whatever the
//! churn, a pool whose blocks are all freed is one free range again once
//! jemalloc has returned its extents (it does on `purge`, and after its decay
//! time). Pages jemalloc gives back or decommits go back to the file system
//! (a hole punched in the pool file) and are reserved again before they are
//! handed out, so a pool that was full and is now empty holds little RAM, and
//! touching memory never SIGBUSes.

use std::ffi::c_void;
use std::mem::ManuallyDrop;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use vmem_jemalloc_sys::extent_hooks_t;

use crate::ctl;
use crate::error::{Error, Result};
use crate::log::Level;
use crate::mapping::PoolMemory;
use crate::space::{FreeSpace, Taken};

/// jemalloc's `arena_config_t` (`experimental.arenas_create_ext`).
#[repr(C)]
#[derive(Clone, Copy)]
struct ArenaConfig {
    extent_hooks: *mut extent_hooks_t,
    metadata_use_hooks: bool,
}

/// The extent hooks with the state they need. `hooks` comes first, so the
/// `*mut extent_hooks_t` that jemalloc passes back is a pointer to the whole.
#[repr(C)]
struct ExtentSource {
    hooks: extent_hooks_t,
    memory: PoolMemory,
    space: Arc<FreeSpace>,
    /// Whether every range given back so far reads as zero (its pages were
    /// handed back to the file system); false once a discard failed.
    given_back_zero: AtomicBool,
}

impl ExtentSource {
    /// # Safety
    ///
    /// `hooks` must be the pointer registered with jemalloc by [`Arena::new`],
    /// which stays valid until the arena is destroyed.
    unsafe fn from_hooks<'a>(hooks: *mut extent_hooks_t) -> &'a ExtentSource {
        // SAFETY: `hooks` is the first field of a live, #[repr(C)] ExtentSource.
        unsafe { &*hooks.cast::<ExtentSource>() }
    }

    fn offset_of(&self, addr: *mut c_void) -> usize {
        addr as usize - self.memory.base() as usize
    }

    /// Makes a range just taken from the free space ready for jemalloc:
    /// file space reserved again where pages were handed back, and zeroed
    /// when asked. False (the range given back) when the file system is full.
    fn prepare(&self, taken: Taken, size: usize, zero: &mut bool) -> bool {
        let Taken { offset, used_before } = taken;
        if used_before > 0 && self.memory.can_discard() && !self.memory.recommit(offset, used_before) {
            self.space.give_back(offset, size);
            return false;
        }
        let reads_zero =
            self.memory.fresh_is_zero() && (used_before == 0 || self.given_back_zero.load(Ordering::Relaxed));
        if reads_zero {
            *zero = true;
        } else if *zero {
            // SAFETY: `[offset, offset + size)` is pool memory just taken from
            // the free space: nothing else holds it.
            unsafe { ptr::write_bytes(self.memory.base().add(offset), 0, size) };
        }
        true
    }

    /// Gives pages back to the file system, unless the pool was inherited
    /// through `fork` (they may hold the parent's blocks); false when not.
    ///
    /// # Safety
    ///
    /// As for [`PoolMemory::discard`]: jemalloc no longer uses the range.
    unsafe fn discard(&self, offset: usize, len: usize) -> bool {
        // SAFETY: forwarded from the caller's contract.
        !self.space.inherited() && unsafe { self.memory.discard(offset, len) }
    }

    /// Returns an extent to the free space; its pages go back to the file
    /// system first when they may hold data (`committed`).
    ///
    /// # Safety
    ///
    /// `[addr, addr + size)` is an extent of this pool that jemalloc hands
    /// back: nothing in it is live.
    unsafe fn release(&self, addr: *mut c_void, size: usize, committed: bool) {
        let offset = self.offset_of(addr);
        // Discard before the range is free again: afterwards another thread
        // may already have taken it.
        // SAFETY: a dead extent of this pool (caller's contract).
        if committed && !unsafe { self.discard(offset, size) } {
            self.given_back_zero.store(false, Ordering::Relaxed);
        }
        self.space.give_back(offset, size);
    }
}

/// One jemalloc arena whose extents all come from one pool's memory.
pub(crate) struct Arena {
    index: u32,
    /// Dropped only once jemalloc has destroyed the arena.
    source: ManuallyDrop<Box<ExtentSource>>,
}

impl Arena {
    /// Creates an arena over `memory`. jemalloc's own metadata stays outside
    /// the pool (`metadata_use_hooks = false`), out of reach of user data.
    pub(crate) fn new(memory: PoolMemory) -> Result<Self> {
        let discardable = memory.can_discard();
        let hooks = extent_hooks_t {
            alloc: Some(extent_alloc),
            dalloc: Some(extent_dalloc),
            destroy: Some(extent_destroy),
            commit: Some(if discardable { extent_commit_file } else { extent_commit_always }),
            decommit: if discardable { Some(extent_decommit_file) } else { None },
            purge_lazy: None,
            purge_forced: None,
            split: Some(extent_split),
            merge: Some(extent_merge),
        };
        let space = Arc::new(FreeSpace::new(memory.base() as usize, memory.len()));
        let given_back_zero = AtomicBool::new(discardable);
        let mut source = Box::new(ExtentSource { hooks, memory, space, given_back_zero });
        let config = ArenaConfig { extent_hooks: &mut source.hooks, metadata_use_hooks: false };
        let index: u32 = ctl::write_read("experimental.arenas_create_ext", config)
            .map_err(|errno| Error::new(libc::ENOMEM, format!("cannot create a jemalloc arena (error {errno})")))?;
        crate::vlog!(Level::Basic, "arena {index} created over {} bytes", source.memory.len());
        Ok(Arena { index, source: ManuallyDrop::new(source) })
    }

    /// The arena's index, for `MALLOCX_ARENA`.
    pub(crate) fn index(&self) -> u32 {
        self.index
    }

    pub(crate) fn memory(&self) -> &PoolMemory {
        &self.source.memory
    }

    /// Bytes of the pool that jemalloc holds now (in extents, live or
    /// cached); the rest is free space.
    pub(crate) fn used(&self) -> usize {
        self.source.memory.len() - self.source.space.free_bytes()
    }

    /// The pool's free space (also its lock, to hold across `fork`).
    pub(crate) fn space(&self) -> &Arc<FreeSpace> {
        &self.source.space
    }

    /// Whether jemalloc still knows this arena with our hooks.
    pub(crate) fn hooks_intact(&self) -> bool {
        let name = format!("arena.{}.extent_hooks", self.index);
        let ours = &self.source.hooks as *const extent_hooks_t as usize;
        matches!(ctl::read::<usize>(&name), Ok(current) if current == ours)
    }

    /// Returns every unused dirty page to the file system now.
    pub(crate) fn purge(&self) {
        purge(self.index);
    }
}

/// Purges arena `index`: coalesces its free extents (jemalloc merges freed
/// extents lazily, so a pool full of freed 4 KiB slabs may have no free
/// 12 KiB piece until then) and returns their pages to the file system.
pub(crate) fn purge(index: u32) {
    let _ = ctl::run(&format!("arena.{index}.purge"));
}

impl Drop for Arena {
    fn drop(&mut self) {
        // Callers destroyed every tcache that cached objects of this arena.
        match ctl::run(&format!("arena.{}.destroy", self.index)) {
            // SAFETY: the arena is gone, so jemalloc no longer reaches the
            // hooks; `source` is not used after this.
            Ok(()) => unsafe { ManuallyDrop::drop(&mut self.source) },
            // jemalloc may still reach the hooks: leak them and the mapping.
            Err(errno) => {
                crate::vlog!(Level::Error, "arena {} not destroyed (error {errno}); its memory is leaked", self.index)
            }
        }
    }
}

unsafe extern "C" fn extent_alloc(
    hooks: *mut extent_hooks_t,
    new_addr: *mut c_void,
    size: usize,
    alignment: usize,
    zero: *mut bool,
    commit: *mut bool,
    _arena_ind: u32,
) -> *mut c_void {
    // SAFETY: jemalloc passes back the hooks pointer we registered.
    let source = unsafe { ExtentSource::from_hooks(hooks) };
    let taken = if new_addr.is_null() {
        source.space.take(size, alignment.max(1))
    } else {
        // Growth in place: exactly there, or not at all.
        match (new_addr as usize).checked_sub(source.memory.base() as usize) {
            Some(offset) => source.space.take_at(offset, size),
            None => None,
        }
    };
    let Some(taken) = taken else { return ptr::null_mut() };
    // SAFETY: jemalloc passes valid pointers for the out-parameters.
    let (zero, commit) = unsafe { (&mut *zero, &mut *commit) };
    if !source.prepare(taken, size, zero) {
        return ptr::null_mut();
    }
    *commit = true;
    // SAFETY: the offset lies inside the pool's memory.
    let start = unsafe { source.memory.base().add(taken.offset) }.cast::<c_void>();
    crate::vlog!(Level::Alloc, "extent {start:p}+{size} handed to the arena");
    start
}

unsafe extern "C" fn extent_dalloc(
    hooks: *mut extent_hooks_t,
    addr: *mut c_void,
    size: usize,
    committed: bool,
    arena_ind: u32,
) -> bool {
    // SAFETY: forwarded from jemalloc: the hooks pointer we registered.
    unsafe { extent_destroy(hooks, addr, size, committed, arena_ind) };
    // jemalloc's convention: false means success.
    false
}

/// Returns an extent to the pool's free space (both `dalloc` and, at arena
/// destruction, `destroy`).
unsafe extern "C" fn extent_destroy(
    hooks: *mut extent_hooks_t,
    addr: *mut c_void,
    size: usize,
    committed: bool,
    _arena_ind: u32,
) {
    // SAFETY: jemalloc passes back the hooks pointer we registered.
    let source = unsafe { ExtentSource::from_hooks(hooks) };
    // SAFETY: jemalloc hands back an extent it made from this pool and no
    // longer uses.
    unsafe { source.release(addr, size, committed) };
    crate::vlog!(Level::Alloc, "extent {addr:p}+{size} returned to the pool");
}

unsafe extern "C" fn extent_commit_file(
    hooks: *mut extent_hooks_t,
    addr: *mut c_void,
    _size: usize,
    offset: usize,
    length: usize,
    _arena_ind: u32,
) -> bool {
    // SAFETY: jemalloc passes back the hooks pointer we registered.
    let source = unsafe { ExtentSource::from_hooks(hooks) };
    // jemalloc's convention: false means success.
    !source.memory.recommit(source.offset_of(addr) + offset, length)
}

unsafe extern "C" fn extent_commit_always(
    _hooks: *mut extent_hooks_t,
    _addr: *mut c_void,
    _size: usize,
    _offset: usize,
    _length: usize,
    _arena_ind: u32,
) -> bool {
    false
}

unsafe extern "C" fn extent_decommit_file(
    hooks: *mut extent_hooks_t,
    addr: *mut c_void,
    _size: usize,
    offset: usize,
    length: usize,
    _arena_ind: u32,
) -> bool {
    // SAFETY: jemalloc passes back the hooks pointer we registered.
    let source = unsafe { ExtentSource::from_hooks(hooks) };
    // SAFETY: jemalloc decommits only pages of this pool's extents that it
    // holds no data in (its decommit contract).
    !unsafe { source.discard(source.offset_of(addr) + offset, length) }
}

unsafe extern "C" fn extent_split(
    _hooks: *mut extent_hooks_t,
    _addr: *mut c_void,
    _size: usize,
    _size_a: usize,
    _size_b: usize,
    _committed: bool,
    _arena_ind: u32,
) -> bool {
    // One mapping: any extent may be split.
    false
}

unsafe extern "C" fn extent_merge(
    _hooks: *mut extent_hooks_t,
    _addr_a: *mut c_void,
    _size_a: usize,
    _addr_b: *mut c_void,
    _size_b: usize,
    _committed: bool,
    _arena_ind: u32,
) -> bool {
    // One mapping: adjacent extents may always merge.
    false
}

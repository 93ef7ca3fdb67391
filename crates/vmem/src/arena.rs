//! The jemalloc arena of a pool and the extent hooks that feed it pieces of
//! the pool's memory, and nothing else.
//!
//! The hooks hand out the pool's memory front to back and never take it back
//! (`dalloc` is absent, so jemalloc retains and reuses every extent). Free
//! pages go back to the file system through `decommit` (a hole punched in the
//! pool file) and are reserved again through `commit`, so a pool that was
//! full and is now empty holds little RAM, and touching memory never SIGBUSes.

use std::ffi::c_void;
use std::mem::ManuallyDrop;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};

use tikv_jemalloc_sys::extent_hooks_t;

use crate::ctl;
use crate::error::{Error, Result};
use crate::log::Level;
use crate::mapping::PoolMemory;

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
    /// Offset of the first byte never handed to jemalloc.
    next: AtomicUsize,
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
            dalloc: None,
            destroy: None,
            commit: Some(if discardable { extent_commit_file } else { extent_commit_always }),
            decommit: if discardable { Some(extent_decommit_file) } else { None },
            purge_lazy: None,
            purge_forced: None,
            split: Some(extent_split),
            merge: Some(extent_merge),
        };
        let mut source = Box::new(ExtentSource { hooks, memory, next: AtomicUsize::new(0) });
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

    /// Bytes of the pool handed to jemalloc so far.
    pub(crate) fn used(&self) -> usize {
        self.source.next.load(Ordering::Relaxed)
    }

    /// Whether jemalloc still knows this arena with our hooks.
    pub(crate) fn hooks_intact(&self) -> bool {
        let name = format!("arena.{}.extent_hooks", self.index);
        let ours = &self.source.hooks as *const extent_hooks_t as usize;
        matches!(ctl::read::<usize>(&name), Ok(current) if current == ours) && self.used() <= self.source.memory.len()
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
    let base = source.memory.base() as usize;
    let limit = base + source.memory.len();
    let mut next = source.next.load(Ordering::Relaxed);
    let start = loop {
        let cursor = base + next;
        let start = if new_addr.is_null() {
            match cursor.checked_next_multiple_of(alignment.max(1)) {
                Some(start) => start,
                None => return ptr::null_mut(),
            }
        } else if new_addr as usize == cursor {
            cursor
        } else {
            // Only growth in place at the frontier can be granted.
            return ptr::null_mut();
        };
        match start.checked_add(size) {
            Some(end) if end <= limit => {}
            _ => return ptr::null_mut(),
        }
        match source.next.compare_exchange_weak(next, start + size - base, Ordering::AcqRel, Ordering::Relaxed) {
            Ok(_) => break start as *mut c_void,
            Err(current) => next = current,
        }
    };
    // SAFETY: jemalloc passes valid pointers for the out-parameters, and
    // `[start, start + size)` is pool memory that nothing else holds yet.
    unsafe {
        if source.memory.fresh_is_zero() {
            *zero = true;
        } else if *zero {
            ptr::write_bytes(start.cast::<u8>(), 0, size);
        }
        *commit = true;
    }
    crate::vlog!(Level::Alloc, "extent {start:p}+{size} handed to the arena");
    start
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
    !source.memory.discard(source.offset_of(addr) + offset, length)
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

/// jemalloc's start-up options (its weak `malloc_conf` symbol, prefixed).
///
/// `retain:false`: jemalloc otherwise keeps the virtual memory of an arena's
/// metadata after `arena.<i>.destroy`, which would leak a mapping for every
/// pool ever created. Pool arenas still retain their extents: their `dalloc`
/// hook is absent. It also makes jemalloc ask the hooks for what it needs
/// rather than for ever larger chunks, which keeps more of a pool usable.
#[repr(transparent)]
struct MallocConf(*const libc::c_char);

// SAFETY: the pointer is to a static, immutable C string.
unsafe impl Sync for MallocConf {}

#[cfg(not(target_os = "macos"))]
#[export_name = "_rjem_malloc_conf"]
#[used]
static JEMALLOC_MALLOC_CONF: MallocConf = MallocConf(c"retain:false".as_ptr());

//! Explicit per-thread jemalloc caches, one per (thread, pool).
//!
//! jemalloc's automatic thread cache is shared by every arena a thread uses,
//! so with several pools a cached object of one pool could be handed out by
//! another. Each thread therefore gets its own explicit cache (`tcache.create`)
//! for each pool it touches. The pool owns the list of its caches and destroys
//! them before its arena; a thread that exits first destroys its own.

use std::cell::{Cell, RefCell};
use std::sync::{Arc, Mutex, Weak};

use crate::ctl;
use crate::log::Level;

/// The caches of one pool, shared with the threads that use them.
pub(crate) struct PoolCaches {
    pool_id: u64,
    arena_flags: i32,
    /// Live tcache indices; `None` once the pool is gone.
    live: Mutex<Option<Vec<u32>>>,
}

struct ThreadEntry {
    pool_id: u64,
    /// `MALLOCX_ARENA | MALLOCX_TCACHE` for this thread and pool.
    flags: i32,
    tcache: Option<u32>,
    caches: Weak<PoolCaches>,
}

/// This thread's caches. Destroys those whose pool is still alive at exit.
struct ThreadCaches(Vec<ThreadEntry>);

impl Drop for ThreadCaches {
    fn drop(&mut self) {
        // No later call on this thread may use a cache destroyed here.
        let _ = LAST_USED.try_with(|last| last.set((0, 0)));
        for entry in self.0.drain(..) {
            if let (Some(tcache), Some(caches)) = (entry.tcache, entry.caches.upgrade()) {
                caches.release(tcache);
            }
        }
    }
}

thread_local! {
    static THREAD_CACHES: RefCell<ThreadCaches> = const { RefCell::new(ThreadCaches(Vec::new())) };
    /// The pool this thread used last and its flags: the hot path's answer
    /// in one thread-local read (no destructor, so no lazy registration).
    static LAST_USED: Cell<(u64, i32)> = const { Cell::new((0, 0)) };
}

impl PoolCaches {
    pub(crate) fn new(pool_id: u64, arena: u32) -> Arc<Self> {
        Arc::new(PoolCaches { pool_id, arena_flags: ctl::mallocx_arena(arena), live: Mutex::new(Some(Vec::new())) })
    }

    /// The `mallocx` flags for the calling thread: this pool's arena and the
    /// thread's cache for it (created on the thread's first use).
    #[inline]
    pub(crate) fn flags(self: &Arc<Self>) -> i32 {
        let (last_pool, last_flags) = LAST_USED.with(Cell::get);
        if last_pool == self.pool_id {
            return last_flags;
        }
        self.flags_slow()
    }

    #[cold]
    fn flags_slow(self: &Arc<Self>) -> i32 {
        let flags = match self.this_thread(|entry| entry.flags) {
            Some(flags) => flags,
            None => self.register_thread(),
        };
        LAST_USED.with(|last| last.set((self.pool_id, flags)));
        flags
    }

    /// Reads the calling thread's entry for this pool, if it has one.
    fn this_thread<R>(&self, read: impl FnOnce(&ThreadEntry) -> R) -> Option<R> {
        THREAD_CACHES
            .try_with(|caches| caches.borrow().0.iter().find(|entry| entry.pool_id == self.pool_id).map(read))
            .ok()
            .flatten()
    }

    #[cold]
    fn register_thread(self: &Arc<Self>) -> i32 {
        let tcache = self.create_tcache();
        let flags = self.arena_flags | tcache.map_or(ctl::MALLOCX_TCACHE_NONE, ctl::mallocx_tcache);
        let registered = THREAD_CACHES.try_with(|caches| {
            let mut caches = caches.borrow_mut();
            // Forget the entries of pools that are gone.
            caches.0.retain(|entry| entry.caches.strong_count() > 0);
            caches.0.push(ThreadEntry { pool_id: self.pool_id, flags, tcache, caches: Arc::downgrade(self) });
        });
        match (registered, tcache) {
            (Ok(()), _) | (Err(_), None) => flags,
            // The thread is exiting: do not leave a cache behind.
            (Err(_), Some(tcache)) => {
                self.release(tcache);
                self.arena_flags | ctl::MALLOCX_TCACHE_NONE
            }
        }
    }

    /// A new explicit tcache recorded in `live`, or `None` (no caching) when
    /// jemalloc has none left.
    fn create_tcache(&self) -> Option<u32> {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let live = live.as_mut()?;
        match ctl::read::<u32>("tcache.create") {
            Ok(tcache) => {
                live.push(tcache);
                Some(tcache)
            }
            Err(errno) => {
                crate::vlog!(Level::Basic, "no thread cache for pool {} (error {errno})", self.pool_id);
                None
            }
        }
    }

    /// Destroys one thread's cache (the thread is exiting).
    fn release(&self, tcache: u32) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(live) = live.as_mut() {
            if let Some(position) = live.iter().position(|&t| t == tcache) {
                live.swap_remove(position);
                let _ = ctl::write("tcache.destroy", tcache);
            }
        }
    }

    /// Destroys every cache of the pool, returning their objects to the
    /// arena; called before the arena is destroyed.
    pub(crate) fn destroy_all(&self) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        for tcache in live.take().unwrap_or_default() {
            let _ = ctl::write("tcache.destroy", tcache);
        }
    }

    /// Returns the objects the calling thread's cache holds for this pool to
    /// the arena (a thread may flush only its own cache).
    pub(crate) fn flush_current_thread(&self) {
        if let Some(tcache) = self.this_thread(|entry| entry.tcache).flatten() {
            let _ = ctl::write("tcache.flush", tcache);
        }
    }
}

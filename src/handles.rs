//! The pools of this JavaScript thread, by handle.

use std::cell::{Cell, RefCell};
use std::ptr;
use std::rc::Rc;

use napi::sys;
use vmem::{Pool, SharedPool};

thread_local! {
    /// Whether this thread's Node.js environment still runs: from the first
    /// region pool made on it until its cleanup hook.
    static ENV_ALIVE: Cell<bool> = const { Cell::new(false) };
}

/// A strong reference to the ArrayBuffer or SharedArrayBuffer a region pool
/// lives in: V8 cannot free the buffer's memory, nor hand its address to a
/// new buffer, before the pool is dropped and has left the core's registry of
/// live pools. (A reference from JavaScript, such as a property of the pool's
/// ArrayBuffer, does not do: the garbage collector frees both buffers in one
/// pass, and the pool goes only later, when its finalizer runs.)
pub(crate) struct RegionRef {
    env: sys::napi_env,
    raw: sys::napi_ref,
}

impl RegionRef {
    /// A strong reference to `buffer`, or None if N-API refuses one.
    ///
    /// # Safety
    ///
    /// `env` is the running callback's environment, `buffer` a live object of it.
    pub(crate) unsafe fn new(env: sys::napi_env, buffer: sys::napi_value) -> Option<RegionRef> {
        watch_env(env);
        let mut raw = ptr::null_mut();
        // SAFETY: valid env and object (caller's contract); refcount 1 makes the reference strong.
        let status = unsafe { sys::napi_create_reference(env, buffer, 1, &mut raw) };
        (status == sys::Status::napi_ok && !raw.is_null()).then_some(RegionRef { env, raw })
    }
}

impl Drop for RegionRef {
    fn drop(&mut self) {
        // Once the environment is torn down its references are gone with it
        // (and this runs from a thread-local destructor): nothing to release.
        if ENV_ALIVE.with(Cell::get) {
            // SAFETY: the reference belongs to this thread's environment,
            // which still runs; each RegionRef deletes its reference once.
            unsafe { sys::napi_delete_reference(self.env, self.raw) };
        }
    }
}

/// Registers, once per thread, the hook that drops this thread's pools while
/// its environment can still release their buffers.
fn watch_env(env: sys::napi_env) {
    if ENV_ALIVE.with(Cell::get) {
        return;
    }
    unsafe extern "C" fn env_ending(_: *mut std::ffi::c_void) {
        // Pools whose JavaScript objects were never collected: drop them (and
        // their references) now. A pool a finalizer still holds goes when
        // that runs (Node.js runs those first, at teardown).
        let pools = POOLS.with(|pools| std::mem::take(&mut *pools.borrow_mut()));
        drop(pools);
        ENV_ALIVE.with(|alive| alive.set(false));
    }
    // SAFETY: valid env; the hook takes no data.
    let status = unsafe { sys::napi_add_env_cleanup_hook(env, Some(env_ending), ptr::null_mut()) };
    ENV_ALIVE.with(|alive| alive.set(status == sys::Status::napi_ok));
}

/// A handle of a pool, shared by this thread's handle table and the pool's
/// ArrayBuffer on this thread: the memory stays mapped while either holds it
/// (or a handle on another thread does), so no view can outlive it.
pub(crate) struct PoolSlot {
    /// Declared first: dropped (leaving the registry) before the region goes.
    pool: RefCell<Option<SharedPool>>,
    region: RefCell<Option<RegionRef>>,
}

impl PoolSlot {
    /// Runs `f` on the pool unless it was deleted.
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(&Pool) -> R) -> Option<R> {
        self.pool.borrow().as_deref().map(f)
    }

    /// Lists the pool for other threads (`SharedPool::share`); None when it
    /// was deleted or lives in a region buffer, which belongs to this
    /// thread's JavaScript environment and cannot outlive it.
    pub(crate) fn share(&self) -> Option<u64> {
        if self.region.borrow().is_some() {
            return None;
        }
        self.pool.borrow().as_ref().map(SharedPool::share)
    }

    /// The pool's address range.
    pub(crate) fn range(&self) -> Option<(usize, usize)> {
        self.with(|pool| (pool.base() as usize, pool.size()))
    }

    /// Drops the pool now (its views must be detached already), and lets
    /// its region buffer, if any, go.
    pub(crate) fn delete(&self) {
        let pool = self.pool.borrow_mut().take();
        drop(pool);
        let region = self.region.borrow_mut().take();
        drop(region);
    }

    /// Takes the pool out to be dropped on another thread (its views must be
    /// detached already): None when nothing is left to drop there, because
    /// the pool was deleted, or lives in a region buffer and so is dropped
    /// now (before the buffer it lives in may go, which only this thread
    /// can release).
    pub(crate) fn take_for_drop(&self) -> Option<SharedPool> {
        if self.region.borrow().is_some() {
            self.delete();
            return None;
        }
        self.pool.borrow_mut().take()
    }
}

thread_local! {
    static POOLS: RefCell<Vec<Option<Rc<PoolSlot>>>> = const { RefCell::new(Vec::new()) };
}

pub(crate) fn insert(pool: SharedPool, region: Option<RegionRef>) -> u32 {
    let slot = Some(Rc::new(PoolSlot { pool: RefCell::new(Some(pool)), region: RefCell::new(region) }));
    POOLS.with(|pools| {
        let mut pools = pools.borrow_mut();
        match pools.iter().position(Option::is_none) {
            Some(free) => {
                pools[free] = slot;
                free as u32
            }
            None => {
                pools.push(slot);
                (pools.len() - 1) as u32
            }
        }
    })
}

pub(crate) fn get(handle: u32) -> Option<Rc<PoolSlot>> {
    POOLS.with(|pools| pools.borrow().get(handle as usize).cloned().flatten())
}

/// Runs `f` on the pool of `handle`, without touching reference counts.
#[inline]
pub(crate) fn with_pool<R>(handle: u32, f: impl FnOnce(&Pool) -> R) -> Option<R> {
    POOLS.with(|pools| pools.borrow().get(handle as usize)?.as_ref()?.with(f))
}

pub(crate) fn remove(handle: u32) -> Option<Rc<PoolSlot>> {
    POOLS.with(|pools| pools.borrow_mut().get_mut(handle as usize)?.take())
}

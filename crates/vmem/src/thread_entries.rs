//! This thread's ways to its caches, one entry per pool it used, and the
//! list of live pools an exiting thread consults to empty its caches.

use std::cell::{Cell, RefCell};
use std::ptr::{self, NonNull};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::thread_cache::ThreadCache;
use crate::threads::Threads;

/// The thread caches of every live pool, by pool id: how an exiting thread
/// finds the pools it has caches for. A pool leaves it when it is deleted, so
/// nothing of a deleted pool outlives it but the small entries of threads
/// that used it (no heap block of their own). Held across `fork`.
pub(crate) static LIVE_POOLS: Mutex<Vec<(u64, Arc<Threads>)>> = Mutex::new(Vec::new());

fn live_pools() -> MutexGuard<'static, Vec<(u64, Arc<Threads>)>> {
    LIVE_POOLS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Lists a new pool's thread caches among the live pools.
pub(crate) fn list_pool(pool_id: u64, threads: Arc<Threads>) {
    live_pools().push((pool_id, threads));
}

/// Takes a pool that is going off the list of live pools.
pub(crate) fn unlist_pool(pool_id: u64) {
    let mut live = live_pools();
    live.retain(|(id, _)| *id != pool_id);
    if live.is_empty() {
        *live = Vec::new();
    }
}

/// Whether pool `pool_id` is live.
pub(crate) fn is_live(pool_id: u64) -> bool {
    live_pools().iter().any(|(id, _)| *id == pool_id)
}

/// The thread caches of live pool `pool_id`.
fn live_pool(pool_id: u64) -> Option<Arc<Threads>> {
    live_pools().iter().find(|(id, _)| *id == pool_id).map(|(_, threads)| threads.clone())
}

/// This thread's way to its cache of one pool. The cache itself belongs to
/// the pool's list: freed when the thread exits or when the pool goes,
/// whichever comes first.
struct ThreadEntry {
    pool_id: u64,
    /// Reached through `LAST_USED` on the hot path; valid while the pool is
    /// live.
    cache: NonNull<ThreadCache>,
}

/// This thread's caches. Empties those whose pool is still alive at exit.
struct ThreadCaches(Vec<ThreadEntry>);

impl Drop for ThreadCaches {
    fn drop(&mut self) {
        // No later call on this thread may use a cache dropped here.
        let _ = LAST_USED.try_with(|last| last.set((0, ptr::null_mut())));
        for entry in std::mem::take(&mut self.0) {
            if let Some(threads) = live_pool(entry.pool_id) {
                threads.release(entry.cache);
            }
        }
    }
}

thread_local! {
    static THREAD_CACHES: RefCell<ThreadCaches> = const { RefCell::new(ThreadCaches(Vec::new())) };
    /// The pool this thread used last and its cache: the hot path's answer
    /// in one thread-local read (no destructor, so no lazy registration).
    static LAST_USED: Cell<(u64, *mut ThreadCache)> = const { Cell::new((0, ptr::null_mut())) };
}

/// The pool this thread used last and its cache (null when none).
#[inline]
pub(crate) fn last_used() -> (u64, *mut ThreadCache) {
    LAST_USED.with(Cell::get)
}

/// Remembers `cache` as this thread's cache of the pool it used last.
pub(crate) fn set_last_used(pool_id: u64, cache: *mut ThreadCache) {
    let _ = LAST_USED.try_with(|last| last.set((pool_id, cache)));
}

/// This thread's cache of pool `pool_id`, if it has one.
pub(crate) fn find(pool_id: u64) -> Option<NonNull<ThreadCache>> {
    THREAD_CACHES
        .try_with(|caches| caches.borrow().0.iter().find(|entry| entry.pool_id == pool_id).map(|e| e.cache))
        .ok()
        .flatten()
}

/// Records `cache` as this thread's cache of pool `pool_id`; false when the
/// thread is exiting (its entries are gone).
pub(crate) fn add(pool_id: u64, cache: NonNull<ThreadCache>) -> bool {
    THREAD_CACHES
        .try_with(|caches| {
            let mut caches = caches.borrow_mut();
            // Forget the entries of pools that are gone (their objects went
            // with the pool's memory).
            let live = live_pools();
            caches.0.retain(|entry| live.iter().any(|(id, _)| *id == entry.pool_id));
            caches.0.push(ThreadEntry { pool_id, cache });
        })
        .is_ok()
}

/// Forgets this thread's entry for pool `pool_id`, which is going.
pub(crate) fn forget(pool_id: u64) {
    let _ = THREAD_CACHES.try_with(|caches| {
        if let Ok(mut caches) = caches.try_borrow_mut() {
            caches.0.retain(|entry| entry.pool_id != pool_id);
            if caches.0.is_empty() {
                caches.0 = Vec::new();
            }
        }
    });
}

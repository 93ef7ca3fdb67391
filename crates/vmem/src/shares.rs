//! Pools offered to other threads by id: a thread that holds a
//! [`SharedPool`] lists it here ([`SharedPool::share`]) and any thread of the
//! process that knows the id gets a handle of its own
//! ([`SharedPool::attach`]), as long as some handle still keeps the pool.
//! For faces whose threads can pass each other only plain values (Node.js
//! workers post a number, never a Rust object).
//!
//! The list holds weak references: it never keeps a pool alive, and an id
//! whose pool is gone fails to attach. Pool ids are never reused, so an old
//! id can never name a newer pool.

use std::sync::{Mutex, PoisonError, Weak};

use crate::alloc_api::SharedPool;
use crate::error::{Error, Result};
use crate::pool::Pool;

/// `(pool id, pool)` of every pool shared so far whose pool may still live.
static SHARED: Mutex<Vec<(u64, Weak<Pool>)>> = Mutex::new(Vec::new());

impl SharedPool {
    /// Lists the pool so that [`attach`](SharedPool::attach) finds it by the
    /// id returned (the pool's [`id`](Pool::id)). Sharing one pool again
    /// returns the same id.
    ///
    /// ```
    /// use vmem::SharedPool;
    ///
    /// let pool = SharedPool::new(vmem::Pool::create(std::env::temp_dir(), vmem::MIN_POOL)?);
    /// let id = pool.share();
    /// let other = std::thread::spawn(move || {
    ///     let pool = SharedPool::attach(id).unwrap();
    ///     pool.malloc(64).map(|block| block.as_ptr() as usize).unwrap()
    /// });
    /// let block = other.join().unwrap() as *mut u8;
    /// // SAFETY: a live block of this pool, freed once.
    /// unsafe { pool.free(block) };
    /// drop(pool);
    /// assert_eq!(SharedPool::attach(id).unwrap_err().errno(), libc::EINVAL);
    /// # Ok::<(), vmem::Error>(())
    /// ```
    pub fn share(&self) -> u64 {
        let id = self.id();
        let mut shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
        // Entries of pools gone meanwhile leave here, so the list stays as
        // long as the number of live shared pools.
        shared.retain(|(_, pool)| pool.strong_count() > 0);
        if !shared.iter().any(|(listed, _)| *listed == id) {
            shared.push((id, std::sync::Arc::downgrade(self.as_arc())));
        }
        id
    }

    /// A new handle of the shared pool with this id.
    ///
    /// # Errors
    ///
    /// `EINVAL` (reported) when no live pool was shared with that id: it
    /// never was, or every handle of it is gone.
    pub fn attach(id: u64) -> Result<SharedPool> {
        let shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
        let found = shared.iter().find(|(listed, _)| *listed == id).and_then(|(_, pool)| pool.upgrade());
        drop(shared);
        found
            .map(SharedPool::from)
            .ok_or_else(|| Error::new(libc::EINVAL, format!("no live shared pool has id {id}")).report())
    }
}

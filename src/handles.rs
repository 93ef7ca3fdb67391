//! The pools of this JavaScript thread, by handle.

use std::cell::RefCell;
use std::rc::Rc;

use vmem::Pool;

/// A pool, shared by the handle table and the pool's ArrayBuffer: the memory
/// stays mapped while either holds it, so no view can outlive it.
pub(crate) struct PoolSlot {
    pool: RefCell<Option<Pool>>,
}

impl PoolSlot {
    /// Runs `f` on the pool unless it was deleted.
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(&Pool) -> R) -> Option<R> {
        self.pool.borrow().as_ref().map(f)
    }

    /// The pool's address range.
    pub(crate) fn range(&self) -> Option<(usize, usize)> {
        self.with(|pool| (pool.base() as usize, pool.size()))
    }

    /// Drops the pool now (its views must be detached already).
    pub(crate) fn delete(&self) {
        let pool = self.pool.borrow_mut().take();
        drop(pool);
    }
}

thread_local! {
    static POOLS: RefCell<Vec<Option<Rc<PoolSlot>>>> = const { RefCell::new(Vec::new()) };
}

pub(crate) fn insert(pool: Pool) -> u32 {
    let slot = Some(Rc::new(PoolSlot { pool: RefCell::new(Some(pool)) }));
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

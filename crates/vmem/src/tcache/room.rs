//! Making room when a pool is full, one allocation at a time.
//!
//! When an allocation finds no room, every thread's caches go back to the
//! arena and the arena returns its free extents to the pool's free space
//! ([`PoolCaches::make_room`]); then the allocation is tried again. With many
//! threads, a single unguarded retry loses: two reclaims at once find each
//! other's extents half returned (jemalloc takes a purge's extents out of
//! its books before it hands them back one by one), and the room a reclaim
//! makes goes at once into the batches other threads' caches fetch. 150
//! threads on a 14 MiB pool failed blocks of a few hundred bytes with about
//! 1 MiB live.
//!
//! So the allocations that need room take turns ([`RoomGate`]): one reclaim
//! and its retries at a time, a retry first when another turn just made
//! room, another reclaim while the last one gave space back. While any
//! allocation waits for room, the pool is *pressed*: refills fetch one
//! object, past jemalloc's own cache, so that no cache hoards what a
//! reclaim frees.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::PoolCaches;
use crate::fork::{ForkLocks, Release};

/// How many reclaims one allocation may make before it reports `ENOMEM`,
/// while each gives free space back to the pool (one that gives none back
/// ends the tries: the pool is full of live blocks).
const MAX_RECLAIMS: usize = 4;

/// The turns of the allocations that need room in one pool.
#[derive(Default)]
pub(crate) struct RoomGate {
    /// Held for a whole turn: reclaims and retries.
    turn: Mutex<()>,
    /// Reclaims made so far, to tell a waiter that room was made meanwhile.
    reclaims: AtomicU64,
    /// Allocations that wait for room or are making it.
    pressed: AtomicUsize,
}

impl RoomGate {
    /// True while some allocation of the pool waits for room.
    #[inline]
    pub(crate) fn pressed(&self) -> bool {
        self.pressed.load(Ordering::Relaxed) != 0
    }
}

/// One allocation counted in [`RoomGate::pressed`], until it is dropped: an
/// unwinding panic (from a print callback during a reclaim) must not leave
/// the pool pressed for good, its refills one object each.
struct Pressing<'a>(&'a RoomGate);

impl<'a> Pressing<'a> {
    fn start(gate: &'a RoomGate) -> Self {
        gate.pressed.fetch_add(1, Ordering::Relaxed);
        Pressing(gate)
    }
}

impl Drop for Pressing<'_> {
    fn drop(&mut self) {
        self.0.pressed.fetch_sub(1, Ordering::Relaxed);
    }
}

impl PoolCaches {
    /// Tries `attempt` again after making room, in the pool's turn; null when
    /// the pool is still full.
    #[cold]
    #[inline(never)]
    pub(super) fn retry_making_room(&self, mut attempt: impl FnMut() -> *mut u8) -> *mut u8 {
        let gate = &self.room;
        let _pressing = Pressing::start(gate);
        let reclaims_seen = gate.reclaims.load(Ordering::Acquire);
        let turn = gate.turn.lock().unwrap_or_else(PoisonError::into_inner);
        let mut ptr = std::ptr::null_mut();
        if gate.reclaims.load(Ordering::Acquire) != reclaims_seen {
            // Room was made while this allocation waited for its turn.
            ptr = attempt();
        }
        let mut reclaims = 0;
        while ptr.is_null() && reclaims < MAX_RECLAIMS {
            let free_before = self.space.free_bytes();
            self.reclaim(&turn);
            reclaims += 1;
            let freed = self.space.free_bytes() > free_before;
            ptr = attempt();
            if !freed {
                break;
            }
        }
        drop(turn);
        ptr
    }

    /// [`make_room`](Self::make_room_in_turn) in a turn of its own (before a
    /// large allocation).
    pub(super) fn make_room(&self) {
        let turn = self.room.turn.lock().unwrap_or_else(PoisonError::into_inner);
        self.reclaim(&turn);
    }

    /// Makes room in the turn `_turn` holds, and counts it for the waiters.
    fn reclaim(&self, _turn: &MutexGuard<'_, ()>) {
        self.make_room_in_turn();
        self.room.reclaims.fetch_add(1, Ordering::Release);
    }
}

/// Taken before the pool's other locks (a turn takes them). In the child,
/// the threads that waited for room are gone: the pool is pressed no more.
impl ForkLocks for RoomGate {
    fn hold(&self) -> Release<'_> {
        let turn = self.turn.lock().unwrap_or_else(PoisonError::into_inner);
        Box::new(move |in_child| {
            if in_child {
                self.pressed.store(0, Ordering::Relaxed);
            }
            drop(turn);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_pressing_leaves_the_pool_unpressed() {
        let gate = RoomGate::default();
        let outcome = std::panic::catch_unwind(|| {
            let _pressing = Pressing::start(&gate);
            assert!(gate.pressed());
            panic!("a print callback panicked during a reclaim");
        });
        assert!(outcome.is_err());
        assert!(!gate.pressed());
    }
}

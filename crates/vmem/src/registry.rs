//! The live pools of the process and their address ranges, so that `check`
//! can tell a pool whose memory overlaps another's, and so that a face that
//! must never build two pools over the same memory (the Node.js binding) can
//! refuse one atomically.
//!
//! The C and Rust faces keep libvmem's behaviour: they may create a pool over
//! memory a live pool already uses (the caller's contract forbids it), and
//! `check` reports both pools as inconsistent.

use std::ops::Range;
use std::sync::Mutex;

use crate::error::{Error, Result};

/// `(pool id, range)` of every live pool, and of every reservation of a pool
/// being created (ids from [`RESERVED`] up). Held across `fork`.
pub(crate) static LIVE: Mutex<Vec<(u64, Range<usize>)>> = Mutex::new(Vec::new());

/// Reservation ids count down from here, far from the pool ids that count
/// up from 1, so the two never meet.
const RESERVED: u64 = u64::MAX;

fn live() -> std::sync::MutexGuard<'static, Vec<(u64, Range<usize>)>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

pub(crate) fn add(pool_id: u64, range: Range<usize>) {
    live().push((pool_id, range));
}

pub(crate) fn remove(pool_id: u64) {
    let mut live = live();
    live.retain(|(id, _)| *id != pool_id);
    if live.is_empty() {
        // No heap block outlives the last pool.
        *live = Vec::new();
    }
}

/// Whether the pool is registered and no other live pool shares its memory.
pub(crate) fn is_alone(pool_id: u64) -> bool {
    let live = live();
    let Some((_, mine)) = live.iter().find(|(id, _)| *id == pool_id) else {
        return false;
    };
    live.iter().filter(|(id, _)| *id != pool_id).all(|(_, other)| !overlaps(other, mine))
}

/// A range held for a pool being created: no other exclusive creation can
/// take memory that overlaps it until the reservation is dropped, by which
/// time the pool is registered itself (or was not made).
pub(crate) struct Reservation(u64);

/// Reserves `range` for a new pool unless it overlaps a live pool (or another
/// reservation), in one step under the registry's lock, so that two threads
/// creating pools over the same memory at once cannot both succeed.
///
/// # Errors
///
/// `EBUSY` when `range` overlaps the memory of a live pool.
pub(crate) fn reserve_exclusive(range: Range<usize>) -> Result<Reservation> {
    let mut live = live();
    if let Some((_, other)) = live.iter().find(|(_, other)| overlaps(other, &range)) {
        let other = other.clone();
        drop(live);
        return Err(Error::new(
            libc::EBUSY,
            format!(
                "region {:#x}+{} overlaps the live pool at {:#x}+{}",
                range.start,
                range.len(),
                other.start,
                other.len()
            ),
        ));
    }
    // The smallest id no reservation holds, counting down from RESERVED.
    let id = (0..).map(|n| RESERVED - n).find(|id| live.iter().all(|(other, _)| other != id)).unwrap_or(RESERVED);
    live.push((id, range));
    Ok(Reservation(id))
}

impl Drop for Reservation {
    fn drop(&mut self) {
        remove(self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exclusive_reservation_refuses_any_overlap_and_ends_when_dropped() {
        // Addresses no pool of this test process uses: nothing is mapped.
        let base = usize::MAX / 2;
        let first = reserve_exclusive(base..base + 100).unwrap();
        for clash in [base..base + 100, base + 99..base + 200, base - 10..base + 1, base - 10..base + 500] {
            assert_eq!(reserve_exclusive(clash).err().map(|e| e.errno()), Some(libc::EBUSY));
        }
        // Touching ranges do not overlap.
        let next = reserve_exclusive(base + 100..base + 200).unwrap();
        let before = reserve_exclusive(base - 100..base).unwrap();
        drop(first);
        let again = reserve_exclusive(base..base + 100).unwrap();
        drop((next, before, again));
        assert!(reserve_exclusive(base - 100..base + 200).is_ok());
    }

    #[test]
    fn racing_exclusive_reservations_of_one_range_let_exactly_one_win() {
        let base = usize::MAX / 4;
        for _ in 0..200 {
            let barrier = std::sync::Barrier::new(4);
            let won: Vec<bool> = std::thread::scope(|s| {
                let racers: Vec<_> = (0..4)
                    .map(|i| {
                        let barrier = &barrier;
                        s.spawn(move || {
                            barrier.wait();
                            // Different but overlapping ranges.
                            let reservation = reserve_exclusive(base + i * 10..base + 100 + i * 10);
                            let ok = reservation.is_ok();
                            barrier.wait();
                            ok
                        })
                    })
                    .collect();
                racers.into_iter().map(|r| r.join().unwrap()).collect()
            });
            assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
        }
    }
}

//! The pool's free space: the ranges of the pool that no jemalloc extent
//! holds, kept coalesced.
//!
//! The extent hooks take every extent from here and give every extent back
//! here, so a freed extent merges with its free neighbours and with the
//! never-used tail, and the space skipped to align an extent stays free.
//! After any churn, once every block is freed and jemalloc has returned its
//! extents, the pool is one free range again.
//!

//! Ranges are kept twice: by start, to merge a returned range with its
//! neighbours, and by (length, start), to find the smallest range that fits
//! (best fit, lowest address first), which keeps large ranges whole for
//! large requests. Offsets are relative to the pool's base.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::fork::{ForkLocks, Release};

/// The free ranges of one pool.
pub(crate) struct FreeSpace {
    ranges: Mutex<Ranges>,
    /// The pool's base address, for alignment.
    base: usize,
    len: usize,
    /// Bytes no extent holds: `Ranges::free`, readable without the lock.
    free: AtomicUsize,
    /// Set in a child of `fork`: the pool's memory is shared with the
    /// parent, whose blocks may lie on pages this process thinks free.
    inherited: AtomicBool,
}

#[derive(Default)]
struct Ranges {
    /// start → length.
    by_start: BTreeMap<usize, usize>,
    /// (length, start).
    by_len: BTreeSet<(usize, usize)>,
    free: usize,
    /// Offsets at and above this were never handed out: their file space is
    /// the one reserved when the pool was made, and they still read as zero.
    high_water: usize,
    /// Ranges below `high_water` that were never handed out either, start →
    /// length: what an aligned take skipped past the mark. A take inside one
    /// needs no file space reserved again and reads as zero, as the space
    /// past the mark does. (Counted as used, they cost a cold batch of
    /// blocks up to 64 KiB a `posix_fallocate` per slab: 60 system calls in
    /// `npm run bench`'s mixed batch.)
    fresh: BTreeMap<usize, usize>,
}

/// A range taken out of the free space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Taken {
    pub(crate) offset: usize,
    /// How many of its first bytes were handed out before (and may since have
    /// been given back to the file system, or still hold old data); the rest
    /// was never used.
    pub(crate) used_before: usize,
}

impl FreeSpace {
    /// The free space of a new pool of `len` bytes at `base`: all of it.
    pub(crate) fn new(base: usize, len: usize) -> Self {
        let mut ranges = Ranges::default();
        ranges.insert(0, len);
        FreeSpace {
            ranges: Mutex::new(ranges),
            base,
            len,
            free: AtomicUsize::new(len),
            inherited: AtomicBool::new(false),
        }
    }

    fn ranges(&self) -> MutexGuard<'_, Ranges> {
        // The ranges are consistent between statements: a panic elsewhere
        // while the lock was held leaves nothing half done.
        self.ranges.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes `size` bytes whose address is a multiple of `alignment` (a
    /// power of two): the best-fitting free range, lowest address first.
    pub(crate) fn take(&self, size: usize, alignment: usize) -> Option<Taken> {
        if size == 0 || !alignment.is_power_of_two() {
            return None;
        }
        let mut ranges = self.ranges();
        let fit = ranges.by_len.range((size, 0)..).find_map(|&(len, start)| {
            let aligned = (self.base + start).checked_next_multiple_of(alignment)? - self.base;
            (aligned.checked_add(size)? <= start + len).then_some((start, aligned))
        });
        let (start, aligned) = fit?;
        let taken = ranges.carve(start, aligned, size);
        self.free.store(ranges.free, Ordering::Relaxed);
        Some(taken)
    }

    /// Takes exactly `[offset, offset + size)` if all of it is free (jemalloc
    /// growing an extent in place).
    pub(crate) fn take_at(&self, offset: usize, size: usize) -> Option<Taken> {
        let end = offset.checked_add(size)?;
        if size == 0 || end > self.len {
            return None;
        }
        let mut ranges = self.ranges();
        let (&start, &len) = ranges.by_start.range(..=offset).next_back()?;
        let taken = (end <= start + len).then(|| ranges.carve(start, offset, size));
        self.free.store(ranges.free, Ordering::Relaxed);
        taken
    }

    /// Returns `[offset, offset + size)`, which was taken, merging it with
    /// its free neighbours.
    pub(crate) fn give_back(&self, offset: usize, size: usize) {
        debug_assert!(offset + size <= self.len);
        let mut ranges = self.ranges();
        let (mut start, mut end) = (offset, offset + size);
        if let Some((&before, &before_len)) = ranges.by_start.range(..offset).next_back() {
            debug_assert!(before + before_len <= offset, "range {offset}+{size} given back twice");
            if before + before_len == offset {
                ranges.remove(before, before_len);
                start = before;
            }
        }
        if let Some(&after_len) = ranges.by_start.get(&end) {
            ranges.remove(end, after_len);
            end += after_len;
        }
        ranges.insert(start, end - start);
        self.free.store(ranges.free, Ordering::Relaxed);
    }

    /// Whether this process is a child of the one that made the pool: then
    /// pages it frees must not go back to the file system, which would
    /// erase the parent's blocks on them.
    pub(crate) fn inherited(&self) -> bool {
        self.inherited.load(Ordering::Relaxed)
    }

    /// Bytes no extent holds (a snapshot, without waiting for the lock).
    pub(crate) fn free_bytes(&self) -> usize {
        self.free.load(Ordering::Relaxed)
    }

    /// The size of the pool.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The largest free range, in bytes.
    #[cfg(test)]
    pub(crate) fn largest(&self) -> usize {
        self.ranges().by_len.last().map_or(0, |&(len, _)| len)
    }
}

impl ForkLocks for FreeSpace {
    fn hold(&self) -> Release<'_> {
        let ranges = self.ranges();
        Box::new(move |in_child| {
            if in_child {
                self.inherited.store(true, Ordering::Relaxed);
            }
            drop(ranges);
        })
    }
}

impl Ranges {
    fn insert(&mut self, start: usize, len: usize) {
        self.by_start.insert(start, len);
        self.by_len.insert((len, start));
        self.free += len;
    }

    fn remove(&mut self, start: usize, len: usize) {
        self.by_start.remove(&start);
        self.by_len.remove(&(len, start));
        self.free -= len;
    }

    /// Takes `[offset, offset + size)` out of the free range at `start`,
    /// leaving what lies before and after it free.
    fn carve(&mut self, start: usize, offset: usize, size: usize) -> Taken {
        let len = self.by_start[&start];
        self.remove(start, len);
        if offset > start {
            self.insert(start, offset - start);
        }
        let end = offset + size;
        if start + len > end {
            self.insert(end, start + len - end);
        }
        let mut used_before = self.high_water.clamp(offset, end) - offset;
        if used_before > 0 && self.all_fresh(offset, used_before) {
            used_before = 0;
        }
        self.forget_fresh(offset, end.min(self.high_water));
        // What this take skips past the mark was never handed out.
        let skipped = start.max(self.high_water);
        if offset > skipped {
            self.fresh.insert(skipped, offset - skipped);
        }
        self.high_water = self.high_water.max(end);
        Taken { offset, used_before }
    }

    /// Whether all of `[offset, offset + len)` lies in one never-used range.
    fn all_fresh(&self, offset: usize, len: usize) -> bool {
        self.fresh.range(..=offset).next_back().is_some_and(|(&start, &fresh_len)| start + fresh_len >= offset + len)
    }

    /// Drops `[from, to)` from the never-used ranges (it is handed out).
    fn forget_fresh(&mut self, from: usize, to: usize) {
        while let Some((&start, &len)) = self.fresh.range(..to).next_back() {
            let end = start + len;
            if end <= from {
                break;
            }
            self.fresh.remove(&start);
            if end > to {
                self.fresh.insert(to, end - to);
            }
            if start < from {
                self.fresh.insert(start, from - start);
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: usize = 4096;
    const BASE: usize = 1 << 30;

    #[test]
    fn freed_ranges_merge_with_their_neighbours_and_the_tail() {
        let space = FreeSpace::new(BASE, 64 * PAGE);
        let a = space.take(8 * PAGE, PAGE).unwrap();
        let b = space.take(8 * PAGE, PAGE).unwrap();
        let c = space.take(8 * PAGE, PAGE).unwrap();
        assert_eq!([a.offset, b.offset, c.offset], [0, 8 * PAGE, 16 * PAGE]);
        assert_eq!(space.largest(), 40 * PAGE);
        space.give_back(a.offset, 8 * PAGE);
        space.give_back(c.offset, 8 * PAGE);
        assert_eq!(space.largest(), 48 * PAGE, "c merged with the tail");
        space.give_back(b.offset, 8 * PAGE);
        assert_eq!((space.largest(), space.free_bytes()), (64 * PAGE, 64 * PAGE));
    }

    #[test]
    fn best_fit_keeps_large_ranges_whole_and_alignment_gaps_stay_free() {
        let space = FreeSpace::new(BASE, 64 * PAGE);
        let hole = space.take(2 * PAGE, PAGE).unwrap();
        let _pin = space.take(PAGE, PAGE).unwrap();
        space.give_back(hole.offset, 2 * PAGE);
        // The 2-page hole fits a 1-page request better than the tail.
        assert_eq!(space.take(PAGE, PAGE).unwrap().offset, 0);
        // 16-page alignment skips pages 3..16; they stay free.
        let aligned = space.take(16 * PAGE, 16 * PAGE).unwrap();
        assert_eq!(aligned.offset, 16 * PAGE);
        assert_eq!(space.free_bytes(), 64 * PAGE - 2 * PAGE - 16 * PAGE);
        assert_eq!(space.take(13 * PAGE, PAGE).unwrap().offset, 3 * PAGE);
    }

    #[test]
    fn take_at_grows_in_place_only_into_free_space() {
        let space = FreeSpace::new(BASE, 16 * PAGE);
        let first = space.take(4 * PAGE, PAGE).unwrap();
        assert_eq!(space.take_at(first.offset + 4 * PAGE, 4 * PAGE).unwrap().offset, 4 * PAGE);
        assert_eq!(space.take_at(6 * PAGE, PAGE), None, "already taken");
        assert_eq!(space.take_at(12 * PAGE, 8 * PAGE), None, "past the end");
        assert_eq!(space.take_at(8 * PAGE, 8 * PAGE).unwrap().offset, 8 * PAGE);
        assert_eq!(space.free_bytes(), 0);
        assert_eq!(space.take(PAGE, PAGE), None);
    }

    #[test]
    fn used_before_counts_the_bytes_below_the_high_water_mark() {
        let space = FreeSpace::new(BASE, 16 * PAGE);
        let first = space.take(4 * PAGE, PAGE).unwrap();
        assert_eq!(first.used_before, 0);
        space.give_back(first.offset, 4 * PAGE);
        let again = space.take(6 * PAGE, PAGE).unwrap();
        assert_eq!((again.offset, again.used_before), (0, 4 * PAGE));
        let fresh = space.take(PAGE, PAGE).unwrap();
        assert_eq!(fresh.used_before, 0);
    }

    #[test]
    fn what_an_aligned_take_skips_past_the_mark_counts_as_never_used() {
        let space = FreeSpace::new(BASE, 64 * PAGE);
        let first = space.take(PAGE, PAGE).unwrap();
        // Skips pages 1..16, never handed out.
        let aligned = space.take(16 * PAGE, 16 * PAGE).unwrap();
        assert_eq!((aligned.offset, aligned.used_before), (16 * PAGE, 0));
        // Inside the skipped pages: below the mark, yet never used.
        let inside = space.take(4 * PAGE, 4 * PAGE).unwrap();
        assert_eq!((inside.offset, inside.used_before), (4 * PAGE, 0));
        space.give_back(inside.offset, 4 * PAGE);
        // Handed out once, the same pages count as used…
        let again = space.take(4 * PAGE, 4 * PAGE).unwrap();
        assert_eq!((again.offset, again.used_before), (4 * PAGE, 4 * PAGE));
        // …and so does a range that starts on a used page.
        space.give_back(first.offset, PAGE);
        let straddling = space.take_at(0, 3 * PAGE).unwrap();
        assert_eq!(straddling.used_before, 3 * PAGE);
        // What is left of the skipped pages is still fresh, on both sides of
        // the pages taken from its middle.
        assert_eq!(space.take_at(3 * PAGE, PAGE).unwrap().used_before, 0);
        assert_eq!(space.take_at(8 * PAGE, 8 * PAGE).unwrap().used_before, 0);
        assert_eq!(space.free_bytes(), 64 * PAGE - 32 * PAGE);
    }

    #[test]
    fn impossible_requests_take_nothing() {
        let space = FreeSpace::new(BASE, 16 * PAGE);
        assert_eq!(space.take(0, PAGE), None);
        assert_eq!(space.take(PAGE, 3), None);
        assert_eq!(space.take(17 * PAGE, PAGE), None);
        assert_eq!(space.take(PAGE, 1 << 40), None);
        assert_eq!(space.take(usize::MAX, PAGE), None);
        assert_eq!(space.take_at(usize::MAX, 2), None);
        assert_eq!(space.free_bytes(), 16 * PAGE);
    }
}

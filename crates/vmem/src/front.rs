//! A thread's front cache for one pool: per small size class, a stack of
//! freed objects to hand out again without calling jemalloc.
//!
//! jemalloc's fast paths serve only `malloc`/`free` with its automatic
//! cache; calls that name an arena and an explicit cache (what a pool needs)
//! take its general path, about 4× the instructions. The front cache keeps
//! the common pair — free an object, allocate one of the same class — to a
//! push and a pop. Only this data structure lives here; filling and emptying
//! it through jemalloc is the thread cache's job.

use std::ptr::NonNull;

use crate::sizeclass::{SizeClasses, MAX_BINS};

/// Bytes one bin may hold, and its bounds in objects.
const BIN_BYTES: usize = 64 * 1024;
const BIN_MIN_OBJECTS: usize = 4;
pub(crate) const BIN_MAX_OBJECTS: usize = 128;

/// One size class: a stack of free objects, most recently freed on top.
struct Bin {
    slots: Box<[NonNull<u8>]>,
    len: usize,
}

/// The front cache of one thread for one pool. The bins are inline, so the
/// hot path reaches a cached object in two dependent loads.
pub(crate) struct FrontCache {
    bins: [Bin; MAX_BINS],
}

impl FrontCache {
    pub(crate) fn new(classes: &SizeClasses) -> Self {
        let bins = std::array::from_fn(|bin| {
            // Bins past the last class have no room: they never cache.
            let capacity = if bin < classes.count() {
                (BIN_BYTES / classes.size_of(bin as u8)).clamp(BIN_MIN_OBJECTS, BIN_MAX_OBJECTS)
            } else {
                0
            };
            Bin { slots: vec![NonNull::dangling(); capacity].into_boxed_slice(), len: 0 }
        });
        FrontCache { bins }
    }

    /// The bin numbered `bin`: every number below 256 names a bin (the mask
    /// costs less than a bounds check; bins past the classes never cache).
    #[inline(always)]
    fn bin(&mut self, bin: u8) -> &mut Bin {
        &mut self.bins[bin as usize & (MAX_BINS - 1)]
    }

    /// A cached object of `bin`, if there is one.
    #[inline(always)]
    pub(crate) fn pop(&mut self, bin: u8) -> Option<NonNull<u8>> {
        let bin = self.bin(bin);
        bin.len = bin.len.checked_sub(1)?;
        // SAFETY: `len` never exceeds the slots' length (see `push`).
        Some(unsafe { *bin.slots.get_unchecked(bin.len) })
    }

    /// Caches `ptr` in `bin`; false when the bin is full.
    #[inline(always)]
    pub(crate) fn push(&mut self, bin: u8, ptr: NonNull<u8>) -> bool {
        let bin = self.bin(bin);
        match bin.slots.get_mut(bin.len) {
            Some(slot) => {
                *slot = ptr;
                bin.len += 1;
                true
            }
            None => false,
        }
    }

    /// How many objects to fetch from jemalloc when `bin` runs dry, and to
    /// give back when it is full: half of it, so that alternating
    /// allocations and frees do not bounce between the two.
    #[inline]
    pub(crate) fn batch(&self, bin: u8) -> usize {
        self.bins[bin as usize & (MAX_BINS - 1)].slots.len().div_ceil(2)
    }

    /// Moves up to `out.len()` of the least recently freed objects of `bin`
    /// into `out`; returns how many.
    pub(crate) fn take_oldest(&mut self, bin: u8, out: &mut [NonNull<u8>]) -> usize {
        let bin = self.bin(bin);
        let count = out.len().min(bin.len);
        out[..count].copy_from_slice(&bin.slots[..count]);
        bin.slots.copy_within(count..bin.len, 0);
        bin.len -= count;
        count
    }

    /// Takes every cached object out, with its bin.
    pub(crate) fn take_all(&mut self) -> Vec<(u8, NonNull<u8>)> {
        let mut all = Vec::new();
        for (index, bin) in (0..=u8::MAX).zip(self.bins.iter_mut()) {
            all.extend(bin.slots[..bin.len].iter().map(|&ptr| (index, ptr)));
            bin.len = 0;
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_stacks_bounded_by_bytes() {
        let classes = SizeClasses::get();
        let mut cache = FrontCache::new(classes);
        let bin = classes.bin_of(64);
        let fake = |n: usize| NonNull::new((n * 64 + 64) as *mut u8).unwrap();
        let mut pushed = 0;
        while cache.push(bin, fake(pushed)) {
            pushed += 1;
        }
        assert_eq!(pushed, BIN_MAX_OBJECTS);
        assert_eq!(cache.batch(bin), BIN_MAX_OBJECTS / 2);
        assert_eq!(cache.pop(bin), Some(fake(pushed - 1)));
        let mut oldest = [NonNull::dangling(); 3];
        assert_eq!(cache.take_oldest(bin, &mut oldest), 3);
        assert_eq!(oldest, [fake(0), fake(1), fake(2)]);
        assert_eq!(cache.pop(bin), Some(fake(pushed - 2)));
        assert_eq!(cache.take_all().len(), pushed - 5);
        assert_eq!(cache.pop(bin), None);

        let largest = classes.count() as u8 - 1;
        let mut big = 0;
        while cache.push(largest, fake(big)) {
            big += 1;
        }
        assert_eq!(big, (BIN_BYTES / classes.size_of(largest)).max(BIN_MIN_OBJECTS));
        // Bins past the classes never cache, whatever their number.
        for bin in [classes.count() as u8, crate::sizeclass::NO_BIN, u8::MAX] {
            assert!(!cache.push(bin, fake(0)));
            assert_eq!(cache.pop(bin), None);
        }
    }
}

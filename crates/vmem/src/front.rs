//! A thread's front cache for one pool: per size class, a stack of freed
//! objects to hand out again without calling jemalloc.
//!
//! jemalloc's fast paths serve only `malloc`/`free` with its automatic
//! cache; calls that name an arena and an explicit cache (what a pool needs)
//! take its general path, about 4× the instructions, and a large block
//! (16 KiB and up) goes through its extent path every time, ~30× the cost of
//! a small pair. The front cache keeps the common pair — free an object,
//! allocate one of the same class — to a push and a pop, for small classes
//! and for large ones up to 1 MiB. Large blocks are kept within a byte
//! budget per thread and pool, so what idle threads hold stays a small share
//! of the pool (and any thread can take it back when the pool is full). Only
//! this data structure lives here; filling and emptying it through jemalloc
//! is the thread cache's job.
//!
//! The budget costs the hot path nothing: a large bin's room (`cap`) is a
//! reservation against the budget, grown one block at a time on the slow
//! path ([`FrontCache::push_or_grow`]) and taken from bins that do not use
//! theirs when the budget runs out. Push and pop only compare with `cap`, as
//! for a small bin.

use std::ptr::NonNull;

use crate::sizeclass::{SizeClasses, MAX_BINS};

/// Bytes one small bin may hold, and its bounds in objects: enough that a
/// batch of a thousand live objects of mixed small sizes comes and goes
/// without spilling to jemalloc (99 → 78 instructions per operation when
/// doubled from 64 KiB and 128).
const BIN_BYTES: usize = 128 * 1024;
const BIN_MIN_OBJECTS: usize = 4;
pub(crate) const BIN_MAX_OBJECTS: usize = 256;

/// The bytes of large blocks one thread may keep for one pool: a sixteenth
/// of the pool, at most this.
const LARGE_BUDGET_MAX: usize = 8 << 20;

/// One size class: a stack of free objects, most recently freed on top.
struct Bin {
    slots: Box<[NonNull<u8>]>,
    len: usize,
    /// How many objects the bin may hold now: `len <= cap <= slots.len()`.
    /// A small bin's is its length; a large bin's is what it has reserved
    /// of the budget.
    cap: usize,
    /// The size of one object of a large class; 0 for a small class.
    large_size: usize,
}

/// The front cache of one thread for one pool. The bins are inline, so the
/// hot path reaches a cached object in two dependent loads.
pub(crate) struct FrontCache {
    bins: [Bin; MAX_BINS],
    /// Bytes the large bins have reserved (the sum of `cap * large_size`),
    /// at most `large_budget`; the bytes they cache are at most this.
    large_reserved: usize,
    large_budget: usize,
}

impl FrontCache {
    /// An empty front cache for a pool of `pool_len` bytes.
    pub(crate) fn new(classes: &SizeClasses, pool_len: usize) -> Self {
        let large_budget = (pool_len / 16).min(LARGE_BUDGET_MAX);
        let bins = std::array::from_fn(|bin| {
            let bin = bin as u8;
            // Bins past the last class have no room: they never cache.
            let (slots, cap, large_size) = if usize::from(bin) >= classes.count() {
                (0, 0, 0)
            } else if classes.is_large(bin) {
                let size = classes.size_of(bin);
                ((large_budget / size).min(BIN_MAX_OBJECTS), 0, size)
            } else {
                let slots = (BIN_BYTES / classes.size_of(bin)).clamp(BIN_MIN_OBJECTS, BIN_MAX_OBJECTS);
                (slots, slots, 0)
            };
            Bin { slots: vec![NonNull::dangling(); slots].into_boxed_slice(), len: 0, cap, large_size }
        });
        FrontCache { bins, large_reserved: 0, large_budget }
    }

    /// A cached object of `bin`, if there is one. Every number below 256
    /// names a bin (the mask costs less than a bounds check; bins past the
    /// classes never cache).
    #[inline(always)]
    pub(crate) fn pop(&mut self, bin: u8) -> Option<NonNull<u8>> {
        let bin = &mut self.bins[bin as usize & (MAX_BINS - 1)];
        bin.len = bin.len.checked_sub(1)?;
        // SAFETY: `len` never exceeds the slots' length (see `push`).
        Some(unsafe { *bin.slots.get_unchecked(bin.len) })
    }

    /// Caches `ptr` in `bin`; false when the bin has no room (a large bin
    /// may still get some: see [`push_or_grow`](Self::push_or_grow)).
    #[inline(always)]
    pub(crate) fn push(&mut self, bin: u8, ptr: NonNull<u8>) -> bool {
        let bin = &mut self.bins[bin as usize & (MAX_BINS - 1)];
        if bin.len >= bin.cap {
            return false;
        }
        // SAFETY: `len < cap <= slots.len()`.
        unsafe { *bin.slots.get_unchecked_mut(bin.len) = ptr };
        bin.len += 1;
        true
    }

    /// [`push`](Self::push), and when a large bin is full, first room for
    /// one more block from the budget (the slow path of a free).
    pub(crate) fn push_or_grow(&mut self, bin: u8, ptr: NonNull<u8>) -> bool {
        self.push(bin, ptr) || (self.grow(bin) && self.push(bin, ptr))
    }

    /// Reserves room for one more block in large `bin`: from the budget, or
    /// else from what other large bins reserved and do not use. False for a
    /// small bin, a bin at its slots' length, or when the budget is spent
    /// on cached blocks.
    fn grow(&mut self, index: u8) -> bool {
        let index = index as usize & (MAX_BINS - 1);
        let (size, cap, slots) = {
            let bin = &self.bins[index];
            (bin.large_size, bin.cap, bin.slots.len())
        };
        if size == 0 || cap >= slots {
            return false;
        }
        if self.large_reserved + size > self.large_budget {
            for bin in self.bins.iter_mut().filter(|bin| bin.large_size != 0) {
                self.large_reserved -= (bin.cap - bin.len) * bin.large_size;
                bin.cap = bin.len;
            }
            if self.large_reserved + size > self.large_budget {
                return false;
            }
        }
        self.bins[index].cap += 1;
        self.large_reserved += size;
        true
    }

    /// How many objects to fetch from jemalloc when `bin` runs dry, and to
    /// give back when it is full.
    #[inline]
    pub(crate) fn batch(&self, bin: u8) -> usize {
        let bin = &self.bins[bin as usize & (MAX_BINS - 1)];
        match bin.large_size {
            // Half a small bin: alternating allocations and frees do not
            // bounce between the bin and jemalloc.
            0 => bin.slots.len().div_ceil(2),
            // Large blocks one at a time: each is an extent operation of its
            // own.
            _ => 1,
        }
    }

    /// Moves up to `out.len()` of the least recently freed objects of `bin`
    /// into `out`; returns how many.
    pub(crate) fn take_oldest(&mut self, bin: u8, out: &mut [NonNull<u8>]) -> usize {
        let bin = &mut self.bins[bin as usize & (MAX_BINS - 1)];
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
            if bin.large_size != 0 {
                bin.cap = 0;
            }
        }
        self.large_reserved = 0;
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_stacks_bounded_by_bytes() {
        let classes = SizeClasses::get();
        let mut cache = FrontCache::new(classes, 64 << 20);
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

        // (With 64 KiB pages no large class has a bin: the last bin is small.)
        let largest_small = (0..classes.count() as u8).take_while(|&bin| !classes.is_large(bin)).last().unwrap();
        let mut small = 0;
        while cache.push(largest_small, fake(small)) {
            small += 1;
        }
        assert_eq!(small, (BIN_BYTES / classes.size_of(largest_small)).max(BIN_MIN_OBJECTS));
        assert_eq!(cache.take_all().len(), small);
    }

    #[test]
    fn large_bins_share_a_byte_budget() {
        let classes = SizeClasses::get();
        let pool_len = 64 << 20;
        let mut cache = FrontCache::new(classes, pool_len);
        let budget = pool_len / 16;
        let fake = |n: usize| NonNull::new((n * 4096 + 4096) as *mut u8).unwrap();
        let (mebibyte, kib64) = (classes.bin_of(1 << 20), classes.bin_of(64 << 10));
        if mebibyte == crate::sizeclass::NO_BIN {
            // jemalloc with 64 KiB pages (aarch64 Linux): small classes reach
            // past 16 KiB, and no large class has a bin.
            assert!(classes.size_of(classes.count() as u8 - 1) <= 16 << 10);
            return;
        }
        assert!(classes.is_large(mebibyte) && classes.is_large(kib64));
        assert_eq!((cache.batch(mebibyte), cache.batch(kib64)), (1, 1));
        let mut big = 0;
        while cache.push_or_grow(mebibyte, fake(big)) {
            big += 1;
        }
        assert_eq!(big, budget >> 20);
        // The budget is full: no other large class fits, small ones do.
        assert!(!cache.push_or_grow(kib64, fake(100)));
        assert!(cache.push(classes.bin_of(64), fake(101)));
        // A large bin's room is reserved for it: popping and pushing again
        // needs no budget of its own.
        assert!(cache.pop(mebibyte).is_some());
        assert!(cache.push(mebibyte, fake(big)));
        assert!(cache.pop(mebibyte).is_some());
        let mut medium = 0;
        while cache.push_or_grow(kib64, fake(200 + medium)) {
            medium += 1;
        }
        assert_eq!(medium, 16);
        let mut oldest = [NonNull::dangling(); 4];
        assert_eq!(cache.take_oldest(kib64, &mut oldest), 4);
        assert_eq!(oldest[0], fake(200));
        assert!(!cache.push_or_grow(mebibyte, fake(300)));
        assert!(cache.push_or_grow(kib64, fake(301)));
        assert_eq!(cache.take_all().len(), big - 1 + 1 + 13);
        assert!(cache.push_or_grow(mebibyte, fake(400)));
        // A pool too small for a class's block never caches it.
        let mut tiny = FrontCache::new(classes, 8 << 20);
        assert!(!tiny.push_or_grow(mebibyte, fake(0)));
        assert!(tiny.push_or_grow(kib64, fake(0)));
    }

    #[test]
    fn bins_past_the_classes_never_cache() {
        let classes = SizeClasses::get();
        let mut cache = FrontCache::new(classes, 64 << 20);
        let fake = NonNull::new(4096 as *mut u8).unwrap();
        // Bins past the classes never cache, whatever their number.
        for bin in [classes.count() as u8, crate::sizeclass::NO_BIN, u8::MAX] {
            assert!(!cache.push(bin, fake));
            assert_eq!(cache.pop(bin), None);
        }
    }
}

//! How a thread that reclaims a front cache shuts its owner's fast path out
//! ([`FrontCache::close_gates`]) and empties it while that path may run
//! ([`FrontCache::take_all`]); the protocol is in [`crate::thread_cache`]
//! and `caps`' documentation.

use std::ptr::{addr_of, addr_of_mut, NonNull};
use std::sync::atomic::Ordering;

use super::{FrontCache, FIRST_REFILL};
use crate::sizeclass::MAX_BINS;

impl FrontCache {
    /// Closes every gate of the owner's fast path (see `caps`), for a
    /// thread that claimed the cache, and returns the caps they had. The
    /// gates open again with [`take_all`](Self::take_all), or with
    /// [`reopen_gates`](Self::reopen_gates) if the cache stays as it is.
    ///
    /// # Safety
    ///
    /// `this` is a live cache whose owner is outside its slow path and stays
    /// out (the cache is claimed), so that nothing else changes the caps.
    pub(crate) unsafe fn close_gates(this: *const Self) -> [usize; MAX_BINS] {
        // SAFETY: a live cache (caller's contract); every index is below
        // MAX_BINS.
        std::array::from_fn(|bin| unsafe { Self::cap(this, bin) }.swap(0, Ordering::Relaxed))
    }

    /// Opens the gates [`close_gates`](Self::close_gates) closed, with the
    /// caps it returned.
    ///
    /// # Safety
    ///
    /// As for [`close_gates`](Self::close_gates), which returned `caps` for
    /// this cache.
    pub(crate) unsafe fn reopen_gates(this: *const Self, caps: [usize; MAX_BINS]) {
        for (bin, cap) in caps.into_iter().enumerate() {
            // SAFETY: as above.
            unsafe { Self::cap(this, bin) }.store(cap, Ordering::Release);
        }
    }

    /// Takes every cached object out, with its bin, and opens the gates
    /// again (after [`close_gates`](Self::close_gates)).
    ///
    /// Through a raw pointer, since the cache's owner may meanwhile read the
    /// lengths and caps on its fast path (and, finding the gates closed,
    /// nothing else), and push or pop on a bin as soon as its gate is open
    /// again: that bin's length, top and stack words, which this no longer
    /// touches then.
    ///
    /// # Safety
    ///
    /// `this` is a live cache that the caller has to itself but for those
    /// reads: it is the owner inside [`ThreadCache::enter`], or it claimed
    /// the cache and closed its gates, and the owner has left.
    ///
    /// [`ThreadCache::enter`]: crate::thread_cache::ThreadCache::enter
    pub(crate) unsafe fn take_all(this: *mut Self) -> Vec<(u8, NonNull<u8>)> {
        // SAFETY: `this` is live; the owner's fast path reads only the
        // lengths and caps (atomics, shared here) and the stack pointers
        // (shared here), and writes only a reopened bin's length (atomic),
        // top and stack words (not borrowed here); the rest is the caller's
        // alone (its contract).
        let (lens, caps, stacks, refills, rooms, large_sizes) = unsafe {
            (
                &*addr_of!((*this).lens),
                &*addr_of!((*this).caps),
                &*addr_of!((*this).stacks),
                &mut *addr_of_mut!((*this).refills),
                &*addr_of!((*this).rooms),
                &*addr_of!((*this).large_sizes),
            )
        };
        let mut all = Vec::new();
        for (index, bin) in (0..=u8::MAX).zip(0..MAX_BINS) {
            let len = lens[bin].load(Ordering::Relaxed);
            // SAFETY: the bin's `room + 1` words, inside `storage`, are the
            // caller's (as above); `len <= room`.
            let stack = unsafe { std::slice::from_raw_parts(stacks[bin].add(1), len) };
            all.extend(stack.iter().map(|&ptr| (index, ptr)));
            lens[bin].store(0, Ordering::Relaxed);
            // An emptied cache starts small again: its thread may be idle.
            refills[bin] = FIRST_REFILL;
            // The gate last, with Release: a fast path that finds it open
            // also finds the bin emptied (it reads the length after the
            // gate).
            let cap = if large_sizes[bin] == 0 { rooms[bin] } else { 0 };
            caps[bin].store(cap, Ordering::Release);
        }
        // SAFETY: as above.
        unsafe { *addr_of_mut!((*this).large_reserved) = 0 };
        all
    }
}

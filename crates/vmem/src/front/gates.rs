//! How a thread that reclaims a front cache shuts its owner's fast path out
//! ([`FrontCache::close_gates`]) and empties it while that path may run
//! ([`FrontCache::take_all`]); the protocol is in [`crate::thread_cache`]
//! and `caps`' documentation.

use std::ptr::{addr_of, addr_of_mut, NonNull};
use std::sync::atomic::Ordering;

use super::{FrontCache, FIRST_REFILL};
use crate::sizeclass::MAX_BINS;

impl FrontCache {
    /// Whether a reclaim closed the gates (and the owner has not opened
    /// them): bin 0, the smallest class, is a small bin, whose cap is at
    /// least its base cap (at least 4) while its gate is open.
    ///
    /// # Safety
    ///
    /// `this` is a live cache.
    pub(crate) unsafe fn gates_closed(this: *const Self) -> bool {
        // SAFETY: a live cache (caller's contract); 0 < MAX_BINS.
        unsafe { Self::cap(this, 0) }.load(Ordering::Relaxed) == 0
    }

    /// Closes every gate of the owner's fast path (see `caps`), for a
    /// thread that claimed the cache, and returns the caps they had. The
    /// owner opens them again on its next slow path, once the cache is
    /// emptied ([`take_all`](Self::take_all),
    /// [`open_gates_after_reclaim`](Self::open_gates_after_reclaim)); or
    /// [`reopen_gates`](Self::reopen_gates) does, if the cache stays as it
    /// is.
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

    /// Puts back the caps [`close_gates`](Self::close_gates) returned: the
    /// gates are as they were (closed still, if an earlier reclaim closed
    /// them).
    ///
    /// # Safety
    ///
    /// As for [`close_gates`](Self::close_gates), which returned `caps` for
    /// this cache.
    pub(crate) unsafe fn reopen_gates(this: *const Self, caps: [usize; MAX_BINS]) {
        for (bin, cap) in caps.into_iter().enumerate() {
            // SAFETY: as above.
            unsafe { Self::cap(this, bin) }.store(cap, Ordering::Relaxed);
        }
    }

    /// Takes every cached object out, with its bin. Open gates stay open
    /// with the caps of an empty cache; closed ones stay closed.
    ///
    /// Through a raw pointer, since the cache's owner may meanwhile read the
    /// lengths and caps on its fast path (and, finding the gates closed,
    /// nothing else).
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
        // lengths and caps meanwhile (atomics, shared here); the rest is the
        // caller's alone (its contract).
        let (lens, caps, stacks, refills) = unsafe {
            (
                &*addr_of!((*this).lens),
                &*addr_of!((*this).caps),
                &*addr_of!((*this).stacks),
                &mut *addr_of_mut!((*this).refills),
            )
        };
        // SAFETY: as above.
        let closed = unsafe { Self::gates_closed(this) };
        let mut all = Vec::new();
        for (index, bin) in (0..=u8::MAX).zip(0..MAX_BINS) {
            let len = lens[bin].load(Ordering::Relaxed);
            // SAFETY: the bin's `room + 1` words, inside `storage`, are the
            // caller's (as above); `len <= room`.
            let stack = unsafe { std::slice::from_raw_parts(stacks[bin].add(1), len) };
            all.extend(stack.iter().flatten().map(|&ptr| (index, ptr)));
            lens[bin].store(0, Ordering::Relaxed);
            // An emptied cache starts small again: its thread may be idle.
            refills[bin] = FIRST_REFILL;
            if !closed {
                // The owner's own: what an empty cache has reserved.
                // SAFETY: as above.
                caps[bin].store(unsafe { Self::empty_cap(this, bin) }, Ordering::Relaxed);
            }
        }
        // SAFETY: as above.
        unsafe {
            *addr_of_mut!((*this).large_reserved) = 0;
            *addr_of_mut!((*this).small_grown) = 0;
        }
        all
    }

    /// The cap of `bin` in an empty cache: a small bin's base cap (it grows
    /// again if its thread still needs it); nothing reserved for a large
    /// one.
    ///
    /// # Safety
    ///
    /// `this` is a live cache; `bin < MAX_BINS`.
    unsafe fn empty_cap(this: *const Self, bin: usize) -> usize {
        // SAFETY: a read-only field, set when the cache was made.
        unsafe { (*addr_of!((*this).base_caps))[bin] }
    }

    /// Opens the gates a reclaim closed, once it emptied the cache: for
    /// the owner, on its slow path (it alone opens them: see `caps`).
    pub(crate) fn open_gates_after_reclaim(&mut self) {
        // SAFETY: `self` is live.
        if !unsafe { Self::gates_closed(self) } {
            return;
        }
        for bin in 0..MAX_BINS {
            // SAFETY: `self` is live; `bin < MAX_BINS`.
            let cap = unsafe { Self::empty_cap(self, bin) };
            *self.caps[bin].get_mut() = cap;
        }
    }
}

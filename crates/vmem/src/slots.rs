//! A pool's thread slots: how a thread finds its cache for the pool without
//! a thread-local.
//!
//! A thread-local costs a `__tls_get_addr` call in a shared library such as
//! `libvmem.so` or the Node addon. Instead each pool keeps slots that map a
//! thread's id (its thread pointer, one instruction) to its cache. A thread
//! looks in its home slot (a hash of its id) and, when another thread holds
//! that one, in the few after it. A slot is written only by the thread it
//! names, or claimed while empty, so a thread that finds its own id in a slot
//! also finds its own cache there. Threads that find no slot use a
//! thread-local ([`crate::thread_entries`]) on the slow path.

use std::ptr::{self, NonNull};
use std::sync::atomic::{compiler_fence, AtomicPtr, AtomicUsize, Ordering};

use crate::thread_cache::ThreadCache;

/// Slots per pool (16 bytes each). With 16 slots and only the home slot, a
/// thread often found its slot taken: of 16 threads of one process, 6 ran
/// every call through the slow path (30 against 14 ns per operation of a
/// small batch).
const THREAD_SLOTS: usize = 128;

/// The slots a thread may hold: its home slot and the ones after it. Only a
/// thread whose home slot is another's looks past it, and it does so on the
/// slow path, so the common call costs what it did with one slot per thread.
const SLOT_PROBES: usize = 8;

/// A slot's thread while its cache is being stored or cleared: no thread's
/// id (thread pointers are aligned).
const SLOT_TAKEN: usize = 1;

/// One thread's way to its cache for one pool. Only the thread a slot names
/// writes it (and, after a fork, the child's one thread). A thread takes a
/// free slot by marking it [`SLOT_TAKEN`], stores its cache, then names
/// itself; it leaves in the reverse order. So to its owner, even in a signal
/// handler that interrupts either, a slot that names it holds its cache.
struct ThreadSlot<'a> {
    /// The owner's thread id, 0 when free.
    thread: &'a AtomicUsize,
    cache: &'a AtomicPtr<ThreadCache>,
}

impl ThreadSlot<'_> {
    /// Whether the slot names `thread`. Relaxed: only that thread writes a
    /// slot that names it.
    #[inline(always)]
    fn names(&self, thread: usize) -> bool {
        self.thread.load(Ordering::Relaxed) == thread
    }

    /// The cache of a slot that names the calling thread.
    #[inline(always)]
    fn cache_of_owner(&self) -> NonNull<ThreadCache> {
        let cache = self.cache.load(Ordering::Relaxed);
        debug_assert!(!cache.is_null());
        // SAFETY: a slot that names its reader holds the reader's cache (see
        // `ThreadSlot`).
        unsafe { NonNull::new_unchecked(cache) }
    }

    /// Empties a slot that names the calling thread, or any slot of a
    /// forked child's dead threads.
    fn clear(&self) {
        self.thread.store(SLOT_TAKEN, Ordering::Relaxed);
        // As in `ThreadSlots::take`: the name goes before the cache.
        compiler_fence(Ordering::Release);
        self.cache.store(ptr::null_mut(), Ordering::Relaxed);
        self.thread.store(0, Ordering::Relaxed);
    }
}

/// A pool's slots, field by field: the hot path then reads a slot's thread
/// and cache with one indexed load each.
pub(crate) struct ThreadSlots {
    threads: [AtomicUsize; THREAD_SLOTS],
    caches: [AtomicPtr<ThreadCache>; THREAD_SLOTS],
}

impl ThreadSlots {
    /// Slots that are all free.
    pub(crate) fn new() -> Self {
        ThreadSlots {
            threads: std::array::from_fn(|_| AtomicUsize::new(0)),
            caches: std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
        }
    }

    #[inline(always)]
    fn get(&self, index: usize) -> ThreadSlot<'_> {
        ThreadSlot { thread: &self.threads[index], cache: &self.caches[index] }
    }

    /// The cache of `thread` (the caller) if it holds its home slot: the
    /// hot path's lookup.
    #[inline(always)]
    pub(crate) fn home(&self, thread: usize) -> Option<NonNull<ThreadCache>> {
        let home = self.get(home_slot(thread));
        if home.names(thread) {
            return Some(home.cache_of_owner());
        }
        None
    }

    /// The cache of `thread` (the caller) if it holds any slot.
    pub(crate) fn find(&self, thread: usize) -> Option<NonNull<ThreadCache>> {
        self.find_slot(thread).map(|slot| slot.cache_of_owner())
    }

    /// The slots `thread` may hold, its home slot first.
    fn probes(&self, thread: usize) -> impl Iterator<Item = ThreadSlot<'_>> {
        let home = home_slot(thread);
        (0..SLOT_PROBES).map(move |probe| self.get((home + probe) % THREAD_SLOTS))
    }

    fn find_slot(&self, thread: usize) -> Option<ThreadSlot<'_>> {
        self.probes(thread).find(|slot| slot.names(thread))
    }

    /// Makes `cache` what `thread` (the caller) finds in a slot, if it holds
    /// none yet and one of its slots is free.
    pub(crate) fn take(&self, thread: usize, cache: NonNull<ThreadCache>) {
        if self.find_slot(thread).is_some() {
            return;
        }
        let free = |slot: &ThreadSlot<'_>| {
            slot.thread.compare_exchange(0, SLOT_TAKEN, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        };
        if let Some(slot) = self.probes(thread).find(free) {
            slot.cache.store(cache.as_ptr(), Ordering::Relaxed);
            // A signal handler on this thread sees the cache before its name.
            compiler_fence(Ordering::Release);
            slot.thread.store(thread, Ordering::Relaxed);
        }
    }

    /// Frees the slot of `thread` (the caller), if it holds one.
    pub(crate) fn leave(&self, thread: usize) {
        if let Some(slot) = self.find_slot(thread) {
            slot.clear();
        }
    }

    /// In a forked child, whose only thread is `survivor`: frees every
    /// other slot (a new thread may get a dead one's id).
    pub(crate) fn keep_only(&self, survivor: usize) {
        for slot in (0..THREAD_SLOTS).map(|index| self.get(index)) {
            if !slot.names(survivor) {
                slot.clear();
            }
        }
    }
}

/// The slot a thread tries first for every pool.
#[inline(always)]
fn home_slot(thread: usize) -> usize {
    // Thread pointers differ in their high bits (stacks are megabytes
    // apart): a multiplicative hash spreads them over the slots.
    ((thread as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (u64::BITS - THREAD_SLOTS.trailing_zeros())) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in cache pointer per thread: only compared, never used.
    fn cache_of(thread: usize) -> NonNull<ThreadCache> {
        NonNull::new(thread as *mut ThreadCache).unwrap()
    }

    #[test]
    fn threads_that_share_a_home_slot_each_find_their_own() {
        let slots = ThreadSlots::new();
        // Thread ids (aligned, as thread pointers are) whose home slot is
        // the same: SLOT_PROBES of them all get a slot.
        let home = home_slot(0x7f00_0000_1000);
        let same_home: Vec<usize> = (1..)
            .map(|i| 0x7f00_0000_0000 + i * 0x1000)
            .filter(|&id| home_slot(id) == home)
            .take(SLOT_PROBES + 1)
            .collect();
        for &thread in &same_home {
            slots.take(thread, cache_of(thread));
        }
        for &thread in &same_home[..SLOT_PROBES] {
            assert_eq!(slots.find(thread), Some(cache_of(thread)));
        }
        assert_eq!(slots.home(same_home[0]), Some(cache_of(same_home[0])));
        assert_eq!(slots.home(same_home[1]), None, "only the first holds the home slot");
        // The window is full: the next one falls back to its thread-local.
        assert_eq!(slots.find(same_home[SLOT_PROBES]), None);
        // Once one leaves, it gets that slot, and nobody else's.
        slots.leave(same_home[3]);
        assert_eq!(slots.find(same_home[3]), None);
        slots.take(same_home[SLOT_PROBES], cache_of(same_home[SLOT_PROBES]));
        for &thread in same_home.iter().filter(|&&thread| thread != same_home[3]) {
            assert_eq!(slots.find(thread), Some(cache_of(thread)));
        }
        // Taking again changes nothing; after a fork only the survivor stays.
        slots.take(same_home[0], cache_of(same_home[1]));
        assert_eq!(slots.find(same_home[0]), Some(cache_of(same_home[0])));
        slots.keep_only(same_home[5]);
        assert_eq!(slots.find(same_home[5]), Some(cache_of(same_home[5])));
        assert!(same_home.iter().filter(|&&thread| thread != same_home[5]).all(|&thread| slots.find(thread).is_none()));
    }

    /// `count` aligned ids (as thread pointers are) whose home slot is
    /// `home`.
    fn ids_at_home(home: usize, count: usize) -> Vec<usize> {
        (1..).map(|i| 0x7f00_0000_0000 + i * 0x1000).filter(|&id| home_slot(id) == home).take(count).collect()
    }

    #[test]
    fn a_window_past_the_last_slot_wraps_to_the_first() {
        let slots = ThreadSlots::new();
        let last = ids_at_home(THREAD_SLOTS - 1, SLOT_PROBES + 1);
        for &thread in &last {
            slots.take(thread, cache_of(thread));
        }
        for &thread in &last[..SLOT_PROBES] {
            assert_eq!(slots.find(thread), Some(cache_of(thread)));
        }
        assert_eq!(slots.find(last[SLOT_PROBES]), None);
        // Slot 0's own thread finds its home slot held (by a wrapped one)
        // and takes the next.
        let first = ids_at_home(0, 1)[0];
        slots.take(first, cache_of(first));
        assert_eq!(slots.home(first), None);
        assert_eq!(slots.find(first), Some(cache_of(first)));
        for &thread in &last[..SLOT_PROBES] {
            slots.leave(thread);
        }
        slots.leave(first);
        assert!((0..THREAD_SLOTS).all(|index| slots.get(index).names(0)), "a slot left taken");
    }

    #[test]
    fn threads_racing_for_overlapping_windows_only_ever_find_their_own() {
        // 24 threads whose homes are 4 neighbouring slots (windows of 8
        // overlap, 11 slots in all): each takes, checks and leaves its slot
        // over and over, under its own chosen id. A thread that finds a
        // slot must find its own cache there; every slot ends free.
        let slots = ThreadSlots::new();
        let ids: Vec<usize> = (40..44).flat_map(|home| ids_at_home(home, 6)).collect();
        std::thread::scope(|scope| {
            for &thread in &ids {
                let slots = &slots;
                scope.spawn(move || {
                    let mut held = 0;
                    for _ in 0..20_000 {
                        slots.take(thread, cache_of(thread));
                        if let Some(cache) = slots.find(thread) {
                            assert_eq!(cache, cache_of(thread), "thread {thread:#x} found another's cache");
                            held += 1;
                        }
                        if let Some(cache) = slots.home(thread) {
                            assert_eq!(cache, cache_of(thread));
                        }
                        slots.leave(thread);
                        assert_eq!(slots.find(thread), None, "thread {thread:#x} still holds a slot");
                    }
                    assert!(held > 0, "thread {thread:#x} never got a slot");
                });
            }
        });
        assert!((0..THREAD_SLOTS).all(|index| slots.get(index).names(0)), "a slot left taken");
    }

    #[test]
    fn sixteen_live_threads_all_hold_a_slot() {
        // 16 threads of one process: with 16 home-only slots, 6 had none.
        let slots = ThreadSlots::new();
        // All alive at once, so no two share an id.
        let all_started = std::sync::Barrier::new(16);
        let threads: Vec<usize> = std::thread::scope(|scope| {
            let spawned: Vec<_> = (0..16)
                .map(|_| {
                    scope.spawn(|| {
                        all_started.wait();
                        crate::sys::unix::thread_id()
                    })
                })
                .collect();
            spawned.into_iter().map(|thread| thread.join().unwrap()).collect()
        });
        for &thread in &threads {
            slots.take(thread, cache_of(thread));
        }
        for &thread in &threads {
            assert_eq!(slots.find(thread), Some(cache_of(thread)), "thread {thread:#x} has no slot");
        }
    }
}

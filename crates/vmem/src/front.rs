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
//! of the pool (and any thread can take it back when the pool is full). A
//! small bin starts at 128 KiB's worth of objects and grows, within a budget
//! of its own, while its thread keeps freeing more objects of its class than
//! it holds. Only this data structure lives here; filling and emptying it
//! through jemalloc is the thread cache's job.
//!
//! The budgets cost the hot path nothing: a bin's room (`cap`) is a
//! reservation against its budget, grown on the slow path
//! ([`FrontCache::push_or_grow`]: a large bin one block at a time, a small
//! one twice as many objects) and taken from bins that do not use theirs
//! when the budget runs out. Push and pop only compare with `cap`.

use std::io;
use std::ptr::{addr_of, addr_of_mut, NonNull};
use std::sync::atomic::{AtomicUsize, Ordering};

use memmap2::{MmapMut, MmapOptions};

use crate::sizeclass::{SizeClasses, MAX_BINS};

/// Bytes one small bin holds before it grows, and its bounds in objects:
/// enough that a batch of a thousand live objects of mixed small sizes
/// comes and goes without spilling to jemalloc (99 → 78 instructions per
/// operation when doubled from 64 KiB and 128). Also the most a spill
/// gives back at once is half of this.
const BIN_BYTES: usize = 128 * 1024;
const BIN_MIN_OBJECTS: usize = 4;
pub(crate) const BIN_MAX_OBJECTS: usize = 256;

/// What a small bin may grow to, in bytes and objects, when it keeps
/// filling (see [`FrontCache::push_or_grow`]). A thread whose working set
/// churns more objects of a class than the bin first holds would otherwise
/// send half a bin through jemalloc's general path on every spill and
/// refill: the small batch of `npm run bench` with 3000, 10 000 and 30 000
/// live objects took 18.7, 36.7 and 45.2 ns per operation against 10.4 with
/// 1000; grown, 9.7, 10.0 and 10.8 (the tcmalloc heap: 9.6, 13.1, 10.8).
/// At 1 MiB and 2048 objects, 30 000 took 21.3.
const GROWN_BIN_BYTES: usize = 2 << 20;
const GROWN_BIN_MAX_OBJECTS: usize = 4096;

/// The bytes by which one thread's small bins may grow past
/// [`BIN_BYTES`], together, for one pool: a sixteenth of the pool, at most
/// this. Past it, a bin that needs room takes what others grew and do not
/// use, or spills.
const SMALL_GROWTH_MAX: usize = 8 << 20;

/// A small bin's first refill, in objects; each later one doubles, up to
/// half the bin. A thread that touches a class a few times takes little of
/// it: with jemalloc's 64 KiB pages (aarch64), 150 threads whose first
/// refills each took half a bin spread their objects over every slab of a
/// 14 MiB pool, and the blocks that stayed live then pinned them all.
const FIRST_REFILL: u16 = 4;

/// Refills below this many objects (or below a bin's full batch, when that
/// is smaller) come straight from the arena, past jemalloc's thread cache,
/// which would otherwise fetch half of its own bin for a class the thread
/// has barely used.
const CACHED_REFILL: usize = 32;

/// A refill's size and where it comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Refill {
    /// How many objects to fetch.
    pub(crate) objects: usize,
    /// Whether through jemalloc's thread cache (a class the thread uses
    /// much), or straight from the arena.
    pub(crate) cached: bool,
}

/// The bytes of large blocks one thread may keep for one pool: a sixteenth
/// of the pool, at most this. A thread whose working set is a few hundred
/// blocks of 16–64 KiB keeps about twice that set's bytes once churned (each
/// class's bin settles at the most that class has come back at once); at
/// 8 MiB the mixed batch of `npm run bench` (200 × 8 B–64 KiB, about 6 MiB in
/// large blocks) outgrew the budget, and 1.6 % of its operations went
/// through jemalloc's extent path: 40 → 21 ns per operation at 16 MiB.
const LARGE_BUDGET_MAX: usize = 16 << 20;

/// The front cache of one thread for one pool: per size class ("bin"), a
/// stack of free objects, most recently freed on top.
///
/// Two choices keep the hot path short, both measured on 64 B pairs:
///
/// - The top object of each bin is also kept apart from the rest. A pop's
///   result is then one load of the word the last free stored, not a load
///   of the length followed by a load at an address computed from it. In a
///   malloc/free pair each operation waits for the other's stores, so that
///   second dependent load was on the critical path of every pair. A push
///   writes the object to both places and reads neither: the old top stays
///   where it is, and no word goes back and forth between a pair's two
///   halves (64 B pair 0.97×, 4 KiB 0.99×, 20 alternating runs, twice).
/// - The fields are arrays indexed by bin (not an array of bin structs), so
///   each access is one instruction with a scaled index. This paid for the
///   extra load and store that keeping the top apart first cost.
///
/// Together, when first made (`bench/ab.sh`, 20 alternating runs against
/// the single array of bin structs before): a 64 B pair 10.0 → 7.0 ns, a
/// 4 KiB pair 10.6 → 7.2 ns; a batch of a thousand allocations then frees
/// unchanged (1.02×), 104 → 103 instructions per allocation and free.
pub(crate) struct FrontCache {
    /// Each bin's top object, when it is not empty (always `Some` then).
    tops: [Option<NonNull<u8>>; MAX_BINS],
    /// How many objects each bin holds. Atomic (but only ever written by
    /// whoever has the cache to itself) because the owner's fast path reads
    /// a bin's length before it reads the gate that may tell it a reclaiming
    /// thread is emptying the bin (see `caps`).
    lens: [AtomicUsize; MAX_BINS],
    /// How many objects each bin may hold now: `base_cap <= cap <= room`
    /// and `len <= cap`. A small bin's is its base cap, or more once it
    /// grew; a large bin's is what it has reserved of the budget.
    ///
    /// The caps are also the gates of the owner's fast path, which checks
    /// them where it checks for a hit anyway (a pop takes an object only
    /// while `len - 1 < cap`, a push only while `len < cap`): a thread
    /// reclaiming the cache closes them (every cap 0) while the owner may be
    /// using it ([`close_gates`](Self::close_gates)), so a fast path that
    /// starts afterwards misses and takes the slow path, which waits for the
    /// reclaim to end (see [`crate::thread_cache`]). Only the caps and the
    /// lengths are atomic: the rest is touched only by whoever has the cache
    /// to itself.
    ///
    /// Only the owner reopens the gates, on its slow path
    /// ([`open_gates_after_reclaim`](Self::open_gates_after_reclaim)): a
    /// fast path that started after they closed is not waited for, and may
    /// have read a length from before the emptying; it must then find its
    /// gate still closed. (With the gates reopened by the reclaim as it
    /// emptied each bin, such a fast path read the old length, then the
    /// open gate, and handed out objects given back to jemalloc; reading
    /// the gate first fixed that but cost a 64 B pair 3 %: the length's
    /// load is the one on the critical path.)
    caps: [AtomicUsize; MAX_BINS],
    /// Each bin's objects, bottom first: the `k`-th from the bottom is at
    /// `stacks[bin] + k` for `1 <= k <= len` (the top too, which `tops`
    /// repeats), and `stacks[bin] + 0` is a spare that an emptying pop reads
    /// as the next top, so it needs no branch. Each points at `room + 1`
    /// words of `storage`. The words below a stack's length are always
    /// objects; the rest may be `None` (never written: see `storage`).
    stacks: [*mut Option<NonNull<u8>>; MAX_BINS],
    /// The most objects each bin can hold.
    rooms: [usize; MAX_BINS],
    /// Each bin's cap in an empty cache: a small bin's first room, what it
    /// holds before it grows; 0 for a large bin (nothing reserved).
    base_caps: [usize; MAX_BINS],
    /// The size of one object of each large class; 0 for a small class.
    large_sizes: [usize; MAX_BINS],
    /// The size of one object of each small class; 0 for a large class.
    small_sizes: [usize; MAX_BINS],
    /// Each small bin's next refill, in objects (see `FIRST_REFILL`).
    refills: [u16; MAX_BINS],
    /// Bytes the large bins have reserved (the sum of `cap * large_size`),
    /// at most `large_budget`; the bytes they cache are at most this.
    large_reserved: usize,
    large_budget: usize,
    /// Bytes the small bins have grown by (the sum of
    /// `(cap - base_cap) * small_size`), at most `small_budget`.
    small_grown: usize,
    small_budget: usize,
    /// Never read, only owned: dropping it frees the words every `stacks`
    /// entry points into.
    #[allow(dead_code)]
    storage: StackWords,
}

impl FrontCache {
    /// An empty front cache for a pool of `pool_len` bytes; an error if the
    /// system has no memory to map for its stacks (then
    /// [`holding_nothing`](Self::holding_nothing) will do).
    pub(crate) fn new(classes: &SizeClasses, pool_len: usize) -> io::Result<Self> {
        let large_budget = (pool_len / 16).min(LARGE_BUDGET_MAX);
        let mut rooms = [0; MAX_BINS];
        let mut base_caps = [0; MAX_BINS];
        let mut large_sizes = [0; MAX_BINS];
        let mut small_sizes = [0; MAX_BINS];
        // Bins past the last class have no room: they never cache.
        for bin in 0..classes.count().min(MAX_BINS) as u8 {
            let size = classes.size_of(bin);
            let index = usize::from(bin);
            if classes.is_large(bin) {
                rooms[index] = (large_budget / size).min(BIN_MAX_OBJECTS);
                large_sizes[index] = size;
            } else {
                base_caps[index] = (BIN_BYTES / size).clamp(BIN_MIN_OBJECTS, BIN_MAX_OBJECTS);
                rooms[index] = (GROWN_BIN_BYTES / size).clamp(base_caps[index], GROWN_BIN_MAX_OBJECTS);
                small_sizes[index] = size;
            }
        }
        let words: usize = rooms.iter().map(|room| room + 1).sum();
        // No swap reserved: where the system counts commitments strictly,
        // each cache would otherwise count its whole room (0.7 MiB).
        let storage = MmapOptions::new().len(words * size_of::<Option<NonNull<u8>>>()).no_reserve_swap().map_anon()?;
        let mut cache = FrontCache {
            tops: [None; MAX_BINS],
            lens: [const { AtomicUsize::new(0) }; MAX_BINS],
            caps: base_caps.map(AtomicUsize::new),
            stacks: [std::ptr::null_mut(); MAX_BINS],
            rooms,
            base_caps,
            large_sizes,
            small_sizes,
            refills: [FIRST_REFILL; MAX_BINS],
            large_reserved: 0,
            large_budget,
            small_grown: 0,
            small_budget: (pool_len / 16).min(SMALL_GROWTH_MAX),
            storage: StackWords::Mapped(storage),
        };
        cache.lay_out_stacks();
        Ok(cache)
    }

    /// A front cache that never holds an object (every room 0): for a
    /// thread whose stacks could not be mapped, which then allocates and
    /// frees through jemalloc each time, but keeps its registration (and
    /// does not ask for the mapping again on every call).
    pub(crate) fn holding_nothing() -> Self {
        let mut cache = FrontCache {
            tops: [None; MAX_BINS],
            lens: [const { AtomicUsize::new(0) }; MAX_BINS],
            caps: [const { AtomicUsize::new(0) }; MAX_BINS],
            stacks: [std::ptr::null_mut(); MAX_BINS],
            rooms: [0; MAX_BINS],
            base_caps: [0; MAX_BINS],
            large_sizes: [0; MAX_BINS],
            small_sizes: [0; MAX_BINS],
            refills: [FIRST_REFILL; MAX_BINS],
            large_reserved: 0,
            large_budget: 0,
            small_grown: 0,
            small_budget: 0,
            // Each bin's spare word.
            storage: StackWords::Heap(vec![None; MAX_BINS].into_boxed_slice()),
        };
        cache.lay_out_stacks();
        cache
    }

    /// Points each bin's stack at its `room + 1` words of `storage`.
    fn lay_out_stacks(&mut self) {
        let mut next = match &mut self.storage {
            StackWords::Mapped(map) => map.as_mut_ptr().cast::<Option<NonNull<u8>>>(),
            StackWords::Heap(words) => words.as_mut_ptr(),
        };
        for (stack, room) in self.stacks.iter_mut().zip(self.rooms) {
            *stack = next;
            // SAFETY: the rooms' words plus one each add up to the storage's
            // length (a mapping is page-aligned, so aligned for a word), so
            // this stays inside it or one past its end.
            next = unsafe { next.add(room + 1) };
        }
    }

    /// A cached object of `bin`, if there is one. Every number below 256
    /// names a bin (the mask costs less than a bounds check; bins past the
    /// classes never cache).
    #[inline(always)]
    pub(crate) fn pop(&mut self, bin: u8) -> Option<NonNull<u8>> {
        // SAFETY: masked below MAX_BINS; `&mut self` is the only use of the
        // cache.
        unsafe { Self::pop_entered(self, bin as usize & (MAX_BINS - 1)) }
    }

    /// [`pop`](Self::pop) for the owner's fast path, which has entered the
    /// cache but may meet a reclaiming thread closing its gates: through a
    /// raw pointer, reading the caps as the atomics they are.
    ///
    /// # Safety
    ///
    /// `this` is a live cache that the calling thread alone uses, but for
    /// its caps, which a reclaiming thread may close meanwhile (the fast
    /// path then reads only them and the lengths); `bin` is below
    /// [`MAX_BINS`], as every bin number of
    /// [`SmallBins`](crate::sizeclass::SmallBins), [`SizeClasses`] and the
    /// [`PageMap`](crate::pagemap::PageMap) is.
    #[inline(always)]
    pub(crate) unsafe fn pop_entered(this: *mut Self, bin: usize) -> Option<NonNull<u8>> {
        debug_assert!(bin < MAX_BINS);
        // SAFETY: every array has MAX_BINS entries, and all but the caps
        // are the caller's alone (its contract).
        unsafe {
            // The length first (on the critical path), then the gate: a
            // closed one stays closed until this thread opens it (see
            // `caps`). Relaxed: an open gate comes from this thread, or
            // from a reclaim that changed nothing else.
            let len = &*addr_of!((*this).lens).cast::<AtomicUsize>().add(bin);
            let new_len = len.load(Ordering::Relaxed).wrapping_sub(1);
            #[cfg(test)]
            tests::between_reads();
            let cap = Self::cap(this, bin).load(Ordering::Relaxed);
            // An empty bin wraps past every cap; a closed gate is 0.
            if new_len >= cap {
                // Laid out past the return: a hit's path has no taken jump.
                crate::hint::cold();
                return None;
            }
            let top = addr_of_mut!((*this).tops).cast::<Option<NonNull<u8>>>().add(bin);
            let stack = *addr_of!((*this).stacks).cast::<*mut Option<NonNull<u8>>>().add(bin);
            len.store(new_len, Ordering::Relaxed);
            let object = *top;
            // `new_len < cap <= room`, and the bin has `room + 1` words.
            *top = *stack.add(new_len);
            debug_assert!(object.is_some());
            // The top of a bin that holds an object is that object (see
            // `tops`), so `object` is `Some` here: no second check.
            Some(object.unwrap_unchecked())
        }
    }

    /// The cap of `bin`, the owner's fast path's gate.
    ///
    /// # Safety
    ///
    /// `this` is a live cache; `bin` is below [`MAX_BINS`].
    #[inline(always)]
    unsafe fn cap<'a>(this: *const Self, bin: usize) -> &'a AtomicUsize {
        // SAFETY: inside the array (caller's contract); atomics may be
        // shared.
        unsafe { &*addr_of!((*this).caps).cast::<AtomicUsize>().add(bin) }
    }

    /// Caches `ptr` in `bin`; false when the bin has no room (a large bin
    /// may still get some: see [`push_or_grow`](Self::push_or_grow)).
    #[inline(always)]
    pub(crate) fn push(&mut self, bin: u8, ptr: NonNull<u8>) -> bool {
        // SAFETY: masked below MAX_BINS; `&mut self` is the only use of the
        // cache.
        unsafe { Self::push_entered(self, bin as usize & (MAX_BINS - 1), ptr) }
    }

    /// [`push`](Self::push) for the owner's fast path (see
    /// [`pop_entered`](Self::pop_entered)).
    ///
    /// # Safety
    ///
    /// As for [`pop_entered`](Self::pop_entered).
    #[inline(always)]
    pub(crate) unsafe fn push_entered(this: *mut Self, bin: usize, ptr: NonNull<u8>) -> bool {
        debug_assert!(bin < MAX_BINS);
        // SAFETY: as in `pop_entered`.
        unsafe {
            // As in `pop_entered`.
            let len_word = &*addr_of!((*this).lens).cast::<AtomicUsize>().add(bin);
            let len = len_word.load(Ordering::Relaxed);
            #[cfg(test)]
            tests::between_reads();
            let cap = Self::cap(this, bin).load(Ordering::Relaxed);
            if len >= cap {
                return false;
            }
            let top = addr_of_mut!((*this).tops).cast::<Option<NonNull<u8>>>().add(bin);
            let stack = *addr_of!((*this).stacks).cast::<*mut Option<NonNull<u8>>>().add(bin);
            len_word.store(len + 1, Ordering::Relaxed);
            // `len < cap <= room`, and the bin has `room + 1` words.
            *stack.add(len + 1) = Some(ptr);
            *top = Some(ptr);
        }
        true
    }

    /// Forgets every cached object without giving it back: for the cache of
    /// a thread that was inside it when another thread forked, whose stacks
    /// the child may have copied half-changed (a pop or push, or a spill
    /// shifting a stack). What the cache held stays allocated in the child.
    pub(crate) fn forget_all(&mut self) {
        for len in &mut self.lens {
            *len.get_mut() = 0;
        }
    }

    /// [`push`](Self::push), and when the bin is full, first more room
    /// for it (the slow path of a free): one more block for a large bin,
    /// twice its cap for a small one, within their budgets.
    pub(crate) fn push_or_grow(&mut self, bin: u8, ptr: NonNull<u8>) -> bool {
        self.push(bin, ptr) || (self.grow(bin) && self.push(bin, ptr))
    }

    /// Gives full `bin` more room, if its room and its budget allow.
    fn grow(&mut self, bin: u8) -> bool {
        let bin = bin as usize & (MAX_BINS - 1);
        // SAFETY: `self` is live. (Only the owner's slow path grows a bin,
        // after opening the gates; closed, every cap would read 0.)
        if unsafe { Self::gates_closed(self) } || *self.caps[bin].get_mut() >= self.rooms[bin] {
            return false;
        }
        match (self.large_sizes[bin], self.small_sizes[bin]) {
            (0, 0) => false,
            (0, size) => self.grow_small(bin, size),
            (size, _) => self.grow_large(bin, size),
        }
    }

    /// Doubles small `bin`'s cap (up to its room), from the small budget,
    /// or else from what other small bins grew and leave more than half
    /// unused; grows it by what is left when that is less, but by half its
    /// cap at least. False otherwise: then the bin spills half, and takes
    /// the slow path again only after as many frees. (Growing by what was
    /// left, however little, took the slow path on nearly every free once
    /// the budget ran out: each bin grew by a few objects at a time, from
    /// what it had just taken from the others.)
    fn grow_small(&mut self, bin: usize, size: usize) -> bool {
        let cap = *self.caps[bin].get_mut();
        let wanted = cap.min(self.rooms[bin] - cap);
        if self.small_grown + wanted * size > self.small_budget {
            for other in (0..MAX_BINS).filter(|&other| other != bin && self.small_sizes[other] != 0) {
                let other_cap = self.caps[other].get_mut();
                let len = *self.lens[other].get_mut();
                if len < *other_cap / 2 {
                    let kept = len.max(self.base_caps[other]);
                    self.small_grown -= (*other_cap - kept) * self.small_sizes[other];
                    *other_cap = kept;
                }
            }
        }
        let grown = wanted.min((self.small_budget - self.small_grown) / size);
        if grown == 0 || grown < cap / 2 {
            return false;
        }
        *self.caps[bin].get_mut() += grown;
        self.small_grown += grown * size;
        true
    }

    /// Reserves room for one more block in large `bin`: from the budget, or
    /// else from what other large bins reserved and do not use. False when
    /// the budget is spent on cached blocks.
    fn grow_large(&mut self, bin: usize, size: usize) -> bool {
        if self.large_reserved + size > self.large_budget {
            for other in (0..MAX_BINS).filter(|&other| self.large_sizes[other] != 0) {
                let cap = self.caps[other].get_mut();
                let len = *self.lens[other].get_mut();
                self.large_reserved -= (*cap - len) * self.large_sizes[other];
                *cap = len;
            }
            if self.large_reserved + size > self.large_budget {
                return false;
            }
        }
        *self.caps[bin].get_mut() += 1;
        self.large_reserved += size;
        true
    }

    /// What to fetch from jemalloc now that `bin` ran dry: a few objects
    /// at first, twice as many each time after, up to
    /// [`batch`](Self::batch); through jemalloc's cache once that many are
    /// `CACHED_REFILL` or the whole batch.
    pub(crate) fn next_refill(&mut self, bin: u8) -> Refill {
        let bin_index = bin as usize & (MAX_BINS - 1);
        let full = self.batch(bin);
        let objects = usize::from(self.refills[bin_index]).min(full);
        self.refills[bin_index] = u16::try_from(objects * 2).unwrap_or(u16::MAX);
        Refill { objects, cached: objects >= CACHED_REFILL.min(full) }
    }

    /// The most a refill of `bin` fetches.
    #[inline]
    pub(crate) fn batch(&self, bin: u8) -> usize {
        let bin = bin as usize & (MAX_BINS - 1);
        match self.large_sizes[bin] {
            // Half a small bin as it first is: alternating allocations and
            // frees do not bounce between the bin and jemalloc.
            0 => self.base_caps[bin].div_ceil(2),
            // Large blocks one at a time: each is an extent operation of its
            // own.
            _ => 1,
        }
    }

    /// How many objects to give back to jemalloc when `bin` is full: half
    /// of a small bin, as it is now, so
    /// that each object given back moves at most one other down the stack
    /// (a grown bin that spilled a fixed 128 moved 4000: 88 ns per
    /// operation in a batch of 100 000 live objects, 49 with half); one
    /// large block.
    pub(crate) fn spill_count(&mut self, bin: u8) -> usize {
        let bin = bin as usize & (MAX_BINS - 1);
        match self.large_sizes[bin] {
            0 => self.lens[bin].get_mut().div_ceil(2),
            _ => 1,
        }
    }

    /// The whole stack of `bin` as one slice, bottom first (every word an
    /// object).
    fn stack(&mut self, bin: usize) -> &mut [Option<NonNull<u8>>] {
        let len = *self.lens[bin].get_mut();
        // SAFETY: the bin's `room + 1` words are its own, inside `storage`,
        // which `&mut self` borrows for the slice's life; `len <= room`.
        unsafe { std::slice::from_raw_parts_mut(self.stacks[bin].add(1), len) }
    }

    /// Moves up to `out.len()` of the least recently freed objects of `bin`
    /// into `out`; returns how many.
    pub(crate) fn take_oldest(&mut self, bin: u8, out: &mut [NonNull<u8>]) -> usize {
        let bin = bin as usize & (MAX_BINS - 1);
        let len = *self.lens[bin].get_mut();
        let count = out.len().min(len);
        let stack = self.stack(bin);
        for (slot, &object) in out.iter_mut().zip(stack[..count].iter().flatten()) {
            *slot = object;
        }
        stack.copy_within(count..len, 0);
        *self.lens[bin].get_mut() = len - count;
        // SAFETY: `len - count <= room`: one of the bin's words.
        self.tops[bin] = unsafe { *self.stacks[bin].add(len - count) };
        count
    }
}

/// Where the stacks' words live.
enum StackWords {
    /// An anonymous mapping, zero (`None`) until written, so that a thread's
    /// cache takes memory only for the stack words it uses (a grown bin's
    /// room is 32 KiB).
    Mapped(MmapMut),
    /// On the heap: the spare words of a cache that holds nothing.
    Heap(Box<[Option<NonNull<u8>>]>),
}

mod gates;
#[cfg(test)]
mod tests;

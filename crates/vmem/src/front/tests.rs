//! The front cache's unit tests (apart, to keep `front.rs` short).

use super::*;

/// Every object of `cache`, taken out.
fn take_all(cache: &mut FrontCache) -> Vec<(u8, NonNull<u8>)> {
    // SAFETY: a live cache, borrowed whole.
    unsafe { FrontCache::take_all(cache) }
}

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
    assert_eq!(take_all(&mut cache).len(), pushed - 5);
    assert_eq!(cache.pop(bin), None);

    // (With 64 KiB pages no large class has a bin: the last bin is small.)
    let largest_small = (0..classes.count() as u8).take_while(|&bin| !classes.is_large(bin)).last().unwrap();
    let mut small = 0;
    while cache.push(largest_small, fake(small)) {
        small += 1;
    }
    assert_eq!(small, (BIN_BYTES / classes.size_of(largest_small)).max(BIN_MIN_OBJECTS));
    assert_eq!(take_all(&mut cache).len(), small);
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
    assert_eq!(take_all(&mut cache).len(), big - 1 + 1 + 13);
    assert!(cache.push_or_grow(mebibyte, fake(400)));
    // A pool too small for a class's block never caches it.
    let mut tiny = FrontCache::new(classes, 8 << 20);
    assert!(!tiny.push_or_grow(mebibyte, fake(0)));
    assert!(tiny.push_or_grow(kib64, fake(0)));
}

/// Each stack, with its top repeated apart from it, checked
/// against a plain vector per bin over random pushes, pops, spills and
/// flushes, on every bin (those past the classes too: a write past a
/// bin's words would show in its neighbour), in long phases of mostly
/// pushes and mostly pops so that bins fill to their caps and the large
/// ones compete for the budget; the budget's books are checked as it goes.
#[test]
fn stacks_match_a_model() {
    let classes = SizeClasses::get();
    let mut cache = FrontCache::new(classes, 64 << 20);
    let mut model: Vec<Vec<NonNull<u8>>> = vec![Vec::new(); MAX_BINS];
    let (mut seed, mut next, mut full) = (0x9e37_79b9_u64, 1usize, [false; MAX_BINS]);
    for step in 0..400_000 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let bin = (seed >> 33) as usize % MAX_BINS;
        let stack = &mut model[bin];
        let pushes = if step / 50_000 % 2 == 0 { 12 } else { 3 };
        match (seed >> 40) % 16 {
            op if op < pushes => {
                let ptr = NonNull::new(next as *mut u8).unwrap();
                next += 1;
                match cache.push_or_grow(bin as u8, ptr) {
                    true => stack.push(ptr),
                    false => full[bin] = true,
                }
            }
            op if op < 14 => assert_eq!(cache.pop(bin as u8), stack.pop()),
            14 => {
                let mut out = [NonNull::dangling(); 7];
                let taken = cache.take_oldest(bin as u8, &mut out[..1 + (seed >> 50) as usize % 7]);
                assert_eq!(&out[..taken], &stack[..taken]);
                stack.drain(..taken);
            }
            _ if seed.is_multiple_of(4096) => {
                let mut all = take_all(&mut cache);
                all.sort_by_key(|&(bin, ptr)| (bin, ptr));
                let mut expected: Vec<_> = (0..=u8::MAX)
                    .zip(&mut model)
                    .flat_map(|(bin, stack)| stack.drain(..).map(move |ptr| (bin, ptr)))
                    .collect();
                expected.sort_by_key(|&(bin, ptr)| (bin, ptr));
                assert_eq!(all, expected);
            }
            _ => {}
        }
        let books =
            (0..MAX_BINS).map(|bin| cache.caps[bin].load(Ordering::Relaxed) * cache.large_sizes[bin]).sum::<usize>();
        assert!(books == cache.large_reserved && books <= cache.large_budget, "step {step}");
        assert!((0..MAX_BINS)
            .all(|bin| cache.lens[bin].load(Ordering::Relaxed) <= cache.caps[bin].load(Ordering::Relaxed)
                && cache.caps[bin].load(Ordering::Relaxed) <= cache.rooms[bin]));
    }
    // Every bin was full at times (bins past the classes always are).
    assert_eq!(full, [true; MAX_BINS]);
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

#[test]
fn refills_start_small_double_and_start_small_again_once_emptied() {
    let classes = SizeClasses::get();
    let mut cache = FrontCache::new(classes, 64 << 20);
    let bin = classes.bin_of(64);
    let full = cache.batch(bin);
    let first = usize::from(FIRST_REFILL);
    let refills: Vec<_> = (0..8).map(|_| cache.next_refill(bin).objects).collect();
    assert_eq!(&refills[..3], [first, 2 * first, 4 * first]);
    assert!(refills.windows(2).all(|pair| pair[1] == (pair[0] * 2).min(full)), "{refills:?}");
    assert_eq!(refills.last(), Some(&full));
    // Another bin is untouched; an emptied cache starts over.
    assert_eq!(cache.next_refill(classes.bin_of(512)), Refill { objects: first, cached: false });
    take_all(&mut cache);
    assert_eq!(cache.next_refill(bin).objects, first);
    // A large bin's refill is one block, whatever came before.
    let large = (0..classes.count() as u8).find(|&bin| classes.is_large(bin));
    if let Some(large) = large {
        // (Cached: one block is the whole batch.)
        let refill = Refill { objects: 1, cached: true };
        assert_eq!((0..3).map(|_| cache.next_refill(large)).collect::<Vec<_>>(), [refill; 3]);
    }
}

thread_local! {
    /// What [`between_reads`] runs next, once.
    static BETWEEN_READS: std::cell::RefCell<Option<Box<dyn FnOnce()>>> = const { std::cell::RefCell::new(None) };
}

/// Called by the owner's fast path between its read of a bin's gate and
/// its read of the bin's length (tests only): runs what a test set there,
/// as another thread could run it while the owner stalls between the two.
pub(super) fn between_reads() {
    if let Some(run) = BETWEEN_READS.with(|next| next.borrow_mut().take()) {
        run();
    }
}

/// A reclaiming thread empties the cache between the owner's two reads of
/// a fast path that started after the gates closed (so the reclaim did not
/// wait for it): the fast path must not act on objects the reclaim took.
/// When the reclaim reopened each gate as it emptied the bin, the fast path
/// read the old length, then the open gate, and handed out (pop) or stacked
/// on (push) objects given back to jemalloc; now the gates stay closed
/// until the owner's slow path opens them.
#[test]
fn a_fast_path_that_meets_a_reclaim_between_its_reads_takes_nothing_back() {
    let classes = SizeClasses::get();
    let bin = classes.bin_of(64);
    let fake = |n: usize| NonNull::new((n * 64 + 64) as *mut u8).unwrap();
    let mut cache = FrontCache::new(classes, 64 << 20);
    let this: *mut FrontCache = &mut cache;
    for push in [false, true] {
        // SAFETY: `this` is the live cache, used only through it here.
        unsafe {
            // The owner's slow path, after the first round's reclaim.
            (*this).open_gates_after_reclaim();
            for n in 0..5 {
                assert!(FrontCache::push_entered(this, usize::from(bin), fake(n)));
            }
            let _ = FrontCache::close_gates(this);
        }
        let taken = std::rc::Rc::new(std::cell::Cell::new(0));
        let reclaimed = taken.clone();
        // SAFETY: as above; the owner's fast path reads only the gates and
        // the lengths meanwhile.
        let reclaim = move || reclaimed.set(unsafe { FrontCache::take_all(this) }.len());
        BETWEEN_READS.with(|next| *next.borrow_mut() = Some(Box::new(reclaim)));
        // SAFETY: as above; `bin` is a class's.
        let rest = unsafe {
            match push {
                false => FrontCache::pop_entered(this, usize::from(bin)).into_iter().collect(),
                true => {
                    FrontCache::push_entered(this, usize::from(bin), fake(99));
                    FrontCache::take_all(this).into_iter().map(|(_, object)| object).collect::<Vec<_>>()
                }
            }
        };
        assert_eq!(taken.get(), 5, "the reclaim ran");
        assert!(rest.iter().all(|&object| object == fake(99)), "push {push}: the reclaim's objects again: {rest:?}");
    }
}

/// After a reclaim the gates stay closed, through a second reclaim that
/// gives up (its barrier failed) and reopens what it closed, until the
/// owner opens them on its slow path.
#[test]
fn gates_stay_closed_after_a_reclaim_until_the_owner_opens_them() {
    let classes = SizeClasses::get();
    let bin = usize::from(classes.bin_of(64));
    let fake = |n: usize| NonNull::new((n * 64 + 64) as *mut u8).unwrap();
    let mut cache = FrontCache::new(classes, 64 << 20);
    let this: *mut FrontCache = &mut cache;
    // SAFETY: `this` is the live cache, used only through it here; `bin`
    // is a class's.
    unsafe {
        for n in 0..3 {
            assert!(FrontCache::push_entered(this, bin, fake(n)));
        }
        let _ = FrontCache::close_gates(this);
        assert_eq!(FrontCache::take_all(this).len(), 3);
        assert!(!FrontCache::push_entered(this, bin, fake(7)));
        assert_eq!(FrontCache::pop_entered(this, bin), None);
        let saved = FrontCache::close_gates(this);
        FrontCache::reopen_gates(this, saved);
        assert!(!FrontCache::push_entered(this, bin, fake(7)), "a gave-up reclaim opened closed gates");
        (*this).open_gates_after_reclaim();
        assert!(FrontCache::push_entered(this, bin, fake(7)));
        assert_eq!(FrontCache::pop_entered(this, bin), Some(fake(7)));
    }
}

/// The model of `stacks_match_a_model` with reclaims among the owner's
/// calls: reclaims that empty the cache (some back to back, before the
/// owner runs again), reclaims that give up and restore the gates, the
/// owner's own flush, and the owner's fast path meanwhile (a push or pop
/// through the gates, which must miss while they are closed), its slow
/// path opening them first. Lengths never pass caps nor caps rooms; open
/// gates keep the budget's books (the large caps add up to what they
/// reserved, and a small bin's cap is its room); closed ones hold nothing
/// and reserve nothing.
#[test]
fn reclaims_keep_the_books() {
    let classes = SizeClasses::get();
    let mut cache = FrontCache::new(classes, 64 << 20);
    let this: *mut FrontCache = &mut cache;
    let mut model: Vec<Vec<NonNull<u8>>> = vec![Vec::new(); MAX_BINS];
    let drain = |model: &mut Vec<Vec<NonNull<u8>>>| {
        let mut all: Vec<_> =
            (0..=u8::MAX).zip(model).flat_map(|(bin, stack)| stack.drain(..).map(move |ptr| (bin, ptr))).collect();
        all.sort_by_key(|&(bin, ptr)| (bin, ptr));
        all
    };
    let sorted = |mut all: Vec<(u8, NonNull<u8>)>| {
        all.sort_by_key(|&(bin, ptr)| (bin, ptr));
        all
    };
    let (mut seed, mut next, mut closed_misses) = (0x2545_f491_u64, 1usize, 0);
    for step in 0..200_000 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let bin = (seed >> 33) as usize % MAX_BINS;
        let ptr = NonNull::new(next as *mut u8).unwrap();
        // SAFETY: `this` is the live cache, used only through it here; every
        // bin is below MAX_BINS.
        unsafe {
            let closed = FrontCache::gates_closed(this);
            match (seed >> 40) % 64 {
                // The owner's slow path.
                op if op < 24 => {
                    (*this).open_gates_after_reclaim();
                    next += 1;
                    if (*this).push_or_grow(bin as u8, ptr) {
                        model[bin].push(ptr);
                    }
                }
                // The owner's fast path.
                op if op < 36 => {
                    next += 1;
                    let pushed = FrontCache::push_entered(this, bin, ptr);
                    assert!(!(closed && pushed), "step {step}: a push through a closed gate");
                    closed_misses += usize::from(closed);
                    if pushed {
                        model[bin].push(ptr);
                    }
                }
                op if op < 56 => assert_eq!(FrontCache::pop_entered(this, bin), model[bin].pop(), "step {step}"),
                // A reclaim that empties the cache.
                op if op < 59 => {
                    let _ = FrontCache::close_gates(this);
                    assert_eq!(sorted(FrontCache::take_all(this)), drain(&mut model), "step {step}");
                }
                // A reclaim that gives up, the owner's fast path missing
                // meanwhile.
                op if op < 62 => {
                    let saved = FrontCache::close_gates(this);
                    assert!(!FrontCache::push_entered(this, bin, ptr));
                    assert_eq!(FrontCache::pop_entered(this, bin), None);
                    FrontCache::reopen_gates(this, saved);
                }
                // The owner's flush (`flush_current_thread`).
                62 => {
                    assert_eq!(sorted(FrontCache::take_all(this)), drain(&mut model), "step {step}");
                    (*this).open_gates_after_reclaim();
                }
                // The owner's spill, on its slow path.
                _ => {
                    (*this).open_gates_after_reclaim();
                    let mut out = [NonNull::dangling(); 3];
                    let taken = (*this).take_oldest(bin as u8, &mut out);
                    assert_eq!(&out[..taken], &model[bin][..taken]);
                    model[bin].drain(..taken);
                }
            }
            let cache = &*this;
            let (lens, caps) = (&cache.lens, &cache.caps);
            assert!((0..MAX_BINS).all(|bin| lens[bin].load(Ordering::Relaxed) <= caps[bin].load(Ordering::Relaxed)
                && caps[bin].load(Ordering::Relaxed) <= cache.rooms[bin]));
            let books =
                (0..MAX_BINS).map(|bin| caps[bin].load(Ordering::Relaxed) * cache.large_sizes[bin]).sum::<usize>();
            match FrontCache::gates_closed(cache) {
                // Open gates are open: a small bin's cap is its room, or its
                // fast path would miss for good.
                false => assert!(
                    books == cache.large_reserved
                        && books <= cache.large_budget
                        && (0..MAX_BINS)
                            .all(|bin| cache.large_sizes[bin] != 0
                                || caps[bin].load(Ordering::Relaxed) == cache.rooms[bin]),
                    "step {step}"
                ),
                true => {
                    assert!(books == 0 && cache.large_reserved == 0 && model.iter().all(Vec::is_empty), "step {step}")
                }
            }
        }
    }
    assert!(closed_misses > 100, "the fast path met closed gates {closed_misses} times");
}

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
    let mut cache = FrontCache::new(classes, 64 << 20).unwrap();
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
fn small_bins_grow_while_they_keep_filling() {
    let classes = SizeClasses::get();
    let mut cache = FrontCache::new(classes, 64 << 20).unwrap();
    let bin = classes.bin_of(64);
    let index = usize::from(bin);
    let fake = |n: usize| NonNull::new((n * 64 + 64) as *mut u8).unwrap();
    let mut pushed = 0;
    while cache.push(bin, fake(pushed)) {
        pushed += 1;
    }
    assert_eq!(pushed, BIN_MAX_OBJECTS);
    // A free's slow path doubles the bin's room until it reaches its most.
    while cache.push_or_grow(bin, fake(pushed)) {
        pushed += 1;
    }
    assert_eq!(pushed, GROWN_BIN_MAX_OBJECTS);
    assert_eq!(cache.small_grown, (GROWN_BIN_MAX_OBJECTS - BIN_MAX_OBJECTS) * 64);
    assert_eq!(cache.pop(bin), Some(fake(pushed - 1)));
    // Spills and refills stay as large as they were.
    assert_eq!(cache.batch(bin), BIN_MAX_OBJECTS / 2);
    let mut oldest = [NonNull::dangling(); BIN_MAX_OBJECTS / 2];
    assert_eq!(cache.take_oldest(bin, &mut oldest), BIN_MAX_OBJECTS / 2);
    assert_eq!(oldest[0], fake(0));
    assert_eq!(cache.pop(bin), Some(fake(pushed - 2)));
    // An emptied cache starts small again.
    assert_eq!(take_all(&mut cache).len(), pushed - 2 - BIN_MAX_OBJECTS / 2);
    assert_eq!((cache.caps[index].load(Ordering::Relaxed), cache.small_grown), (BIN_MAX_OBJECTS, 0));
}

#[test]
fn small_bins_take_back_what_others_grew_and_do_not_use() {
    let classes = SizeClasses::get();
    // A 4 MiB pool: the small bins may grow by 256 KiB together.
    let mut cache = FrontCache::new(classes, 4 << 20).unwrap();
    assert_eq!(cache.small_budget, 256 << 10);
    let (big, little) = (classes.bin_of(512), classes.bin_of(64));
    let (big_index, little_index) = (usize::from(big), usize::from(little));
    let fake = |n: usize| NonNull::new((n * 512 + 512) as *mut u8).unwrap();
    let mut big_objects = 0;
    while cache.push_or_grow(big, fake(big_objects)) {
        big_objects += 1;
    }
    // 256 objects, doubled to 512, then the 128 KiB left: 256 more.
    assert_eq!(big_objects, 768);
    assert_eq!(cache.small_grown, 256 << 10);
    let mut little_objects = 0;
    while cache.push(little, fake(10_000 + little_objects)) {
        little_objects += 1;
    }
    // The big bin uses all it grew by: nothing for the little one.
    assert!(!cache.push_or_grow(little, fake(20_000)));
    for _ in 0..668 {
        assert!(cache.pop(big).is_some());
    }
    // Now the big bin keeps its base cap (it holds fewer objects), and
    // the little one doubles.
    assert!(cache.push_or_grow(little, fake(20_000)));
    assert_eq!(cache.caps[big_index].load(Ordering::Relaxed), BIN_MAX_OBJECTS);
    assert_eq!(cache.caps[little_index].load(Ordering::Relaxed), 2 * little_objects);
    assert_eq!(cache.small_grown, little_objects * 64);
}

#[test]
fn a_cache_holding_nothing_misses_every_push_and_pop() {
    let mut cache = FrontCache::holding_nothing();
    let fake = NonNull::new(4096 as *mut u8).unwrap();
    for bin in 0..=u8::MAX {
        cache.open_gates_after_reclaim();
        assert!(!cache.push_or_grow(bin, fake));
        assert_eq!(cache.pop(bin), None);
        assert_eq!(cache.spill_count(bin), 0);
        assert_eq!(cache.take_oldest(bin, &mut [NonNull::dangling(); 4]), 0);
        assert_eq!(cache.next_refill(bin).objects, 0);
    }
    assert!(take_all(&mut cache).is_empty());
}

#[test]
fn large_bins_share_a_byte_budget() {
    let classes = SizeClasses::get();
    let pool_len = 64 << 20;
    let mut cache = FrontCache::new(classes, pool_len).unwrap();
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
    let mut tiny = FrontCache::new(classes, 8 << 20).unwrap();
    assert!(!tiny.push_or_grow(mebibyte, fake(0)));
    assert!(tiny.push_or_grow(kib64, fake(0)));
}

/// Each stack, with its top repeated apart from it, checked
/// against a plain vector per bin over random pushes, pops, spills and
/// flushes, on every bin (those past the classes too: a write past a
/// bin's words would show in its neighbour), in long phases of mostly
/// pushes and mostly pops so that bins fill to their caps, and the large
/// ones compete for their budget and the small ones for theirs (a 4 MiB
/// pool's: 256 KiB each); the budgets' books are checked as it goes.
#[test]
fn stacks_match_a_model() {
    let classes = SizeClasses::get();
    let mut cache = FrontCache::new(classes, 4 << 20).unwrap();
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
        let (large, small) = books(&cache);
        assert!(large == cache.large_reserved && large <= cache.large_budget, "step {step}");
        assert!(small == cache.small_grown && small <= cache.small_budget, "step {step}");
        assert!((0..MAX_BINS)
            .all(|bin| cache.lens[bin].load(Ordering::Relaxed) <= cache.caps[bin].load(Ordering::Relaxed)
                && cache.base_caps[bin] <= cache.caps[bin].load(Ordering::Relaxed)
                && cache.caps[bin].load(Ordering::Relaxed) <= cache.rooms[bin]));
    }
    // Every bin was full at times (bins past the classes always are).
    assert_eq!(full, [true; MAX_BINS]);
}

/// The budgets' books as the caps say (caps, not the fields that count
/// them): the bytes the large bins reserved, and the small bins grew by.
fn books(cache: &FrontCache) -> (usize, usize) {
    let cap = |bin: usize| cache.caps[bin].load(Ordering::Relaxed);
    let large = (0..MAX_BINS).map(|bin| cap(bin) * cache.large_sizes[bin]).sum();
    let small = (0..MAX_BINS).map(|bin| cap(bin).saturating_sub(cache.base_caps[bin]) * cache.small_sizes[bin]).sum();
    (large, small)
}

#[test]
fn bins_past_the_classes_never_cache() {
    let classes = SizeClasses::get();
    let mut cache = FrontCache::new(classes, 64 << 20).unwrap();
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
    let mut cache = FrontCache::new(classes, 64 << 20).unwrap();
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
    let mut cache = FrontCache::new(classes, 64 << 20).unwrap();
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
    let mut cache = FrontCache::new(classes, 64 << 20).unwrap();
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
/// gates keep the budgets' books (the large caps add up to what they
/// reserved, the small ones to their base caps and what they grew by);
/// closed ones hold nothing and reserve nothing.
#[test]
fn reclaims_keep_the_books() {
    let classes = SizeClasses::get();
    let mut cache = FrontCache::new(classes, 64 << 20).unwrap();
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
            let (large, small) = books(cache);
            match FrontCache::gates_closed(cache) {
                // Open gates are open: a small bin's cap is at least its
                // base cap, or its fast path would miss for good.
                false => assert!(
                    large == cache.large_reserved
                        && large <= cache.large_budget
                        && small == cache.small_grown
                        && small <= cache.small_budget
                        && (0..MAX_BINS).all(|bin| caps[bin].load(Ordering::Relaxed) >= cache.base_caps[bin]),
                    "step {step}"
                ),
                true => assert!(
                    large == 0
                        && cache.large_reserved == 0
                        && cache.small_grown == 0
                        && model.iter().all(Vec::is_empty),
                    "step {step}"
                ),
            }
        }
    }
    assert!(closed_misses > 100, "the fast path met closed gates {closed_misses} times");
}

//! A block's usable size follows from its request alone, whatever path
//! served it (a thread's front cache, jemalloc, a reallocation, a zeroed or
//! aligned allocation): `usable_size_for(n)` for `malloc`, `calloc` and
//! `realloc`, at least that for `aligned_alloc`. Callers that keep freed
//! blocks by size class (the Node binding does) rely on it: a block taken
//! for a request of its class must hold that request.

mod common;

use vmem::{usable_size_for, Pool};

const KIB: usize = 1 << 10;

/// Requests around every class boundary up to 1.5 MiB, in steps that hit
/// small classes, large classes and whole pages.
fn requests() -> impl Iterator<Item = usize> {
    (1..=4 * KIB).step_by(7).chain((4 * KIB..=1536 * KIB).step_by(4093)).chain([
        14 * KIB + 1,
        16 * KIB,
        32 * KIB + 1,
        40 * KIB,
        (1 << 20) - 1,
        1 << 20,
        (1 << 20) + 1,
    ])
}

#[test]
fn every_path_gives_a_request_its_class() {
    let pool = Pool::create(common::SHM, common::POOL_64M).unwrap();
    // SAFETY: every pointer below is a live block of `pool`, freed once.
    let usable = |ptr: *mut u8| unsafe { pool.usable_size(ptr) };
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for size in requests() {
        let class = usable_size_for(size);
        assert!(class >= size, "size {size}: class {class}");
        let malloced = pool.malloc(size).unwrap().as_ptr();
        assert_eq!(usable(malloced), class, "malloc({size})");
        let zeroed = pool.calloc(1, size).unwrap().as_ptr();
        assert_eq!(usable(zeroed), class, "calloc({size})");
        // SAFETY: `zeroed` has at least `size` bytes.
        assert!(unsafe { std::slice::from_raw_parts(zeroed, size) }.iter().all(|&b| b == 0));
        let aligned = pool.aligned_alloc(4096, size).unwrap().as_ptr();
        assert!(usable(aligned) >= class, "aligned_alloc(4096, {size})");
        // Grow and shrink from another size, in place or moved.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let from = 1 + (seed as usize) % (2 * size);
        let before = pool.malloc(from).unwrap().as_ptr();
        // SAFETY: a live block of this pool.
        let resized = unsafe { pool.realloc(before, size) }.unwrap().unwrap().as_ptr();
        assert_eq!(usable(resized), class, "realloc({from} -> {size})");
        for ptr in [malloced, zeroed, aligned, resized] {
            // SAFETY: live blocks of this pool, each freed once.
            unsafe { pool.free(ptr) };
        }
    }
    assert!(pool.check().unwrap());
    assert_eq!(pool.stats().allocated, 0);
}

/// Writes `len` bytes of `pattern` at `ptr` and checks them back.
///
/// # Safety
///
/// `ptr` has at least `len` writable bytes.
unsafe fn fill_and_check(ptr: *mut u8, len: usize, pattern: u8) {
    // SAFETY: the caller's contract.
    let bytes = unsafe { std::slice::from_raw_parts_mut(ptr, len) };
    bytes.fill(pattern);
    assert!(bytes.iter().all(|&b| b == pattern));
}

/// Aligned requests at class boundaries, small to several MiB, each aligned
/// as asked and writable over its whole usable size; then zeroed requests
/// served from blocks a thread's cache kept dirty come back zeroed.
#[test]
fn aligned_and_zeroed_requests_at_class_boundaries() {
    let pool = Pool::create(common::SHM, common::POOL_64M).unwrap();
    let sizes = [1, 8, 9, 4095, 4096, 4097, 16 * KIB, 16 * KIB + 1, 65535, 1 << 20, (1 << 20) + 1, 3 << 20];
    for size in sizes {
        for shift in [3, 4, 6, 12, 14, 16, 20, 21] {
            let alignment = 1usize << shift;
            let ptr = pool.aligned_alloc(alignment, size).unwrap().as_ptr();
            assert_eq!(ptr as usize % alignment, 0, "aligned_alloc({alignment}, {size})");
            // SAFETY: a live block of this pool.
            let usable = unsafe { pool.usable_size(ptr) };
            assert!(usable >= size, "aligned_alloc({alignment}, {size}): usable {usable}");
            // SAFETY: `usable` bytes are the block's; freed once.
            unsafe {
                fill_and_check(ptr, usable, shift as u8);
                pool.free(ptr);
            }
        }
    }
    for size in [64, 4 * KIB, 64 * KIB, 1 << 20] {
        // Dirty a block, free it into this thread's front cache, and ask for
        // zeroed memory of the same class: the cached block must be cleared.
        let dirty = pool.malloc(size).unwrap().as_ptr();
        // SAFETY: `size` bytes are the block's; freed once.
        unsafe {
            fill_and_check(dirty, size, 0xa5);
            pool.free(dirty);
        }
        let zeroed = pool.calloc(size, 1).unwrap().as_ptr();
        // SAFETY: `size` bytes are the block's.
        assert!(unsafe { std::slice::from_raw_parts(zeroed, size) }.iter().all(|&b| b == 0), "calloc({size})");
        // SAFETY: a live block, freed once.
        unsafe { pool.free(zeroed) };
    }
    assert!(pool.check().unwrap());
    assert_eq!(pool.stats().allocated, 0);
}

/// Reallocation across the small/large boundary and out of the cached
/// classes keeps the contents, both ways.
#[test]
fn realloc_keeps_contents_across_classes() {
    let pool = Pool::create(common::SHM, common::POOL_64M).unwrap();
    let steps = [24, 16 * KIB + 1, 3 << 20, 1 << 20, 100, 8];
    let mut ptr = pool.malloc(steps[0]).unwrap().as_ptr();
    // SAFETY: a block of `steps[0]` bytes.
    unsafe { fill_and_check(ptr, steps[0], 7) };
    let mut kept = steps[0];
    for &size in &steps[1..] {
        // SAFETY: a live block of this pool, replaced by the result.
        ptr = unsafe { pool.realloc(ptr, size) }.unwrap().unwrap().as_ptr();
        kept = kept.min(size);
        // SAFETY: the block has at least `kept` bytes.
        let bytes = unsafe { std::slice::from_raw_parts(ptr, kept) };
        assert!(bytes.iter().all(|&b| b == 7), "realloc to {size}");
    }
    // SAFETY: a live block, freed once.
    unsafe { pool.free(ptr) };
    assert_eq!(pool.stats().allocated, 0);
}

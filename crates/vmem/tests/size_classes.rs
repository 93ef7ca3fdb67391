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

//! A thread that churns a working set of large blocks (16–64 KiB, the sizes
//! where jemalloc goes through its extent path, each call ~30× a small pair)
//! must be served from its own front cache once warmed up, not from
//! jemalloc. Counted through the pool's `nmalloc` (allocations jemalloc
//! served), which front-cache hits never reach: a count, not a time.
//!
//! Only where jemalloc has 4 KiB pages (x86-64): with larger ones (an arm64
//! build for 64 KiB-page kernels), 16–64 KiB requests fall between its page
//! steps and stay with jemalloc, by design (`sizeclass.rs`).
#![cfg(target_arch = "x86_64")]

mod common;

use std::ptr::NonNull;
use std::sync::Barrier;
use std::thread;

use common::*;
use vmem::Pool;

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

/// Allocates `count` blocks of 16–64 KiB (sizes from an xorshift seeded
/// with `seed`), writes each, and frees them in another order; `rounds`
/// times.
fn churn(pool: &Pool, seed: &mut u64, count: usize, rounds: usize) {
    let mut next = || {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed as usize
    };
    let mut blocks: Vec<NonNull<u8>> = Vec::with_capacity(count);
    for _ in 0..rounds {
        for _ in 0..count {
            let size = 16 * KIB + next() % (48 * KIB + 1);
            let block = pool.malloc(size).unwrap();
            // SAFETY: a fresh block of `size` bytes.
            unsafe { block.as_ptr().add(size - 1).write(1) };
            blocks.push(block);
        }
        for i in (1..blocks.len()).rev() {
            blocks.swap(i, next() % (i + 1));
        }
        for block in blocks.drain(..) {
            // SAFETY: a live block of this pool, freed once.
            unsafe { pool.free(block.as_ptr()) };
        }
    }
}

/// 150 live blocks of 16–64 KiB average about 6 MiB; churned, each class's
/// bin settles at the most that class ever held at once, about twice that.
/// With the budget that held (8 MiB) about 1.4 % of the operations went to
/// jemalloc's extent path for good. The churn runs on a thread of its own:
/// `stats()` empties the calling thread's caches.
#[test]
fn a_churned_working_set_of_large_blocks_stays_in_the_front_cache() {
    let pool = Pool::create(SHM, 512 * MIB).unwrap();
    let (count, rounds) = (150, 400);
    let phases = Barrier::new(2);
    let mut served_by_jemalloc = 0;
    thread::scope(|scope| {
        scope.spawn(|| {
            let mut seed = 88172645463325252;
            churn(&pool, &mut seed, count, rounds);
            phases.wait();
            phases.wait();
            churn(&pool, &mut seed, count, rounds);
            phases.wait();
        });
        phases.wait();
        let before = pool.stats().nmalloc;
        phases.wait();
        phases.wait();
        served_by_jemalloc = pool.stats().nmalloc - before;
    });
    let operations = (count * rounds) as u64;
    assert!(
        served_by_jemalloc * 1000 <= operations,
        "jemalloc served {served_by_jemalloc} of {operations} allocations after warm-up"
    );
    assert!(pool.check().unwrap());
}

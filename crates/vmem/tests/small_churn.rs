//! Threads that churn thousands of live small objects: their front-cache
//! bins grow to hold them (so jemalloc serves nothing once warmed up), and
//! what grown bins hold still comes back whole when the pool fills, from
//! threads that stay alive and from threads that exit.

mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use common::churn::{churn, served_by_jemalloc_after_warm_up, Xorshift};
use common::*;
use vmem::Pool;

const MIB: usize = 1 << 20;

/// A size of 8–512 B, as the small batch of `npm run bench`.
fn small(rng: &mut Xorshift) -> usize {
    8 + rng.next() % 505
}

/// A size of 8 B–14 KiB, most of them small: every small class.
fn mixed(rng: &mut Xorshift) -> usize {
    match rng.next() % 10 {
        0..=5 => 8 + rng.next() % 249,
        6..=8 => 257 + rng.next() % 1792,
        _ => 2049 + rng.next() % (12 * 1024 + 288),
    }
}

/// How many `size` blocks fit in `pool`, allocated from the calling thread
/// (all freed again).
fn fill(pool: &Pool, size: usize) -> usize {
    let mut blocks = Vec::new();
    while let Ok(block) = pool.malloc(size) {
        blocks.push(block);
    }
    let count = blocks.len();
    for block in blocks {
        // SAFETY: a live block of this pool, freed once.
        unsafe { pool.free(block.as_ptr()) };
    }
    count
}

/// 10 000 live objects of 8–512 B: about 1300 in the widest class, five
/// times what a bin first holds. With bins that never grew, every round sent
/// most of them through jemalloc (a spill of half a bin each time the bin
/// filled, a refill each time it ran dry). Counted through the pool's
/// `nmalloc` (what jemalloc's arena served): a count, not a time.
#[test]
fn a_churned_working_set_of_small_objects_stays_in_the_front_cache() {
    let pool = Pool::create(SHM, 512 * MIB).unwrap();
    let (count, rounds) = (10_000, 20);
    let mut rng = Xorshift(88172645463325252);
    let served_by_jemalloc = served_by_jemalloc_after_warm_up(&pool, || churn(&pool, &mut rng, small, count, rounds));
    let operations = (count * rounds) as u64;
    assert!(
        served_by_jemalloc * 1000 <= operations,
        "jemalloc served {served_by_jemalloc} of {operations} allocations after warm-up"
    );
    assert!(pool.check().unwrap());
}

/// Four threads churn 5000 live objects of every small class, then stay
/// alive, their bins grown and full, while this thread fills the pool: the
/// fill takes back what they hold and finds the pool as a fresh one.
#[test]
fn grown_bins_give_the_whole_pool_back_to_a_full_pool() {
    const THREADS: usize = 4;
    for pool_len in [vmem::MIN_POOL, 64 * MIB] {
        for block in [64, MIB] {
            let fresh = fill(&Pool::create(SHM, pool_len).unwrap(), block);
            let pool = Arc::new(Pool::create(SHM, pool_len).unwrap());
            let churned = Arc::new(Barrier::new(THREADS + 1));
            let filled = Arc::new(Barrier::new(THREADS + 1));
            let workers: Vec<_> = (0..THREADS)
                .map(|worker| {
                    let (pool, churned, filled) = (pool.clone(), churned.clone(), filled.clone());
                    thread::spawn(move || {
                        let mut rng = Xorshift(0x9e37_79b9 + worker as u64);
                        churn(&pool, &mut rng, mixed, 5000 / (64 * MIB / pool_len), 10);
                        churned.wait();
                        filled.wait();
                    })
                })
                .collect();
            churned.wait();
            let after = fill(&pool, block);
            filled.wait();
            for worker in workers {
                worker.join().unwrap();
            }
            assert!(
                after * 1000 >= fresh * 995,
                "{block} B blocks in a {pool_len} B pool: {after} after the churn, {fresh} fresh"
            );
            assert!(pool.check().unwrap());
        }
    }
}

/// Waves of threads that grow their bins and exit with them full: each
/// gives everything back as it exits, and the pool fills as a fresh one.
#[test]
fn threads_that_exit_with_grown_bins_leave_the_pool_as_new() {
    let pool_len = vmem::MIN_POOL;
    let fresh = fill(&Pool::create(SHM, pool_len).unwrap(), 256);
    let pool = Arc::new(Pool::create(SHM, pool_len).unwrap());
    for wave in 0..3 {
        let workers: Vec<_> = (0..8)
            .map(|worker| {
                let pool = pool.clone();
                thread::spawn(move || {
                    let mut rng = Xorshift(1 + wave * 100 + worker);
                    let blocks: Vec<_> = (0..4000).filter_map(|_| pool.malloc(mixed(&mut rng)).ok()).collect();
                    for block in blocks {
                        // SAFETY: a live block of this pool, freed once.
                        unsafe { pool.free(block.as_ptr()) };
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
    }
    assert_eq!(fill(&pool, 256), fresh);
    assert!(pool.check().unwrap());
}

//! Attacks on the front caches across pools: the same threads (more than a
//! pool has thread slots, so some find their caches through the
//! thread-local) use several pools in turn, try to free blocks into the wrong
//! pool, and outlive a pool whose caches they hold full, then use a new one.
//! Each pool's blocks must stay its own, and every pool end as good as new.

mod common;

use std::sync::{Arc, Barrier, Mutex};
use std::thread;

use common::*;
use vmem::Pool;

const POOL: usize = 16 << 20;
const THREADS: usize = 20;
const SIZES: [usize; 8] = [8, 48, 640, 4096, 14 << 10, 16 << 10, 96 << 10, 1 << 20];

/// One thread's turn at `pools`: blocks of every kind of bin from pools
/// picked at random, each checked to be its pool's and tagged, some first
/// offered to another pool's `free` (which must refuse it), all freed.
fn churn(pools: &[Arc<Pool>], mut seed: u64, steps: usize) {
    let mut live: Vec<(usize, *mut u8, u64)> = Vec::new();
    for step in 0..steps as u64 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let which = seed as usize % pools.len();
        if live.len() > 64 || (seed >> 20).is_multiple_of(3) && !live.is_empty() {
            let (which, ptr, tag) = live.swap_remove((seed >> 24) as usize % live.len());
            // SAFETY: a live block of that pool; its first word is the tag.
            assert_eq!(unsafe { ptr.cast::<u64>().read() }, tag, "block of pool {which} overwritten");
            let other = (which + 1) % pools.len();
            if other != which && step.is_multiple_of(7) {
                // SAFETY: not a block of `other`: refused, not freed.
                unsafe { pools[other].free(ptr) };
            }
            // SAFETY: a live block of this pool, freed once.
            unsafe { pools[which].free(ptr) };
            continue;
        }
        let size = SIZES[(seed >> 32) as usize % SIZES.len()];
        let Ok(ptr) = pools[which].malloc(size) else { continue };
        let ptr = ptr.as_ptr();
        for (index, pool) in pools.iter().enumerate() {
            assert_eq!(pool.contains(ptr), index == which, "pool {which} gave a block of pool {index}");
        }
        let tag = seed ^ step;
        // SAFETY: a fresh block of at least 8 bytes.
        unsafe { ptr.cast::<u64>().write(tag) };
        live.push((which, ptr, tag));
    }
    for (which, ptr, _) in live {
        // SAFETY: a live block of this pool, freed once.
        unsafe { pools[which].free(ptr) };
    }
}

/// A pool as good as new: consistent, nothing allocated, and a 1 MiB fill
/// that gets at least the `fresh` blocks a new pool gets. (Once, with
/// jemalloc's 64 KiB pages on arm64, a new 16 MiB pool got 15 and one after
/// this churn 16: pools were mapped at 4 KiB boundaries, and the capacity
/// depended on the address. They are mapped at jemalloc's pages now.)
fn assert_as_new(pool: &Pool, fresh: usize) {
    assert_eq!(pool.check(), Ok(true));
    assert_eq!(pool.stats().allocated, 0, "{:?}", pool.stats());
    let blocks: Vec<_> = std::iter::from_fn(|| pool.malloc(1 << 20).ok()).collect();
    assert!(blocks.len() >= fresh, "1 MiB refill: {} blocks, a new pool {fresh}", blocks.len());
    // SAFETY: live blocks, each freed once.
    blocks.into_iter().for_each(|block| unsafe { pool.free(block.as_ptr()) });
}

#[test]
fn threads_share_pools_refuse_wrong_frees_and_outlive_a_pool_they_cache_for() {
    let fresh = {
        let pool = Pool::create(SHM, POOL).unwrap();
        std::iter::from_fn(|| pool.malloc(1 << 20).ok()).count()
    };
    let pools: Mutex<Vec<Arc<Pool>>> = Mutex::new((0..3).map(|_| Arc::new(Pool::create(SHM, POOL).unwrap())).collect());
    let (done, replaced) = (Barrier::new(THREADS + 1), Barrier::new(THREADS + 1));
    thread::scope(|s| {
        let (pools, done, replaced) = (&pools, &done, &replaced);
        let threads: Vec<_> = (0..THREADS as u64)
            .map(|i| {
                s.spawn(move || {
                    let mine = pools.lock().unwrap().clone();
                    churn(&mine, 0x9e37_79b9 + i, 4000);
                    // The caches of every pool are full; the first pool goes
                    // away under them.
                    drop(mine);
                    done.wait();
                    replaced.wait();
                    let mine = pools.lock().unwrap().clone();
                    churn(&mine, 0x7f4a_7c15 + i, 2000);
                })
            })
            .collect();
        done.wait();
        let gone = pools.lock().unwrap().remove(0);
        assert_eq!(Arc::strong_count(&gone), 1);
        drop(gone);
        pools.lock().unwrap().push(Arc::new(Pool::create(SHM, POOL).unwrap()));
        replaced.wait();
        for thread in threads {
            thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        }
    });
    for pool in pools.into_inner().unwrap() {
        assert_as_new(&pool, fresh);
    }
}

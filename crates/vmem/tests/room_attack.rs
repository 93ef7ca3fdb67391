//! The room gate (allocations that find the pool full take turns to make
//! room) and the unchecked hot path (bins from the size tables and the page
//! map, indexed without a bounds check) attacked through the public API:
//!
//! - every block, whatever path made it (malloc, calloc, aligned_alloc,
//!   realloc in place or moved, neighbours on the same page made by other
//!   paths), reports the usable size jemalloc gave it, in a file pool and in
//!   a region whose base is not on a jemalloc page (64 KiB), and each keeps
//!   its bytes: a block freed into another class's bin would be handed out
//!   over its neighbours;
//! - a crowd of threads, some short-lived, churning blocks up to 1 MiB on
//!   the smallest pool with little live data never runs out;
//! - `fork` while threads take turns running a pool full: the child fills
//!   the pool (the dead threads' caches reclaimed) and does it again;
//! - at level 4 (every call traced through a user callback) a crowd runs a
//!   pool full and empties it, without a hang;
//! - how long a fill to `ENOMEM` takes next to 100 idle threads holding
//!   caches (printed, not asserted).

mod common;
#[path = "common/crowd.rs"]
mod crowd;
#[path = "slots_attack/tagged.rs"]
#[allow(dead_code)]
mod tagged;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use common::SHM;
use crowd::crowd;
use tagged::{Rng, Tagged};
use vmem::{Pool, MIN_POOL};
use vmem_jemalloc_sys as jemalloc;

/// A live block made by any path: its address, the size asked for, and a
/// stamp byte written over all of it.
struct Block {
    addr: usize,
    size: usize,
    stamp: u8,
}

impl Block {
    fn stamp(ptr: *mut u8, size: usize, stamp: u8) -> Block {
        // SAFETY: a live block of at least `size` bytes.
        unsafe { ptr.write_bytes(stamp, size) };
        Block { addr: ptr as usize, size, stamp }
    }

    /// Panics unless the block still holds its stamp everywhere, and the
    /// pool reports for it the usable size jemalloc gave it.
    fn check(&self, pool: &Pool, what: &str) {
        let ptr = self.addr as *const u8;
        // SAFETY: a live block of `pool` of `size` bytes.
        let bytes = unsafe { std::slice::from_raw_parts(ptr, self.size) };
        if let Some(at) = bytes.iter().position(|&byte| byte != self.stamp) {
            panic!("{what}: block {ptr:p} of {} bytes overwritten at {at}", self.size);
        }
        // SAFETY: a live block of `pool`; sallocx reads jemalloc's own record.
        let (reported, truth) = unsafe { (pool.usable_size(ptr), jemalloc::sallocx(ptr.cast(), 0)) };
        assert_eq!(reported, truth, "{what}: usable size of {ptr:p} ({} bytes asked)", self.size);
        assert!(reported >= self.size, "{what}: {ptr:p} smaller than asked");
    }
}

/// A request size: mostly small, some pages, a few up to 1.2 MiB (past the
/// largest cached class).
fn any_size(rng: &mut Rng) -> usize {
    match rng.below(100) {
        0..=69 => 1 + rng.below(1024),
        70..=89 => 1 + rng.below(20 << 10),
        90..=97 => 1 + rng.below(256 << 10),
        _ => 1 + rng.below(1200 << 10),
    }
}

/// Random allocations by every path, frees through the hot path, and
/// reallocations, checking every live block now and then.
fn mixed_paths(pool: &Pool, seed: u64, steps: usize) {
    let mut rng = Rng::new(seed);
    let mut live: Vec<Block> = Vec::new();
    for step in 0..steps {
        let stamp = (step % 251) as u8 + 1;
        let kind = rng.below(10);
        if live.len() > 150 || (kind < 3 && !live.is_empty()) {
            let block = live.swap_remove(rng.below(live.len()));
            block.check(pool, "before free");
            // SAFETY: a live block of `pool`, freed once.
            unsafe { pool.free(block.addr as *mut u8) };
            continue;
        }
        let size = any_size(&mut rng);
        let made = match kind {
            3 => pool.calloc(1, size).map(|ptr| (ptr, "calloc")),
            4 | 5 => {
                let alignment = 8 << rng.below(15); // 8 B .. 128 KiB
                pool.aligned_alloc(alignment, size).map(|ptr| {
                    assert_eq!(ptr.as_ptr() as usize % alignment, 0, "aligned_alloc({alignment}, {size})");
                    (ptr, "aligned_alloc")
                })
            }
            6 if !live.is_empty() => {
                let index = rng.below(live.len());
                let old = live.swap_remove(index);
                old.check(pool, "before realloc");
                // SAFETY: a live block of `pool`; on success only the result
                // is used, on failure the old block is kept.
                match unsafe { pool.realloc(old.addr as *mut u8, size) } {
                    Ok(Some(ptr)) => {
                        let kept = old.size.min(size);
                        // SAFETY: the first `kept` bytes moved with the block.
                        let bytes = unsafe { std::slice::from_raw_parts(ptr.as_ptr(), kept) };
                        assert!(bytes.iter().all(|&b| b == old.stamp), "realloc lost the contents");
                        Ok((ptr, "realloc"))
                    }
                    Ok(None) => unreachable!("realloc to a non-zero size"),
                    Err(err) => {
                        live.push(old);
                        Err(err)
                    }
                }
            }
            _ => pool.malloc(size).map(|ptr| (ptr, "malloc")),
        };
        let (ptr, what) = made.unwrap_or_else(|err| panic!("{err} at step {step}, {size} bytes"));
        let block = Block::stamp(ptr.as_ptr(), size, stamp);
        block.check(pool, what);
        live.push(block);
        if step % 512 == 0 {
            // Neighbours made since by other paths must not change any
            // block's class.
            live.iter().for_each(|block| block.check(pool, "live"));
        }
    }
    for block in live {
        block.check(pool, "at the end");
        // SAFETY: a live block of `pool`, freed once.
        unsafe { pool.free(block.addr as *mut u8) };
    }
}

fn mixed_paths_on_threads(pool: &Pool) {
    let start = pool.stats().allocated;
    crowd(4, |me| mixed_paths(pool, 1 + me as u64, 6000));
    pool.flush();
    assert_eq!(pool.check(), Ok(true));
    assert_eq!(pool.stats().allocated, start);
}

#[test]
fn every_path_leaves_each_block_its_own_class_in_a_file_pool() {
    mixed_paths_on_threads(&Pool::create(SHM, 64 << 20).unwrap());
}

/// A region pool that starts 12 KiB past a 64 KiB boundary: with jemalloc's
/// pages larger than 4 KiB, the page map's pages and jemalloc's fall
/// differently from the pool's start.
#[test]
fn every_path_leaves_each_block_its_own_class_in_a_region_off_a_jemalloc_page() {
    const LEN: usize = 64 << 20;
    let mut region = vec![0u64; (LEN + (128 << 10)) / 8];
    let aligned = (region.as_mut_ptr() as usize).next_multiple_of(64 << 10) + (12 << 10);
    // SAFETY: the range lies inside `region`, which outlives the pool and is
    // not touched otherwise meanwhile.
    let pool = unsafe { Pool::create_in_region(aligned as *mut u8, LEN) }.unwrap();
    mixed_paths_on_threads(&pool);
    drop(pool);
    drop(region);
}

/// 128 threads on the smallest pool (14 MiB), each keeping one or two
/// blocks of up to 256 KiB live (about 4 MiB in all at most), and waves of short-lived
/// threads that allocate, free and exit meanwhile (some in the middle of
/// another's turn to make room): no allocation fails, though the threads'
/// caches together could hold many times the pool.
#[test]
fn a_crowd_churning_large_blocks_on_the_smallest_pool_never_runs_out() {
    const THREADS: usize = 128;
    let pool = Pool::create(SHM, MIN_POOL).unwrap();
    let start = pool.stats().allocated;
    let failures = AtomicUsize::new(0);
    crowd(THREADS, |me| {
        let mut rng = Rng::new(1000 + me as u64);
        let mut mine: Vec<Tagged> = Vec::new();
        for k in 0..600 {
            if me % 8 == 0 && k % 100 == 0 {
                // A short-lived thread: takes a cache, leaves it on exit.
                let pool = &pool;
                let tag = (me * 10_000 + k) as u64;
                // Joined, not just left to the scope's end, so that its exit
                // destructor has given its cache back.
                thread::scope(|scope| {
                    let short = scope.spawn(move || {
                        let blocks: Vec<_> =
                            (0..8).filter_map(|i| Tagged::new(pool, 4096 * (1 + i), tag).ok()).collect();
                        blocks.into_iter().for_each(|block| block.free(pool));
                    });
                    short.join().unwrap();
                });
            }
            // About 20 KiB on average, and at most two live per thread:
            // about 4 MiB live in all at the peaks.
            let size = match rng.below(20) {
                0..=13 => 1 + rng.below(2048),
                14..=18 => 16 << (rng.below(3) + 10), // 16, 32, 64 KiB
                _ => (128 << 10) + rng.below(128 << 10),
            };
            match Tagged::new(&pool, size, (me * 10_000 + k) as u64) {
                Ok(block) => mine.push(block),
                Err(err) => {
                    let live = pool.stats().allocated;
                    eprintln!("thread {me}, allocation {k} of {size} bytes: {err} ({live} bytes allocated)");
                    failures.fetch_add(1, Ordering::Relaxed);
                }
            }
            if mine.len() > 1 {
                mine.swap_remove(rng.below(mine.len())).free(&pool);
            }
        }
        mine.into_iter().for_each(|block| block.free(&pool));
    });
    assert_eq!(failures.into_inner(), 0, "allocations failed with little live data");
    pool.flush();
    assert_eq!(pool.check(), Ok(true));
    assert_eq!(pool.stats().allocated, start);
}

#[path = "room_attack/fill.rs"]
mod fill;

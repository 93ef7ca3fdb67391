//! Attacks on the gates of the front caches' fast paths: one or several
//! threads busy on their fast paths, their caches found through their home
//! caches or through the pool's thread slots (a thread's second pool, as the
//! Node.js addon always does), on small bins and on large ones, whose caps
//! are reservations of a byte budget. Meanwhile another thread runs the
//! pool full again and again, each failed allocation reclaiming every
//! thread's caches under them. Every block carries a tag unique to it at
//! both ends: one handed out twice shows as a wrong tag; afterwards the pool
//! must be consistent with nothing allocated.

mod common;

use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread;

use common::*;
use vmem::Pool;

const KIB: usize = 1 << 10;
const POOL: usize = 32 << 20;

/// Tags are unique across the whole test binary.
static NEXT_TAG: AtomicU64 = AtomicU64::new(1);

/// A live block and the tag at its ends.
struct Tagged {
    ptr: NonNull<u8>,
    size: usize,
    tag: u64,
}

impl Tagged {
    /// Tags a fresh block of `size` bytes (at least 16).
    fn new(ptr: NonNull<u8>, size: usize) -> Tagged {
        let block = Tagged { ptr, size, tag: NEXT_TAG.fetch_add(1, Ordering::Relaxed) };
        for offset in block.offsets() {
            // SAFETY: an aligned word inside the live block.
            unsafe { ptr.as_ptr().add(offset).cast::<u64>().write(block.tag) };
        }
        block
    }

    fn offsets(&self) -> [usize; 2] {
        [0, (self.size - 8) & !7]
    }

    /// Checks the tags and frees the block.
    fn free(self, pool: &Pool) {
        for offset in self.offsets() {
            // SAFETY: as in `new`: the block is still live.
            let found = unsafe { self.ptr.as_ptr().add(offset).cast::<u64>().read() };
            assert_eq!(found, self.tag, "block {:p} of {} B overwritten at {offset}", self.ptr, self.size);
        }
        // SAFETY: a live block of this pool, freed once.
        unsafe { pool.free(self.ptr.as_ptr()) };
    }
}

/// Blocks of `size` bytes until ENOMEM, tagged, then freed; how many.
fn fill(pool: &Pool, size: usize) -> usize {
    let mut blocks = Vec::new();
    loop {
        match pool.malloc(size) {
            Ok(ptr) => blocks.push(Tagged::new(ptr, size)),
            Err(err) => {
                assert_eq!(err.errno(), libc::ENOMEM);
                break;
            }
        }
    }
    let count = blocks.len();
    blocks.into_iter().for_each(|block| block.free(pool));
    count
}

/// `hammers` threads allocate and free blocks of `sizes` in `pool` (after
/// taking their first cache in `decoy`, when given, so that `pool`'s is found
/// through its slots) while this thread fills `pool` with `fill_size` blocks
/// `fills` times. Each hammer keeps a few blocks live, so that pops and
/// pushes interleave on each bin.
fn attack(hammers: usize, decoy: Option<&Pool>, sizes: &[usize], fill_size: usize, fills: usize) {
    let pool = Pool::create(SHM, POOL).unwrap();
    let stop = AtomicBool::new(false);
    let operations = AtomicUsize::new(0);
    thread::scope(|s| {
        let (pool, stop, operations) = (&pool, &stop, &operations);
        let threads: Vec<_> = (0..hammers)
            .map(|i| {
                s.spawn(move || {
                    if let Some(decoy) = decoy {
                        // SAFETY: a live block of `decoy`, freed once.
                        unsafe { decoy.free(decoy.malloc(64).unwrap().as_ptr()) };
                    }
                    let mut held: Vec<Tagged> = Vec::new();
                    let mut step = i * 7;
                    while !stop.load(Ordering::Relaxed) {
                        let size = sizes[step % sizes.len()];
                        step += 1;
                        match pool.malloc(size) {
                            Ok(ptr) => held.push(Tagged::new(ptr, size)),
                            Err(err) => assert_eq!(err.errno(), libc::ENOMEM),
                        }
                        if held.len() > 3 || step % 5 == 0 {
                            if let Some(block) = held.pop() {
                                block.free(pool);
                            }
                        }
                        operations.fetch_add(1, Ordering::Relaxed);
                    }
                    held.into_iter().for_each(|block| block.free(pool));
                })
            })
            .collect();
        for _ in 0..fills {
            assert!(fill(pool, fill_size) > 0);
        }
        stop.store(true, Ordering::Relaxed);
        for thread in threads {
            thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        }
    });
    let operations = operations.into_inner();
    eprintln!("{operations} operations of {hammers} threads next to {fills} fills");
    assert!(operations > 10_000, "the hammers hardly ran: {operations}");
    assert_eq!(pool.check(), Ok(true));
    // This thread's caches go back with `stats`.
    assert_eq!(pool.stats().allocated, 0, "blocks leaked");
}

/// Three threads on small bins, their caches found through the pool's
/// slots: the Node.js addon's way, and that of every pool past a thread's
/// first.
#[test]
fn fills_reclaim_caches_found_through_slots_of_threads_on_their_fast_paths() {
    let decoy = Pool::create(SHM, 16 << 20).unwrap();
    attack(3, Some(&decoy), &[16, 64, 64, 512, 4 * KIB], 64 * KIB, 300);
}

/// One thread on small bins through its home cache: on two cores it runs
/// beside the fills all the time. (With the gates left open it died of
/// SIGSEGV in 2 of 3 runs on a machine busy with a build.)
#[test]
fn fills_reclaim_the_cache_of_a_thread_on_its_fast_path() {
    attack(1, None, &[16, 64, 64, 512, 4 * KIB], 64 * KIB, 150);
}

/// Three threads on small bins through their home caches.
#[test]
fn fills_reclaim_the_caches_of_three_threads_on_their_fast_paths() {
    attack(3, None, &[16, 64, 64, 512, 4 * KIB], 64 * KIB, 300);
}

/// Two threads on large bins (16 KiB - 1 MiB), whose caps are what each
/// bin reserved of the byte budget, through home caches and slots.
#[test]
fn fills_reclaim_large_bins_of_threads_on_their_fast_paths() {
    let sizes = [16 * KIB, 40 * KIB, 64 * KIB, 256 * KIB, 16 * KIB, 1024 * KIB];
    attack(2, None, &sizes, 128 * KIB, 150);
    let decoy = Pool::create(SHM, 16 << 20).unwrap();
    attack(2, Some(&decoy), &sizes, 128 * KIB, 150);
}

//! Capacity under churn (issue #11): after any sequence of allocations, once
//! every block is freed again, a pool serves (almost) all of itself again —
//! as one block, as a fill of small blocks, as a fill of 1 MiB blocks — also
//! while threads that freed blocks are alive and blocked.
//!
//! One test per row of the table, each on a fresh 64 MiB pool in
//! /dev/shm, printing its figure (`--nocapture` shows them) before asserting
//! the goal; then a property test that interleaves random allocations, frees,
//! aligned allocations and reallocations on several threads.
//!
//! "fill" = allocate blocks of one size until ENOMEM; "share" = blocks × size
//! / pool size. Every test frees all it allocated before it returns, and its
//! helper threads never wait on a timer: they block on channels, so a failing
//! assertion releases them rather than hanging the run.

mod common;
/// Helper threads kept alive and idle while a measurement runs.
#[path = "capacity/idle.rs"]
mod idle;
/// The property test: random work on several threads, then everything freed.
#[path = "capacity/property.rs"]
mod property;

use std::path::PathBuf;
use std::ptr::NonNull;
use std::thread;

use vmem::Pool;

use idle::with_idle_threads;

const POOL: usize = common::POOL_64M;
const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

/// The goals, in percent of the pool.
const GOAL_LARGEST: f64 = 93.7;
const GOAL_FILL_4K_AFTER_INTERLEAVE: f64 = 99.0;
const GOAL_FILL_1M_AFTER_INTERLEAVE: f64 = 98.0;
const GOAL_FILL_1M_AFTER_IDLE: f64 = 95.0;
const GOAL_FILL_1M_AFTER_CHURN: f64 = 98.0;
const GOAL_FILL_AFTER_ALIGNED: f64 = 99.0;

/// Where the pools live: /dev/shm (tmpfs), as in the measurements.
fn shm() -> PathBuf {
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        shm
    } else {
        std::env::temp_dir()
    }
}

fn new_pool() -> Pool {
    Pool::create(shm(), POOL).expect("a 64 MiB pool")
}

/// `bytes` as a percentage of the pool.
fn percent(bytes: usize) -> f64 {
    bytes as f64 * 100.0 / POOL as f64
}

/// Live blocks of one pool, freed when dropped (so also when an assertion
/// fails), before the pool itself goes.
struct Blocks<'p> {
    pool: &'p Pool,
    ptrs: Vec<NonNull<u8>>,
}

impl<'p> Blocks<'p> {
    fn new(pool: &'p Pool) -> Self {
        Blocks { pool, ptrs: Vec::new() }
    }

    /// Keeps `ptr`, after writing its first and last byte: the memory must
    /// really be usable (a pool that overcommits would SIGBUS here).
    fn keep(&mut self, ptr: NonNull<u8>, size: usize) {
        // SAFETY: `ptr` is a fresh block of at least `size` >= 1 bytes.
        unsafe {
            ptr.as_ptr().write(0xa5);
            ptr.as_ptr().add(size - 1).write(0x5a);
        }
        self.ptrs.push(ptr);
    }

    /// Shuffles the blocks (Fisher-Yates), so they are freed in that order.
    fn shuffle(&mut self, rng: &mut SplitMix) {
        for i in (1..self.ptrs.len()).rev() {
            self.ptrs.swap(i, rng.range(0, i));
        }
    }

    fn len(&self) -> usize {
        self.ptrs.len()
    }

    fn free_all(&mut self) {
        for ptr in self.ptrs.drain(..) {
            // SAFETY: every kept pointer is a live block of `pool`, freed once.
            unsafe { self.pool.free(ptr.as_ptr()) };
        }
    }
}

impl Drop for Blocks<'_> {
    fn drop(&mut self) {
        self.free_all();
    }
}

/// Allocates `size`-byte blocks until ENOMEM; frees them and returns the
/// share of the pool they covered, in percent.
fn fill_share(pool: &Pool, size: usize) -> f64 {
    let mut blocks = Blocks::new(pool);
    loop {
        match pool.malloc(size) {
            Ok(ptr) => blocks.keep(ptr, size),
            Err(e) => {
                assert_eq!(e.errno(), libc::ENOMEM, "a fill ends with ENOMEM, not {e}");
                break;
            }
        }
    }
    percent(blocks.len() * size)
}

/// The largest block `malloc` gives (see [`common::largest_block`]), in
/// percent of the pool.
fn largest_block(pool: &Pool) -> f64 {
    percent(common::largest_block(pool, POOL))
}

/// A small deterministic generator (SplitMix64): the churn is the same on
/// every run, whatever the platform.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }
}

/// Row 1: a block freed must merge back with the untouched rest of the pool.
#[test]
fn malloc_40m_after_32m_freed() {
    let pool = new_pool();
    let first = pool.malloc(32 * MIB).expect("32 MiB from a fresh 64 MiB pool");
    // SAFETY: a fresh block of this pool, freed once.
    unsafe { pool.free(first.as_ptr()) };
    let second = pool.malloc(40 * MIB);
    eprintln!(
        "capacity: malloc(32 MiB), free -> malloc(40 MiB): {} (goal ok); allocated after: {} bytes",
        if second.is_ok() { "ok" } else { "fails" },
        pool.stats().allocated
    );
    let mut blocks = Blocks::new(&pool);
    match second {
        Ok(ptr) => blocks.keep(ptr, 40 * MIB),
        Err(e) => panic!("malloc(40 MiB) after malloc(32 MiB) and free: {e}"),
    }
}

/// Row 2: the largest block, found by binary search on a fresh pool: each
/// probe that fits is freed before the next, larger one, which must then find
/// the freed block and the untouched rest of the pool as one free space.
#[test]
fn largest_block_by_binary_search() {
    let pool = new_pool();
    let largest = largest_block(&pool);
    eprintln!("capacity: largest block by binary search (each probe freed): {largest:.1} % (goal >= {GOAL_LARGEST} %)");
    assert!(largest >= GOAL_LARGEST, "largest block {largest:.1} % < {GOAL_LARGEST} %");
}

/// Row 2, harder: a pool half filled with blocks of three sizes and emptied
/// again gives one block of almost all of itself: the freed half and the
/// untouched half are one free space.
#[test]
fn largest_block_of_a_half_filled_then_emptied_pool() {
    let pool = new_pool();
    let mut blocks = Blocks::new(&pool);
    let (mut allocated, mut i) = (0, 0);
    while allocated < POOL / 2 {
        let size = [64, 4 * KIB, 64 * KIB][i % 3];
        blocks.keep(pool.malloc(size).expect("half of a fresh pool"), size);
        allocated += size;
        i += 1;
    }
    blocks.free_all();
    let largest = largest_block(&pool);
    eprintln!(
        "capacity: largest block of the pool half filled ({i} blocks of 64 B, 4 KiB, 64 KiB) and emptied: {largest:.1} % \
         (goal >= {GOAL_LARGEST} %)"
    );
    assert!(largest >= GOAL_LARGEST, "largest block {largest:.1} % < {GOAL_LARGEST} %");
}

/// Rows 3 and 4: 20000-byte blocks interleaved with 1 MiB-aligned 1 MiB
/// blocks until neither fits, all freed; then a 4 KiB fill, then a 1 MiB
/// fill. Alignment gaps must not be lost.
#[test]
fn fills_after_small_blocks_interleaved_with_aligned_megabytes() {
    let pool = new_pool();
    let mut blocks = Blocks::new(&pool);
    let (mut small, mut big) = (0, 0);
    loop {
        let a = pool.malloc(20000);
        let b = pool.aligned_alloc(MIB, MIB);
        if a.is_err() && b.is_err() {
            break;
        }
        if let Ok(ptr) = a {
            blocks.keep(ptr, 20000);
            small += 1;
        }
        if let Ok(ptr) = b {
            assert_eq!(ptr.as_ptr() as usize % MIB, 0, "aligned_alloc(1 MiB, 1 MiB) is aligned");
            blocks.keep(ptr, MIB);
            big += 1;
        }
    }
    blocks.free_all();
    let fill_4k = fill_share(&pool, 4 * KIB);
    let fill_1m = fill_share(&pool, MIB);
    eprintln!(
        "capacity: {small} x 20000 B + {big} x aligned 1 MiB, freed -> 4 KiB fill {fill_4k:.1} % \
         (goal >= {GOAL_FILL_4K_AFTER_INTERLEAVE} %), then 1 MiB fill {fill_1m:.1} % (goal >= {GOAL_FILL_1M_AFTER_INTERLEAVE} %)"
    );
    assert!(fill_4k >= GOAL_FILL_4K_AFTER_INTERLEAVE, "4 KiB fill {fill_4k:.1} % < {GOAL_FILL_4K_AFTER_INTERLEAVE} %");
    assert!(fill_1m >= GOAL_FILL_1M_AFTER_INTERLEAVE, "1 MiB fill {fill_1m:.1} % < {GOAL_FILL_1M_AFTER_INTERLEAVE} %");
}

/// Row 5: 7 threads at once each allocate 1/8 of the pool in 64 B objects,
/// free them in a shuffled order and stay idle; an 8th thread's 1 MiB fill must still find the pool.
#[test]
fn fill_next_to_seven_idle_threads_that_freed_small_objects() {
    let pool = new_pool();
    let per_thread = POOL / 8 / 64;
    let fill = with_idle_threads(
        7,
        |i| {
            let mut blocks = Blocks::new(&pool);
            for n in 0..per_thread {
                match pool.malloc(64) {
                    Ok(ptr) => blocks.keep(ptr, 64),
                    Err(e) => panic!("thread {i}: 64 B object {n} of {per_thread}: {e}"),
                }
            }
            // Freed in a shuffled order, as a cache evicts: what the thread
            // still caches afterwards is spread over all its slabs.
            blocks.shuffle(&mut SplitMix(0x1d1e + i as u64));
        },
        || fill_share(&pool, MIB),
    );
    eprintln!("capacity: 7 idle threads freed 1/8 each in 64 B -> 8th thread's 1 MiB fill {fill:.1} % (goal >= {GOAL_FILL_1M_AFTER_IDLE} %)");
    assert!(fill >= GOAL_FILL_1M_AFTER_IDLE, "1 MiB fill {fill:.1} % < {GOAL_FILL_1M_AFTER_IDLE} %");
}

/// Threads keep freed large blocks (up to 1 MiB) for their next request of
/// the same class: 7 threads each allocate 40 blocks of 16 KiB–1 MiB at
/// once, free them in a shuffled order (their caches fill up to the budget,
/// over the whole pool) and stay idle; an 8th thread's largest block and
/// 1 MiB fill must still find the whole pool.
#[test]
fn largest_block_and_fill_next_to_seven_idle_threads_that_freed_large_blocks() {
    let pool = new_pool();
    let (largest, fill) = with_idle_threads(
        7,
        |i| {
            let mut rng = SplitMix(0x1a7e + i as u64);
            let mut large = Blocks::new(&pool);
            for _ in 0..40 {
                let size = [16 * KIB, 40 * KIB, 64 * KIB, 200 * KIB, MIB][rng.range(0, 4)];
                if let Ok(ptr) = pool.malloc(size) {
                    large.keep(ptr, size);
                }
            }
            large.shuffle(&mut rng);
        },
        || (largest_block(&pool), fill_share(&pool, MIB)),
    );
    eprintln!("capacity: 7 idle threads freed large blocks -> largest {largest:.1} %, 1 MiB fill {fill:.1} %");
    assert!(largest >= GOAL_LARGEST, "largest block {largest:.1} % < {GOAL_LARGEST} %");
    assert!(fill >= GOAL_FILL_1M_AFTER_IDLE, "1 MiB fill {fill:.1} % < {GOAL_FILL_1M_AFTER_IDLE} %");
}

/// A size of the mixed churn: 80 % up to 512 B, 18 % up to 16 KiB, 2 % up
/// to 512 KiB.
fn churn_size(rng: &mut SplitMix) -> usize {
    match rng.range(0, 99) {
        0..=79 => rng.range(1, 512),
        80..=97 => rng.range(513, 16 * KIB),
        _ => rng.range(16 * KIB + 1, 512 * KIB),
    }
}

/// One thread's mixed churn: random allocations and frees of random live
/// blocks, up to `budget` live bytes; frees everything at the end.
fn churn(pool: &Pool, seed: u64, steps: usize, budget: usize) {
    let mut rng = SplitMix(seed);
    let mut live: Vec<(NonNull<u8>, usize)> = Vec::new();
    let mut live_bytes = 0;
    for _ in 0..steps {
        let size = churn_size(&mut rng);
        if !live.is_empty() && (rng.range(0, 99) < 45 || live_bytes + size > budget) {
            let (ptr, freed) = live.swap_remove(rng.range(0, live.len() - 1));
            // SAFETY: a live block of this pool, freed once.
            unsafe { pool.free(ptr.as_ptr()) };
            live_bytes -= freed;
        } else if let Ok(ptr) = pool.malloc(size) {
            // SAFETY: a fresh block of at least `size` bytes.
            unsafe { ptr.as_ptr().write_bytes(0x3c, size.min(64)) };
            live.push((ptr, size));
            live_bytes += size;
        }
    }
    for (ptr, _) in live {
        // SAFETY: a live block of this pool, freed once.
        unsafe { pool.free(ptr.as_ptr()) };
    }
}

/// Row 6: mixed churn on 4 threads, everything freed, the threads joined
/// (their exit empties their caches); a 1 MiB fill must find (almost) the
/// whole pool: what churn leaves behind is free space that merges. (Caches of
/// threads that stay alive are row 5's subject.)
#[test]
fn fill_after_mixed_churn_on_four_threads() {
    let pool = new_pool();
    // Together the threads keep up to 7/8 of the pool live.
    let budget = POOL / 4 / 8 * 7;
    thread::scope(|s| {
        let pool = &pool;
        let threads: Vec<_> = (0..4u64).map(|i| s.spawn(move || churn(pool, 0xc0ffee + i, 60_000, budget))).collect();
        // Joined one by one: unlike the scope's own wait, `join` returns only
        // once the thread is gone, its thread-local destructors run.
        for thread in threads {
            thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        }
    });
    let fill = fill_share(&pool, MIB);
    eprintln!(
        "capacity: mixed churn on 4 threads, joined -> 1 MiB fill {fill:.1} % (goal >= {GOAL_FILL_1M_AFTER_CHURN} %)"
    );
    assert!(fill >= GOAL_FILL_1M_AFTER_CHURN, "1 MiB fill {fill:.1} % < {GOAL_FILL_1M_AFTER_CHURN} %");
}

/// Row 7: the gaps skipped to align blocks are not lost for good.
/// `aligned_alloc(32 MiB, 4096)` until it fails: a 64 MiB pool holds two such
/// blocks wherever the kernel mapped it, and at least one gap of almost
/// 32 MiB lies before the second (a single block would need no gap in a pool
/// mapped at a 32 MiB boundary). All freed, then a 4 KiB fill.
#[test]
fn fill_after_blocks_aligned_to_32m() {
    let pool = new_pool();
    let mut blocks = Blocks::new(&pool);
    while let Ok(ptr) = pool.aligned_alloc(32 * MIB, 4096) {
        assert_eq!(ptr.as_ptr() as usize % (32 * MIB), 0, "aligned_alloc(32 MiB, 4096) is aligned");
        blocks.keep(ptr, 4096);
    }
    let aligned = blocks.len();
    assert!(aligned >= 2, "a 64 MiB pool holds two 32 MiB-aligned 4 KiB blocks, got {aligned}");
    blocks.free_all();
    let fill = fill_share(&pool, 4 * KIB);
    eprintln!(
        "capacity: aligned_alloc(32 MiB, 4096) until it fails ({aligned} blocks), freed -> 4 KiB fill {fill:.1} % \
         (goal >= {GOAL_FILL_AFTER_ALIGNED} %)"
    );
    assert!(fill >= GOAL_FILL_AFTER_ALIGNED, "4 KiB fill {fill:.1} % < {GOAL_FILL_AFTER_ALIGNED} %");
}

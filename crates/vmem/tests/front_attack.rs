//! Attacks on the threads' front caches through the public API: mixed churn
//! on several threads that free each other's blocks and run the pool full
//! (every allocation that fails reclaims every thread's caches while the
//! others keep allocating), reallocs across classes, aligned and zeroed
//! blocks, threads that exit with full caches. Every block carries a tag
//! unique to its allocation at its start, middle and end, checked when it is
//! freed or resized: a block handed out twice, or overlapping another live
//! one, shows up as a wrong tag. Afterwards the pool must be as good as new:
//! consistent, nothing allocated, and a 1 MiB fill gets what a fresh pool's
//! does.

mod common;

use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};
use std::thread;

use common::*;
use vmem::Pool;

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

/// A small xorshift generator: the tests are reproducible from their seeds.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }
}

/// A size of the churn: every kind of front-cache bin and past them. 40 %
/// small (8 B .. 512 B), 20 % up to 16 KiB, 35 % in the large classes with
/// a bin (16 KiB .. 1 MiB, under the byte budget), 5 % up to 2 MiB (no bin).
fn churn_size(rng: &mut Rng) -> usize {
    match rng.range(0, 99) {
        0..=39 => rng.range(8, 512),
        40..=59 => rng.range(513, 16 * KIB),
        60..=94 => rng.range(16 * KIB, MIB),
        _ => rng.range(MIB + 1, 2 * MIB),
    }
}

/// A live block and the tag written into it.
#[derive(Clone, Copy, Debug)]
struct Block {
    ptr: NonNull<u8>,
    size: usize,
    tag: u64,
}

// SAFETY: a block is plain memory of a pool that every thread may free.
unsafe impl Send for Block {}

/// Tags are unique across the whole test binary.
static NEXT_TAG: AtomicU64 = AtomicU64::new(1);

/// Where a block's tag goes: its first, middle and last aligned words.
fn tag_offsets(size: usize) -> [usize; 3] {
    let last = (size - 8) & !7;
    [0, (size / 2) & !7, last]
}

impl Block {
    /// Tags a fresh block of at least `size` bytes.
    fn new(pool: &Pool, ptr: NonNull<u8>, size: usize) -> Block {
        // SAFETY: a live block of this pool.
        let usable = unsafe { pool.usable_size(ptr.as_ptr()) };
        assert!(usable >= size, "usable size {usable} < {size}");
        let block = Block { ptr, size, tag: NEXT_TAG.fetch_add(1, Ordering::Relaxed) };
        block.write_tag();
        block
    }

    fn write_tag(&self) {
        for offset in tag_offsets(self.size) {
            // SAFETY: inside the block (its size is at least 8).
            unsafe { self.ptr.as_ptr().add(offset).cast::<u64>().write_unaligned(self.tag) };
        }
    }

    /// The tag at `offset`.
    fn tag_at(&self, offset: usize) -> u64 {
        // SAFETY: inside the block.
        unsafe { self.ptr.as_ptr().add(offset).cast::<u64>().read_unaligned() }
    }

    /// Panics unless the block still holds its own tag everywhere.
    fn check(&self) {
        for offset in tag_offsets(self.size) {
            assert_eq!(self.tag_at(offset), self.tag, "block {:p}+{} at {offset}: overwritten", self.ptr, self.size);
        }
    }

    /// Checks the tag, then frees the block.
    fn free(self, pool: &Pool) {
        self.check();
        // SAFETY: a live block of this pool, freed once.
        unsafe { pool.free(self.ptr.as_ptr()) };
    }
}

/// What the churn threads saw, for the test to check that the pool was
/// really run full.
#[derive(Default)]
struct Seen {
    enomem: AtomicUsize,
    foreign_frees: AtomicUsize,
}

/// One thread's churn: allocations of every kind (malloc, calloc,
/// aligned_alloc, realloc across classes), frees of its own blocks and of
/// blocks other threads handed over through `exchange`, up to `budget` live
/// bytes; on ENOMEM it frees half its blocks. Returns with its own blocks
/// freed (into its caches) and some of them left in `exchange`.
fn churn(pool: &Pool, seed: u64, steps: usize, budget: usize, exchange: &Mutex<Vec<Block>>, seen: &Seen) {
    let mut rng = Rng(seed);
    let mut live: Vec<Block> = Vec::new();
    let mut live_bytes = 0;
    for _ in 0..steps {
        let size = churn_size(&mut rng);
        let op = rng.range(0, 99);
        if live_bytes + size > budget && !live.is_empty() {
            let block = live.swap_remove(rng.range(0, live.len() - 1));
            live_bytes -= block.size;
            block.free(pool);
            continue;
        }
        let made = match op {
            0..=44 => pool.malloc(size),
            45..=49 => pool.calloc(1, size).inspect(|ptr| {
                // SAFETY: a fresh block of `size` bytes.
                let bytes = unsafe { std::slice::from_raw_parts(ptr.as_ptr(), size) };
                // Its start and its end (all of it up to 512 KiB).
                let (head, tail) = bytes.split_at(size.min(256 * KIB));
                let tail = &tail[tail.len().saturating_sub(256 * KIB)..];
                assert!(head.iter().chain(tail).all(|&byte| byte == 0), "calloc({size}) not zeroed");
            }),
            50..=54 => {
                let alignment = 1 << rng.range(3, 16);
                pool.aligned_alloc(alignment, size).inspect(|ptr| {
                    assert_eq!(ptr.as_ptr() as usize % alignment, 0, "aligned_alloc({alignment}, {size})");
                })
            }
            55..=64 if !live.is_empty() => {
                let index = rng.range(0, live.len() - 1);
                let old = live[index];
                old.check();
                // SAFETY: a live block of this pool; on success only the
                // returned pointer is used.
                match unsafe { pool.realloc(old.ptr.as_ptr(), size) } {
                    Ok(Some(moved)) => {
                        let kept = Block { ptr: moved, ..old };
                        assert_eq!(kept.tag_at(0), old.tag, "realloc {} -> {size} lost the contents", old.size);
                        live[index] = Block::new(pool, moved, size);
                        live_bytes = live_bytes - old.size + size;
                    }
                    Ok(None) => unreachable!("realloc to {size} freed"),
                    Err(err) => {
                        assert_eq!(err.errno(), libc::ENOMEM);
                        seen.enomem.fetch_add(1, Ordering::Relaxed);
                        old.check();
                    }
                }
                continue;
            }
            65..=84 if !live.is_empty() => {
                let block = live.swap_remove(rng.range(0, live.len() - 1));
                live_bytes -= block.size;
                block.free(pool);
                continue;
            }
            85..=92 if !live.is_empty() => {
                let block = live.swap_remove(rng.range(0, live.len() - 1));
                live_bytes -= block.size;
                exchange.lock().unwrap().push(block);
                continue;
            }
            93..=99 => {
                let taken = exchange.lock().unwrap().pop();
                if let Some(block) = taken {
                    block.free(pool);
                    seen.foreign_frees.fetch_add(1, Ordering::Relaxed);
                }
                continue;
            }
            _ => continue,
        };
        match made {
            Ok(ptr) => {
                live.push(Block::new(pool, ptr, size));
                live_bytes += size;
            }
            Err(err) => {
                assert_eq!(err.errno(), libc::ENOMEM, "{err}");
                seen.enomem.fetch_add(1, Ordering::Relaxed);
                for _ in 0..live.len() / 2 {
                    let block = live.swap_remove(rng.range(0, live.len() - 1));
                    live_bytes -= block.size;
                    block.free(pool);
                }
            }
        }
    }
    // Half the rest to the others, half freed here: the thread exits with
    // full caches.
    for (index, block) in live.into_iter().enumerate() {
        if index % 2 == 0 {
            exchange.lock().unwrap().push(block);
        } else {
            block.free(pool);
        }
    }
}

/// Blocks of `size` bytes until ENOMEM, each written at both ends; freed
/// again when `free` says so. Returns how many.
fn fill(pool: &Pool, size: usize) -> usize {
    let mut blocks = Vec::new();
    loop {
        match pool.malloc(size) {
            Ok(ptr) => blocks.push(Block::new(pool, ptr, size)),
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

/// What a 1 MiB fill gets from a fresh pool of `len` bytes.
fn fresh_fill(len: usize) -> usize {
    fill(&Pool::create(SHM, len).unwrap(), MIB)
}

/// After an attack: consistent, nothing allocated (the attacking threads are
/// gone; this thread's caches go back with `stats`), and a 1 MiB fill as good
/// as a fresh pool's, twice (the first fill's frees are cached again).
fn assert_as_new(pool: &Pool, fresh: usize) {
    assert_eq!(pool.check(), Ok(true));
    let stats = pool.stats();
    assert_eq!(stats.allocated, 0, "blocks leaked: {stats:?}");
    assert_eq!(fill(pool, MIB), fresh, "1 MiB refill after the attack");
    assert_eq!(fill(pool, MIB), fresh, "second 1 MiB refill");
    assert_eq!(pool.stats().allocated, 0);
}

/// Joins scoped threads one by one: `join` returns once a thread is gone,
/// its thread-local destructors (which empty its caches) run.
fn join_all<T>(threads: Vec<thread::ScopedJoinHandle<'_, T>>) {
    for thread in threads {
        thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    }
}

/// Four threads churn a pool of `len` bytes, then everything is freed and
/// the threads are gone. Together they would keep 1.5 pools live: the pool
/// runs full again and again, with every thread's caches holding blocks.
fn churn_attack(len: usize, steps: usize) {
    let fresh = fresh_fill(len);
    let pool = Pool::create(SHM, len).unwrap();
    let (exchange, seen) = (Mutex::new(Vec::new()), Seen::default());
    thread::scope(|s| {
        let (pool, exchange, seen) = (&pool, &exchange, &seen);
        let churner = move |i| move || churn(pool, 0x5eed_0000 + i, steps, len * 3 / 8, exchange, seen);
        join_all((0..4u64).map(|i| s.spawn(churner(i))).collect());
    });
    exchange.into_inner().unwrap().into_iter().for_each(|block| block.free(&pool));
    let (enomem, foreign) = (seen.enomem.into_inner(), seen.foreign_frees.into_inner());
    eprintln!("front attack on {len} B: {enomem} ENOMEM, {foreign} frees of other threads' blocks");
    assert!(enomem > 0, "the pool never ran full");
    assert!(foreign > steps / 10, "only {foreign} cross-thread frees");
    assert_as_new(&pool, fresh);
}

#[test]
fn churn_on_four_threads_that_free_each_others_blocks_and_run_the_pool_full() {
    churn_attack(POOL_64M, 30_000);
}

/// In the smallest pool the large bins get a budget of under a MiB: rooms of
/// one block or none, and every free of a large block competes for it.
#[test]
fn churn_in_the_smallest_pool() {
    churn_attack(vmem::MIN_POOL, 20_000);
}

/// Sizes that fill every kind of bin: small ones, the largest small ones,
/// and large ones up to the 1 MiB that shares the byte budget.
const BIN_SIZES: [usize; 8] = [8, 64, 4 * KIB, 14 * KIB, 16 * KIB, 64 * KIB, 256 * KIB, MIB];

/// Allocates `count` blocks of each of [`BIN_SIZES`], then frees them all
/// (filling the thread's bins to their caps), all tags checked.
fn fill_caches(pool: &Pool, count: usize) {
    let mut blocks = Vec::new();
    for size in BIN_SIZES {
        for _ in 0..count {
            match pool.malloc(size) {
                Ok(ptr) => blocks.push(Block::new(pool, ptr, size)),
                Err(err) => assert_eq!(err.errno(), libc::ENOMEM),
            }
        }
    }
    blocks.into_iter().for_each(|block| block.free(pool));
}

/// Twenty threads, more than a pool has thread slots (the rest find their
/// caches through a thread-local), each exit with every kind of bin full.
#[test]
fn threads_that_exit_with_full_caches_give_everything_back() {
    let fresh = fresh_fill(POOL_64M);
    let pool = Pool::create(SHM, POOL_64M).unwrap();
    for round in 0..3 {
        thread::scope(|s| {
            let pool = &pool;
            join_all((0..20).map(|_| s.spawn(move || fill_caches(pool, 300))).collect());
        });
        assert_eq!(pool.stats().allocated, 0, "round {round}");
    }
    assert_as_new(&pool, fresh);
}

/// Threads that sit idle with full caches (they will not call again until
/// the fill is over): the fill must reclaim what they hold and get what a
/// fresh pool gives, and they must find their caches usable afterwards.
#[test]
fn a_fill_takes_back_what_idle_threads_cache_and_they_go_on() {
    let fresh = fresh_fill(POOL_64M);
    let pool = Pool::create(SHM, POOL_64M).unwrap();
    let (cached, filled) = (Barrier::new(7), Barrier::new(7));
    thread::scope(|s| {
        let (pool, cached, filled) = (&pool, &cached, &filled);
        let threads = (0..6)
            .map(|_| {
                s.spawn(move || {
                    fill_caches(pool, 300);
                    cached.wait();
                    filled.wait();
                    // Their caches were emptied under them: use them again.
                    fill_caches(pool, 50);
                })
            })
            .collect();
        cached.wait();
        // Checked once the threads are let go: a failure must not hang them.
        let refill = fill(pool, MIB);
        filled.wait();
        assert_eq!(refill, fresh, "1 MiB fill next to six idle threads with full caches");
        join_all(threads);
    });
    assert_as_new(&pool, fresh);
}

/// One block resized through every kind of class and back, its contents
/// kept, while blocks of the same classes come and go around it (so the
/// front caches hand out what each move freed).
#[test]
fn realloc_across_classes_keeps_contents_and_page_entries() {
    let fresh = fresh_fill(POOL_64M);
    let pool = Pool::create(SHM, POOL_64M).unwrap();
    let path = [8, 100, 4 * KIB, 14 * KIB, 20 * KIB, MIB, 2 * MIB, 16 * KIB, 9 * KIB, 8, MIB, 24];
    let mut rng = Rng(0xa11c);
    let mut others: Vec<Block> = Vec::new();
    for _ in 0..2000 {
        let mut block = Block::new(&pool, pool.malloc(path[0]).unwrap(), path[0]);
        for &size in &path[1..] {
            let kept = block.size.min(size);
            // SAFETY: a live block of this pool, replaced by the result.
            let moved = unsafe { pool.realloc(block.ptr.as_ptr(), size) }.unwrap().unwrap();
            let moved = Block { ptr: moved, ..block };
            // Every tag word inside the kept part is still there.
            for offset in tag_offsets(block.size).into_iter().filter(|&offset| offset + 8 <= kept) {
                assert_eq!(moved.tag_at(offset), block.tag, "realloc {} -> {size}, at {offset}", block.size);
            }
            block = Block::new(&pool, moved.ptr, size);
            // Neighbours of the classes the block goes through.
            let other_size = path[rng.range(0, path.len() - 1)];
            others.push(Block::new(&pool, pool.malloc(other_size).unwrap(), other_size));
            if others.len() > 64 {
                others.swap_remove(rng.range(0, others.len() - 1)).free(&pool);
            }
        }
        block.free(&pool);
    }
    others.into_iter().for_each(|block| block.free(&pool));
    assert_as_new(&pool, fresh);
}

//! Attacks on the placement of large blocks (`placement.rs`: blocks of
//! 64 KiB and more are placed at their natural alignment, up to 2 MiB, at
//! most as aligned as the pool's start) through the public API: fresh pools
//! and region pools at odd offsets filled with every large size, fills after
//! churn on several threads with big user alignments and reallocations
//! across 64 KiB and 2 MiB, aligned allocations, and reallocations that
//! shrink or grow a block in a pool with no other room.
//!
//! Expected counts are derived from sizes alone (a pool of `len` bytes holds
//! `len / usable` blocks of one size), so the tests hold for any jemalloc
//! page size (`VMEM_JEMALLOC_WITH_LG_PAGE=16` builds aarch64's 64 KiB).

mod common;

use std::ptr::NonNull;

use common::SHM;
use vmem::{Pool, MIN_POOL};

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

/// Sizes that are a jemalloc class for any page size up to 64 KiB (each a
/// multiple of 64 KiB), with natural alignments from 64 KiB to 2 MiB.
const LARGE_SIZES: [usize; 10] =
    [64 * KIB, 128 * KIB, 192 * KIB, 256 * KIB, MIB, 5 * MIB / 4, 3 * MIB / 2, 2 * MIB, 3 * MIB, 4 * MIB];

/// Blocks of `size` until the pool says ENOMEM.
fn fill(pool: &Pool, size: usize) -> Vec<NonNull<u8>> {
    std::iter::from_fn(|| pool.malloc(size).ok()).collect()
}

fn free_all(pool: &Pool, blocks: Vec<NonNull<u8>>) {
    for block in blocks {
        // SAFETY: live blocks of this pool, each freed once.
        unsafe { pool.free(block.as_ptr()) };
    }
}

/// The usable size of a live block of `pool`.
fn usable(pool: &Pool, block: NonNull<u8>) -> usize {
    // SAFETY: callers pass live blocks of `pool`.
    unsafe { pool.usable_size(block.as_ptr()) }
}

/// Fills `pool` with blocks of `size`: each must have the usable size any
/// pool gives that request, the fill must get every block the pool's
/// `len` usable bytes hold, and the statistics must count exactly them.
/// Everything is freed again and the pool left as it was.
fn assert_fill_gets_all(pool: &Pool, len: usize, size: usize, what: &str) {
    pool.flush();
    let start = pool.stats().allocated;
    let blocks = fill(pool, size);
    let class = vmem::usable_size_for(size);
    let wrong: Vec<_> = blocks.iter().map(|&block| usable(pool, block)).filter(|&got| got != class).collect();
    let allocated = pool.stats().allocated - start;
    let count = blocks.len();
    free_all(pool, blocks);
    pool.flush();
    assert!(wrong.is_empty(), "{what}: {size}-byte blocks of usable size {wrong:?}, not {class}");
    assert_eq!(count, len / class, "{what}: blocks of {size} bytes in {len} usable bytes");
    assert_eq!(allocated, count * class, "{what}: allocated bytes after a fill of {count} × {class}");
    assert_eq!(pool.stats().allocated, start, "{what}: allocated bytes after freeing the fill");
    assert!(pool.check().unwrap(), "{what}: check() after the fill");
}

/// File pools of the smallest size, of an odd size and of 64 MiB hold
/// `len / size` blocks of every large size, each of its usual usable size.
/// With 64 KiB jemalloc pages, a 128 KiB block was placed at 128 KiB, more
/// than a page: jemalloc served it as a 256 KiB large block (usable size
/// 256 KiB, a fill got 56 of 112 blocks in a 14 MiB pool).
#[test]
fn fresh_pools_hold_len_over_size_blocks_of_every_large_size() {
    for len in [MIN_POOL, MIN_POOL + 12 * KIB, 64 * MIB] {
        for size in LARGE_SIZES {
            let pool = Pool::create(SHM, len).unwrap();
            assert_fill_gets_all(&pool, pool.size(), size, &format!("fresh {len}-byte pool"));
        }
    }
}

/// Region pools at odd offsets (a page past a 2 MiB boundary, 12 KiB,
/// 1 MiB + 4 KiB, 1.5 MiB, 2 MiB - 4 KiB) and of an odd size hold as many
/// blocks of every large size as their jemalloc pages allow: blocks are
/// aligned at most as much as the region starts.
#[test]
fn region_pools_at_odd_offsets_hold_what_their_pages_allow() {
    let len = MIN_POOL + 12 * KIB;
    let page = vmem::size_classes().page;
    let layout = std::alloc::Layout::from_size_align(len + 4 * MIB, 4 * MIB).unwrap();
    let offsets = [4 * KIB, 12 * KIB, 64 * KIB, MIB + 4 * KIB, 3 * MIB / 2, 2 * MIB - 4 * KIB];
    for offset in offsets {
        // SAFETY: the region outlives its pools, which are dropped first.
        unsafe {
            let buffer = std::alloc::alloc(layout);
            assert!(!buffer.is_null());
            let start = buffer.add(offset) as usize;
            // jemalloc uses whole pages of its own: what lies before the first
            // and after the last is lost to any size.
            let pages = (start + len) / page * page - start.next_multiple_of(page);
            for size in LARGE_SIZES {
                let pool = Pool::create_in_region(buffer.add(offset), len).unwrap();
                assert_fill_gets_all(&pool, pages, size, &format!("region pool at {offset:#x} past 4 MiB"));
            }
            std::alloc::dealloc(buffer, layout);
        }
    }
}

/// A xorshift generator: the same churn every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 as usize % bound
    }
}

/// One thread's churn: mixed sizes up to 4 MiB, aligned allocations up to
/// 32 MiB alignment (each checked), reallocations that grow and shrink
/// across 64 KiB and 2 MiB (contents checked), frees; everything freed at
/// the end.
fn churn(pool: &Pool, seed: u64, rounds: usize) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut live: Vec<(NonNull<u8>, u8)> = Vec::new();
    for round in 0..rounds {
        let stamp = round as u8;
        let block = match rng.below(10) {
            0..=3 => {
                let size = match rng.below(4) {
                    0 => 1 + rng.below(16 * KIB),
                    1 => 16 * KIB + rng.below(112 * KIB),
                    2 => 128 * KIB + rng.below(2 * MIB),
                    _ => 2 * MIB + rng.below(2 * MIB),
                };
                pool.malloc(size).ok()
            }
            4 => {
                let alignment = [4 * KIB, 64 * KIB, 2 * MIB, 4 * MIB, 32 * MIB][rng.below(5)];
                let block = pool.aligned_alloc(alignment, 1 + rng.below(3 * MIB)).ok();
                assert!(block.is_none_or(|block| (block.as_ptr() as usize).is_multiple_of(alignment)));
                block
            }
            5 | 6 if !live.is_empty() => {
                let (block, stamp) = live.swap_remove(rng.below(live.len()));
                let size =
                    [60 * KIB, 70 * KIB, 2 * MIB - 4 * KIB, 2 * MIB + 4 * KIB, 1 + rng.below(5 * MIB)][rng.below(5)];
                // SAFETY: a live block of this pool, stamped at its first byte.
                match unsafe { pool.realloc(block.as_ptr(), size) } {
                    Ok(Some(moved)) => {
                        // SAFETY: the first byte of a live block, kept by realloc.
                        assert_eq!(unsafe { moved.as_ptr().read() }, stamp, "realloc to {size} lost the contents");
                        live.push((moved, stamp));
                    }
                    _ => live.push((block, stamp)),
                }
                None
            }
            _ if !live.is_empty() => {
                let (block, stamp) = live.swap_remove(rng.below(live.len()));
                // SAFETY: the first byte of a live block.
                assert_eq!(unsafe { block.as_ptr().read() }, stamp);
                free_all(pool, vec![block]);
                None
            }
            _ => None,
        };
        if let Some(block) = block {
            // SAFETY: a fresh block of at least one byte.
            unsafe { block.as_ptr().write(stamp) };
            live.push((block, stamp));
        }
    }
    free_all(pool, live.into_iter().map(|(block, _)| block).collect());
}

/// After churn on three threads, with every block freed again and no
/// `purge()`, a fill with blocks of any placed size gets what a fresh pool
/// of the same size gets (before placement: 220 of 224 64 KiB blocks in a
/// 14 MiB pool). Classes that live in slabs (below four jemalloc pages) are
/// not placed, and still fall short after churn (80 KiB blocks: 797 of 819
/// in 64 MiB; 128 KiB ones with 64 KiB pages: 109 of 112 in 14 MiB).
#[test]
fn fills_after_churn_get_what_a_fresh_pool_gets() {
    let large_min = 4 * vmem::size_classes().page;
    for len in [MIN_POOL, MIN_POOL + 12 * KIB, 64 * MIB] {
        let sizes = [64 * KIB, 128 * KIB, 256 * KIB, MIB, 5 * MIB / 4, 2 * MIB, 3 * MIB];
        for size in sizes.into_iter().filter(|&size| size >= large_min) {
            let fresh = Pool::create(SHM, len).unwrap();
            let blocks = fill(&fresh, size);
            let want = blocks.len();
            free_all(&fresh, blocks);
            drop(fresh);
            let pool = Pool::create(SHM, len).unwrap();
            std::thread::scope(|scope| {
                for seed in 1..=3 {
                    let pool = &pool;
                    scope.spawn(move || churn(pool, seed + len as u64 + size as u64, 2000));
                }
            });
            assert!(pool.check().unwrap());
            let blocks = fill(&pool, size);
            let got = blocks.len();
            free_all(&pool, blocks);
            assert_eq!(got, want, "{size}-byte blocks of a {len}-byte pool after churn, against a fresh one");
        }
    }
}

/// aligned_alloc honours every alignment from 8 B to 32 MiB at every size,
/// with the usable size it had before large blocks were placed; the
/// statistics come back to where they started.
#[test]
fn aligned_blocks_honour_the_alignment_with_the_usual_usable_size() {
    let pool = Pool::create(SHM, 64 * MIB).unwrap();
    let page = vmem::size_classes().page;
    let start = pool.stats().allocated;
    let sizes = [1, 100, 16 * KIB, 60 * KIB, 64 * KIB, 100 * KIB, 128 * KIB, MIB, 5 * MIB / 4, 2 * MIB + 4 * KIB];
    for alignment in [8, 4 * KIB, 64 * KIB, MIB, 2 * MIB, 4 * MIB, 32 * MIB] {
        for size in sizes {
            let block = pool.aligned_alloc(alignment, size).unwrap();
            assert!((block.as_ptr() as usize).is_multiple_of(alignment), "{size} bytes aligned to {alignment}");
            // Up to a page, a small block's class is one its alignment
            // divides; past a page a block is large: at least jemalloc's
            // smallest large class (four pages).
            let want = match alignment > page {
                false => vmem::usable_size_for(size.next_multiple_of(alignment)),
                true => vmem::usable_size_for(size).max(4 * page),
            };
            let got = usable(&pool, block);
            assert_eq!(got, want, "usable size of {size} bytes aligned to {alignment}");
            free_all(&pool, vec![block]);
        }
    }
    pool.flush();
    assert_eq!(pool.stats().allocated, start);
    assert!(pool.check().unwrap());
}

/// A pool with one block of `size` bytes that does not start on a
/// multiple of 2 MiB (a 64 KiB block comes first), every other byte taken
/// by 64 KiB and 4 KiB blocks: the block and the others.
fn full_pool_around(pool: &Pool, size: usize) -> (NonNull<u8>, Vec<NonNull<u8>>) {
    let mut others = vec![pool.malloc(64 * KIB).unwrap()];
    let block = pool.malloc(size).unwrap();
    // SAFETY: a fresh block of `size` bytes.
    unsafe { block.as_ptr().write_bytes(0x5a, size) };
    others.extend(fill(pool, 64 * KIB));
    others.extend(fill(pool, 4 * KIB));
    (block, others)
}

/// Shrinking a block never needs room: in a full pool, realloc to a smaller
/// size succeeds and keeps the contents. When blocks were first placed, a
/// shrink to a size whose natural alignment the block's address lacks
/// (5 MiB at 1 MiB → 4 MiB, which asks for 2 MiB) moved the block, and in a
/// full pool failed with ENOMEM; a realloc now tries in place first.
#[test]
fn a_block_shrinks_in_a_full_pool() {
    for (from, to) in [(5 * MIB, 4 * MIB), (5 * MIB / 4, MIB), (3 * MIB, 2 * MIB), (3 * MIB / 2, MIB)] {
        let pool = Pool::create(SHM, MIN_POOL).unwrap();
        let (block, others) = full_pool_around(&pool, from);
        let at = block.as_ptr() as usize - pool.base() as usize;
        // SAFETY: a live block of this pool.
        let shrunk = unsafe { pool.realloc(block.as_ptr(), to) };
        let kept = match &shrunk {
            Ok(Some(moved)) => *moved,
            _ => block,
        };
        // SAFETY: the live block, of at least `to` bytes either way.
        let contents_kept = unsafe { std::slice::from_raw_parts(kept.as_ptr(), to) }.iter().all(|&byte| byte == 0x5a);
        free_all(&pool, others);
        free_all(&pool, vec![kept]);
        assert!(shrunk.is_ok(), "realloc of {from} bytes at offset {at:#x} to {to} in a full pool: {shrunk:?}");
        assert!(contents_kept, "realloc of {from} bytes to {to} lost the contents");
    }
}

/// A block grows in place into free space right after it when the pool has
/// no other room (libvmem's realloc, and this pool's before placement, did):
/// a 5 MiB block at 1 MiB with 1 MiB freed after it grows to 6 MiB. When
/// blocks were first placed, the grown block asked for 2 MiB alignment,
/// which its address lacks, so jemalloc moved it, and found no room.
#[test]
fn a_block_grows_in_place_when_the_pool_has_no_other_room() {
    let pool = Pool::create(SHM, MIN_POOL).unwrap();
    let (block, others) = full_pool_around(&pool, 5 * MIB);
    let end = block.as_ptr() as usize + 5 * MIB;
    let (after, others): (Vec<_>, Vec<_>) =
        others.into_iter().partition(|other| (end..end + MIB).contains(&(other.as_ptr() as usize)));
    assert_eq!(after.len(), 16, "64 KiB blocks in the MiB after the block");
    free_all(&pool, after);
    // Cached frees go back to the arena, its free extents to the pool.
    pool.flush();
    pool.purge();
    // SAFETY: a live block of this pool.
    let grown = unsafe { pool.realloc(block.as_ptr(), 6 * MIB) };
    let kept = match &grown {
        Ok(Some(moved)) => *moved,
        _ => block,
    };
    free_all(&pool, others);
    free_all(&pool, vec![kept]);
    assert!(grown.is_ok(), "realloc of 5 MiB to 6 MiB with the next MiB free: {grown:?}");
}

/// A fresh 64 MiB pool holds 31 blocks of 2 MiB + 4 KiB, but a fill gets
/// 26: with its large size classes disabled, jemalloc takes 2.5 MiB (the
/// next class) from the pool for each such block and keeps the rest for
/// reuse, which a fill of the same size cannot use. Not placement's doing
/// (the same before it); here as a record.
#[test]
#[ignore = "known: jemalloc's batched extents strand 0.5 MiB per 2 MiB + 4 KiB block in a fill (26 of 31)"]
fn a_fill_with_blocks_just_past_a_class_gets_len_over_size() {
    for size in [MIB + 4 * KIB, 2 * MIB + 4 * KIB] {
        let pool = Pool::create(SHM, 64 * MIB).unwrap();
        assert_fill_gets_all(&pool, pool.size(), size, "fresh 64 MiB pool");
    }
}

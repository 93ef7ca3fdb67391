//! Model-based random testing: random sequences of pool operations over
//! several pools (file and region pools of different sizes), checked against
//! a model of what must be live. Every live block holds a pattern derived
//! from its id, verified before it is freed or resized and at the end.
//!
//! `VMEM_MODEL_CASES` (default 200) × up to 6000 operations gives at least
//! 10^6 operations per run; a failing case shrinks to a short reproduction,
//! and proptest prints the seed that found it.

mod common;

use std::alloc::Layout;
use std::ptr::NonNull;

use common::pattern;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use vmem::{Pool, MIN_POOL};

#[derive(Clone, Debug)]
enum Op {
    CreateFile { extra_mib: usize },
    CreateRegion { extra_mib: usize },
    Malloc { pool: usize, size: usize },
    Calloc { pool: usize, nmemb: usize, size: usize },
    Realloc { pool: usize, block: usize, size: usize },
    AlignedAlloc { pool: usize, align_shift: u32, size: usize },
    Strdup { pool: usize, len: usize },
    Free { pool: usize, block: usize },
    UsableSize { pool: usize, block: usize },
    Check { pool: usize },
    Delete { pool: usize },
}

/// Mostly small sizes, some large, a few huge (which must fail cleanly).
fn size() -> impl Strategy<Value = usize> {
    prop_oneof![
        12 => 0usize..600,
        4 => 600usize..20_000,
        2 => 20_000usize..1_500_000,
        1 => Just(usize::MAX / 2),
        1 => (1usize << 30)..(1usize << 40),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let pool = 0usize..4;
    let block = any::<usize>();
    prop_oneof![
        1 => (0usize..20).prop_map(|extra_mib| Op::CreateFile { extra_mib }),
        1 => (0usize..6).prop_map(|extra_mib| Op::CreateRegion { extra_mib }),
        300 => (pool.clone(), size()).prop_map(|(pool, size)| Op::Malloc { pool, size }),
        40 => (pool.clone(), 0usize..100, prop_oneof![0usize..100, Just(usize::MAX / 3)])
            .prop_map(|(pool, nmemb, size)| Op::Calloc { pool, nmemb, size }),
        80 => (pool.clone(), block, size()).prop_map(|(pool, block, size)| Op::Realloc { pool, block, size }),
        30 => (pool.clone(), 0u32..22, 0usize..5000)
            .prop_map(|(pool, align_shift, size)| Op::AlignedAlloc { pool, align_shift, size }),
        30 => (pool.clone(), 0usize..300).prop_map(|(pool, len)| Op::Strdup { pool, len }),
        250 => (pool.clone(), block).prop_map(|(pool, block)| Op::Free { pool, block }),
        30 => (pool.clone(), block).prop_map(|(pool, block)| Op::UsableSize { pool, block }),
        10 => pool.clone().prop_map(|pool| Op::Check { pool }),
        1 => pool.prop_map(|pool| Op::Delete { pool }),
    ]
}

struct Block {
    ptr: NonNull<u8>,
    size: usize,
    id: usize,
}

struct Region {
    ptr: *mut u8,
    layout: Layout,
}

struct LivePool {
    pool: Pool,
    blocks: Vec<Block>,
}

/// A pool with the region it lives in, if any: the pool is dropped first.
struct Owned {
    live: std::mem::ManuallyDrop<LivePool>,
    region: Option<Region>,
}

impl std::ops::Deref for Owned {
    type Target = LivePool;
    fn deref(&self) -> &LivePool {
        &self.live
    }
}

impl std::ops::DerefMut for Owned {
    fn deref_mut(&mut self) -> &mut LivePool {
        &mut self.live
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: dropped once, here, before its region is released.
        unsafe { std::mem::ManuallyDrop::drop(&mut self.live) };
        if let Some(region) = self.region.take() {
            // SAFETY: allocated with this layout; its pool is gone.
            unsafe { std::alloc::dealloc(region.ptr, region.layout) };
        }
    }
}

fn owned(pool: Pool, region: Option<Region>) -> Owned {
    Owned { live: std::mem::ManuallyDrop::new(LivePool { pool, blocks: Vec::new() }), region }
}

/// The byte offsets of a block that carry its pattern: every byte of a small
/// block; of a large one, every 509th byte (a prime, so the samples fall at
/// every alignment) and its last 64 bytes, which keeps 10^6 operations fast.
fn sampled(size: usize) -> impl Iterator<Item = usize> {
    let step = if size <= 4096 { 1 } else { 509 };
    (0..size).step_by(step).chain(size.saturating_sub(64).max(if step == 1 { size } else { 0 })..size)
}

fn fill(block: &Block) {
    let base = block.ptr.as_ptr();
    for i in sampled(block.size) {
        // SAFETY: `i` is inside the live block.
        unsafe { base.add(i).write(pattern(block.id, i)) };
    }
}

fn verify(block: &Block) -> Result<(), TestCaseError> {
    verify_prefix(block, block.size)
}

/// Checks the pattern a block of `block.size` bytes was filled with, in its
/// first `kept` bytes (what a realloc must keep).
fn verify_prefix(block: &Block, kept: usize) -> Result<(), TestCaseError> {
    let base = block.ptr.as_ptr();
    for i in sampled(block.size).filter(|&i| i < kept) {
        // SAFETY: `i` is inside the live block.
        if unsafe { base.add(i).read() } != pattern(block.id, i) {
            return Err(TestCaseError::fail(format!("block {} damaged at byte {i} of {}", block.id, block.size)));
        }
    }
    Ok(())
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut pools: Vec<Owned> = Vec::new();
    let mut next_id = 0usize;
    let dir = std::path::Path::new(common::SHM);
    for op in ops {
        match op {
            Op::CreateFile { extra_mib } if pools.len() < 4 => {
                let size = MIN_POOL + (extra_mib << 20);
                let pool = Pool::create(dir, size).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert!(pool.check().unwrap());
                pools.push(owned(pool, None));
            }
            Op::CreateRegion { extra_mib } if pools.len() < 4 => {
                let size = MIN_POOL + (extra_mib << 20) + 4096;
                let layout = Layout::from_size_align(size, 4096).unwrap();
                // SAFETY: a non-zero layout; freed after its pool is dropped.
                let ptr = unsafe { std::alloc::alloc(layout) };
                prop_assert!(!ptr.is_null());
                // SAFETY: the region outlives the pool (see Owned's Drop).
                let pool =
                    unsafe { Pool::create_in_region(ptr, size) }.map_err(|e| TestCaseError::fail(e.to_string()))?;
                pools.push(owned(pool, Some(Region { ptr, layout })));
            }
            Op::CreateFile { .. } | Op::CreateRegion { .. } => {}
            _ if pools.is_empty() => {}
            Op::Malloc { pool, size } => {
                let count = pools.len();
                let live = &mut pools[pool % count];
                match live.pool.malloc(size) {
                    Ok(ptr) => {
                        prop_assert!(live.pool.contains(ptr.as_ptr()));
                        let block = Block { ptr, size, id: next_id };
                        next_id += 1;
                        fill(&block);
                        live.blocks.push(block);
                    }
                    Err(err) => prop_assert_eq!(err.errno(), libc::ENOMEM),
                }
            }
            Op::Calloc { pool, nmemb, size } => {
                let count = pools.len();
                let live = &mut pools[pool % count];
                match live.pool.calloc(nmemb, size) {
                    Ok(ptr) => {
                        let total = nmemb * size;
                        for i in sampled(total) {
                            // SAFETY: `i` is inside the fresh block.
                            let byte = unsafe { ptr.as_ptr().add(i).read() };
                            prop_assert_eq!(byte, 0, "calloc gave a non-zero byte at {}", i);
                        }
                        let block = Block { ptr, size: total, id: next_id };
                        next_id += 1;
                        fill(&block);
                        live.blocks.push(block);
                    }
                    Err(err) => prop_assert_eq!(err.errno(), libc::ENOMEM),
                }
            }
            Op::AlignedAlloc { pool, align_shift, size } => {
                let count = pools.len();
                let live = &mut pools[pool % count];
                let alignment = 1usize << align_shift;
                match live.pool.aligned_alloc(alignment, size) {
                    Ok(ptr) => {
                        prop_assert_eq!(ptr.as_ptr() as usize % alignment, 0);
                        let block = Block { ptr, size, id: next_id };
                        next_id += 1;
                        fill(&block);
                        live.blocks.push(block);
                    }
                    Err(err) => prop_assert_eq!(err.errno(), libc::ENOMEM),
                }
            }
            Op::Strdup { pool, len } => {
                let count = pools.len();
                let live = &mut pools[pool % count];
                let text = std::ffi::CString::new(vec![b'v'; len]).unwrap();
                match live.pool.strdup(&text) {
                    Ok(ptr) => {
                        // SAFETY: strdup gives a NUL-terminated copy.
                        prop_assert_eq!(unsafe { std::ffi::CStr::from_ptr(ptr.as_ptr()) }, text.as_c_str());
                        let block = Block { ptr: ptr.cast(), size: len + 1, id: next_id };
                        next_id += 1;
                        fill(&block);
                        live.blocks.push(block);
                    }
                    Err(err) => prop_assert_eq!(err.errno(), libc::ENOMEM),
                }
            }
            Op::Realloc { pool, block, size } => {
                let count = pools.len();
                let live = &mut pools[pool % count];
                if live.blocks.is_empty() {
                    continue;
                }
                let index = block % live.blocks.len();
                verify(&live.blocks[index])?;
                let old = &live.blocks[index];
                // SAFETY: a live block of this pool.
                match unsafe { live.pool.realloc(old.ptr.as_ptr(), size) } {
                    Ok(Some(ptr)) => {
                        prop_assert!(live.pool.contains(ptr.as_ptr()));
                        let moved = Block { ptr, size: old.size, id: old.id };
                        verify_prefix(&moved, old.size.min(size))?;
                        let block = Block { ptr, size, id: next_id };
                        next_id += 1;
                        fill(&block);
                        live.blocks[index] = block;
                    }
                    Ok(None) => {
                        prop_assert_eq!(size, 0);
                        live.blocks.swap_remove(index);
                    }
                    Err(err) => {
                        prop_assert_eq!(err.errno(), libc::ENOMEM);
                        verify(&live.blocks[index])?;
                    }
                }
            }
            Op::Free { pool, block } => {
                let count = pools.len();
                let live = &mut pools[pool % count];
                if live.blocks.is_empty() {
                    continue;
                }
                let count = live.blocks.len();
                let block = live.blocks.swap_remove(block % count);
                verify(&block)?;
                // SAFETY: a live block of this pool, freed once.
                unsafe { live.pool.free(block.ptr.as_ptr()) };
            }
            Op::UsableSize { pool, block } => {
                let live = &pools[pool % pools.len()];
                if let Some(block) = live.blocks.get(block % live.blocks.len().max(1)) {
                    // SAFETY: a live block of this pool.
                    let usable = unsafe { live.pool.usable_size(block.ptr.as_ptr()) };
                    prop_assert!(usable >= block.size);
                }
            }
            Op::Check { pool } => {
                let live = &pools[pool % pools.len()];
                prop_assert_eq!(live.pool.check(), Ok(true));
            }
            Op::Delete { pool } => {
                let live = pools.swap_remove(pool % pools.len());
                for block in &live.blocks {
                    verify(block)?;
                }
                drop(live);
            }
        }
    }
    for live in &pools {
        for block in &live.blocks {
            verify(block)?;
        }
        prop_assert_eq!(live.pool.check(), Ok(true));
    }
    drop(pools);
    Ok(())
}

#[test]
fn random_operation_sequences_match_the_model() {
    let cases: u32 = std::env::var("VMEM_MODEL_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    // Start each case with a file pool so most operations have a target.
    let strategy = proptest::collection::vec(op(), 5000..6000)
        .prop_map(|ops| std::iter::once(Op::CreateFile { extra_mib: 2 }).chain(ops).collect::<Vec<_>>());
    let result = runner.run(&strategy, run);
    if let Err(failure) = result {
        panic!("{failure}");
    }
    eprintln!("model: {cases} cases of 5000-6000 operations each");
}

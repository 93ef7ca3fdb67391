//! The property test of capacity under churn: random allocations, frees,
//! aligned allocations and reallocations on several threads, then every
//! block freed; the pool must serve (almost) all of itself again.

use std::ptr::NonNull;
use std::sync::Mutex;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use vmem::Pool;

use super::{fill_share, largest_block, new_pool, with_idle_threads, GOAL_FILL_1M_AFTER_CHURN, GOAL_LARGEST, KIB, MIB};

/// An operation of one thread in the property test.
#[derive(Clone, Debug)]
enum Op {
    Malloc {
        size: usize,
    },
    AlignedAlloc {
        align_shift: u32,
        size: usize,
    },
    Realloc {
        block: usize,
        size: usize,
    },
    Free {
        block: usize,
    },
    /// Hands a block to the shared list, for any thread to free.
    Give {
        block: usize,
    },
    /// Frees a block another thread (or this one) gave.
    FreeGiven,
}

/// Mostly small, some medium, a few large sizes (up to 3 MiB).
fn op_size() -> impl Strategy<Value = usize> {
    prop_oneof![
        10 => 1usize..=512,
        5 => 513usize..=64 * KIB,
        2 => 64 * KIB + 1..=3 * MIB,
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let block = any::<usize>();
    prop_oneof![
        30 => op_size().prop_map(|size| Op::Malloc { size }),
        8 => (4u32..=22, 1usize..=2 * MIB).prop_map(|(align_shift, size)| Op::AlignedAlloc { align_shift, size }),
        8 => (block, op_size()).prop_map(|(block, size)| Op::Realloc { block, size }),
        20 => block.prop_map(|block| Op::Free { block }),
        5 => block.prop_map(|block| Op::Give { block }),
        5 => Just(Op::FreeGiven),
    ]
}

/// Block addresses (as `usize`, so they cross threads) with their sizes.
type Given = Mutex<Vec<(usize, usize)>>;

/// Runs one thread's operations; frees what it still holds at the end.
fn run_ops(pool: &Pool, ops: &[Op], given: &Given) {
    let mut live: Vec<(NonNull<u8>, usize)> = Vec::new();
    let touch = |ptr: NonNull<u8>, size: usize| {
        // SAFETY: a live block of at least `size` >= 1 bytes.
        unsafe {
            ptr.as_ptr().write(1);
            ptr.as_ptr().add(size - 1).write(2);
        }
    };
    for op in ops {
        match *op {
            Op::Malloc { size } => {
                if let Ok(ptr) = pool.malloc(size) {
                    touch(ptr, size);
                    live.push((ptr, size));
                }
            }
            Op::AlignedAlloc { align_shift, size } => {
                if let Ok(ptr) = pool.aligned_alloc(1 << align_shift, size) {
                    assert_eq!(ptr.as_ptr() as usize % (1 << align_shift), 0, "aligned_alloc honours the alignment");
                    touch(ptr, size);
                    live.push((ptr, size));
                }
            }
            Op::Realloc { block, size } if !live.is_empty() => {
                let i = block % live.len();
                // SAFETY: a live block of this pool; replaced only on success.
                if let Ok(Some(ptr)) = unsafe { pool.realloc(live[i].0.as_ptr(), size) } {
                    touch(ptr, size);
                    live[i] = (ptr, size);
                }
            }
            Op::Free { block } if !live.is_empty() => {
                let (ptr, _) = live.swap_remove(block % live.len());
                // SAFETY: a live block of this pool, freed once.
                unsafe { pool.free(ptr.as_ptr()) };
            }
            Op::Give { block } if !live.is_empty() => {
                let (ptr, size) = live.swap_remove(block % live.len());
                given.lock().unwrap().push((ptr.as_ptr() as usize, size));
            }
            Op::FreeGiven => {
                let taken = given.lock().unwrap().pop();
                if let Some((addr, _)) = taken {
                    // SAFETY: a live block of this pool, taken off the shared
                    // list by this thread only, freed once.
                    unsafe { pool.free(addr as *mut u8) };
                }
            }
            _ => {}
        }
    }
    for (ptr, _) in live {
        // SAFETY: a live block of this pool, freed once.
        unsafe { pool.free(ptr.as_ptr()) };
    }
}

/// The figures of one property-test case: largest block, 1 MiB fill, taken
/// while the threads that ran `threads` are alive and blocked.
fn run_case(threads: &[Vec<Op>]) -> (f64, f64) {
    let pool = new_pool();
    let given: Given = Mutex::new(Vec::new());
    with_idle_threads(
        threads.len(),
        |i| run_ops(&pool, &threads[i], &given),
        || {
            // Blocks given and not taken back: freed by this thread.
            for (addr, _) in given.lock().unwrap().drain(..) {
                // SAFETY: a live block of this pool, freed once.
                unsafe { pool.free(addr as *mut u8) };
            }
            // The fill first: the pool's first answer to ENOMEM (reclaim,
            // purge) tidies it up, and the probes of the binary search, each
            // retried after it, would hide an untidy free space from a fill.
            let fill = fill_share(&pool, MIB);
            (largest_block(&pool), fill)
        },
    )
}

/// The property: whatever several threads did, once everything is freed the
/// pool gives one block of >= 93.7 % of itself and a 1 MiB fill of >= 98 %.
/// `VMEM_CAPACITY_CASES` (default 16) sets the number of cases and
/// `VMEM_CAPACITY_SEED` the seed (fixed by default, so runs repeat).
#[test]
fn property_random_threads_then_everything_freed() {
    let cases = std::env::var("VMEM_CAPACITY_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(16);
    let seed = std::env::var("VMEM_CAPACITY_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x11_ca9a);
    let config = Config {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        // Each case maps a pool and runs threads: keep shrinking bounded.
        max_shrink_iters: 10,
        ..Config::default()
    };
    let strategy = prop::collection::vec(prop::collection::vec(op(), 1..300), 2..=4);
    let worst = Mutex::new((f64::INFINITY, f64::INFINITY));
    let result = TestRunner::new(config).run(&strategy, |threads| {
        let (largest, fill) = run_case(&threads);
        let mut w = worst.lock().unwrap();
        *w = (w.0.min(largest), w.1.min(fill));
        if largest < GOAL_LARGEST || fill < GOAL_FILL_1M_AFTER_CHURN {
            return Err(TestCaseError::fail(format!(
                "largest block {largest:.1} % (goal >= {GOAL_LARGEST} %), 1 MiB fill {fill:.1} % (goal >= {GOAL_FILL_1M_AFTER_CHURN} %)"
            )));
        }
        Ok(())
    });
    let (largest, fill) = *worst.lock().unwrap();
    eprintln!(
        "capacity: property, {cases} cases (seed {seed}): worst largest block {largest:.1} %, worst 1 MiB fill {fill:.1} %"
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}

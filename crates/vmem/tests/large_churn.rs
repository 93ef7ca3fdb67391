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

use common::churn::{churn, served_by_jemalloc_after_warm_up, Xorshift};
use common::*;
use vmem::Pool;

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

/// A size of 16–64 KiB.
fn large(rng: &mut Xorshift) -> usize {
    16 * KIB + rng.next() % (48 * KIB + 1)
}

/// 150 live blocks of 16–64 KiB average about 6 MiB; churned, each class's
/// bin settles at the most that class ever held at once, about twice that.
/// With the budget that held (8 MiB) about 1.4 % of the operations went to
/// jemalloc's extent path for good.
#[test]
fn a_churned_working_set_of_large_blocks_stays_in_the_front_cache() {
    let pool = Pool::create(SHM, 512 * MIB).unwrap();
    let (count, rounds) = (150, 400);
    let mut rng = Xorshift(88172645463325252);
    let served_by_jemalloc = served_by_jemalloc_after_warm_up(&pool, || churn(&pool, &mut rng, large, count, rounds));
    let operations = (count * rounds) as u64;
    assert!(
        served_by_jemalloc * 1000 <= operations,
        "jemalloc served {served_by_jemalloc} of {operations} allocations after warm-up"
    );
    assert!(pool.check().unwrap());
}

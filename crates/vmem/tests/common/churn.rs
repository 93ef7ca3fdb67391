//! Churn: a thread's working set allocated, written and freed in shuffled
//! order, again and again; and what jemalloc served meanwhile.

use std::ptr::NonNull;
use std::sync::Barrier;
use std::thread;

use vmem::Pool;

/// An xorshift generator: the same sizes and orders on every run.
pub struct Xorshift(pub u64);

impl Xorshift {
    pub fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 as usize
    }
}

/// Allocates `count` blocks with sizes from `size`, writes each at both
/// ends, and frees them in shuffled order; `rounds` times.
pub fn churn(pool: &Pool, rng: &mut Xorshift, size: fn(&mut Xorshift) -> usize, count: usize, rounds: usize) {
    let mut blocks: Vec<NonNull<u8>> = Vec::with_capacity(count);
    for _ in 0..rounds {
        for _ in 0..count {
            let size = size(rng);
            let block = pool.malloc(size).unwrap();
            // SAFETY: a fresh block of `size` bytes.
            unsafe {
                block.as_ptr().write(1);
                block.as_ptr().add(size - 1).write(1);
            }
            blocks.push(block);
        }
        for i in (1..blocks.len()).rev() {
            blocks.swap(i, rng.next() % (i + 1));
        }
        for block in blocks.drain(..) {
            // SAFETY: a live block of this pool, freed once.
            unsafe { pool.free(block.as_ptr()) };
        }
    }
}

/// The allocations jemalloc's arena served (the pool's `nmalloc`) while
/// `churn` ran a second time, after a first run warmed the caches up. Both
/// run on a thread of their own: `stats()` empties the calling thread's
/// caches.
pub fn served_by_jemalloc_after_warm_up(pool: &Pool, mut churn: impl FnMut() + Send) -> u64 {
    let phases = Barrier::new(2);
    let mut served = 0;
    thread::scope(|scope| {
        scope.spawn(|| {
            churn();
            phases.wait();
            phases.wait();
            churn();
            phases.wait();
        });
        phases.wait();
        let before = pool.stats().nmalloc;
        phases.wait();
        phases.wait();
        served = pool.stats().nmalloc - before;
    });
    served
}

//! Blocks that carry a pattern derived from a tag, so that a block handed
//! out twice, or written through someone else's pointer, shows when it is
//! checked; and a small random-number generator for sizes and choices.

use vmem::Pool;

/// Bytes between two stamped bytes of a block (a prime, so the stamps of
/// two overlapping blocks rarely line up).
const STRIDE: usize = 257;

/// A live block of a pool, stamped with its tag. Only a block's address is
/// kept, so it may cross threads.
pub struct Tagged {
    addr: usize,
    size: usize,
    tag: u64,
}

/// The byte a block tagged `tag` holds at `offset`.
fn byte(tag: u64, offset: usize) -> u8 {
    ((tag.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8) ^ (offset.wrapping_mul(7) as u8)
}

impl Tagged {
    /// Allocates `size` bytes of `pool` and stamps them with `tag`.
    pub fn new(pool: &Pool, size: usize, tag: u64) -> vmem::Result<Tagged> {
        let ptr = pool.malloc(size)?;
        let block = Tagged { addr: ptr.as_ptr() as usize, size, tag };
        assert!(pool.contains(ptr.as_ptr()), "block {:#x} outside its pool", block.addr);
        for offset in block.offsets() {
            // SAFETY: inside the live block of `size` bytes just allocated.
            unsafe { (block.addr as *mut u8).add(offset).write(byte(tag, offset)) };
        }
        Ok(block)
    }

    /// The stamped offsets: every `STRIDE`-th byte and the last one.
    fn offsets(&self) -> impl Iterator<Item = usize> {
        (0..self.size).step_by(STRIDE).chain(self.size.checked_sub(1))
    }

    /// Panics unless the block still holds its stamps.
    pub fn verify(&self) {
        for offset in self.offsets() {
            // SAFETY: inside a live block of `size` bytes (it is freed only
            // by `free`, which consumes it).
            let found = unsafe { (self.addr as *const u8).add(offset).read() };
            assert_eq!(
                found,
                byte(self.tag, offset),
                "block {:#x} ({} bytes, tag {}) overwritten at offset {offset}",
                self.addr,
                self.size,
                self.tag
            );
        }
    }

    /// Checks the block's stamps and frees it.
    pub fn free(self, pool: &Pool) {
        self.verify();
        // SAFETY: a live block of `pool`, freed once (`self` is consumed).
        unsafe { pool.free(self.addr as *mut u8) };
    }
}

/// A xorshift generator: sizes and choices that differ per thread and run
/// the same every time.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from `seed` (any value).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1)
    }

    /// The next number.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `bound` (not 0).
    pub fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    /// A block size: mostly small classes, some pages, a few large blocks
    /// up to 1 MiB (the largest a front cache keeps).
    pub fn size(&mut self) -> usize {
        match self.below(100) {
            0..=89 => 1 + self.below(1024),
            90..=98 => 1024 + self.below(64 << 10),
            _ => (64 << 10) + self.below(960 << 10),
        }
    }
}

/// How many 1 MiB blocks `pool` gives before it is full; all are freed and
/// the calling thread's caches flushed afterwards.
pub fn refill_1mib(pool: &Pool) -> usize {
    let blocks: Vec<_> = std::iter::from_fn(|| pool.malloc(1 << 20).ok()).collect();
    let count = blocks.len();
    for block in blocks {
        // SAFETY: live blocks of `pool`, each freed once.
        unsafe { pool.free(block.as_ptr()) };
    }
    pool.flush();
    count
}

//! Which blocks of a pool are known to several threads, and in which
//! incarnation: a face whose threads hand each other blocks by a plain value
//! (the Node.js binding's `ref`) names a block by its offset *and* a
//! generation, so that a stale reference — to a block freed since, maybe
//! with its offset handed out again — is refused rather than freeing or
//! showing someone else's block.
//!
//! Only blocks given a generation ([`Pool::ref_block`]) are listed; the
//! calls that take a generation check it and end the listing when they free
//! the block. Generations come from one process-wide counter, so a
//! generation names one block of one pool for the life of the process.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::error::{Error, Result};
use crate::pool::Pool;

/// The next generation: from 1 up, never reused.
static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

/// Offset in the pool → generation of every listed live block.
#[derive(Default)]
pub(crate) struct BlockTable(Mutex<HashMap<usize, u64>>);

impl BlockTable {
    fn lock(&self) -> MutexGuard<'_, HashMap<usize, u64>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The error of a block reference that names no live block, reported.
#[cold]
fn not_live(offset: usize, generation: u64) -> Error {
    Error::new(
        libc::EINVAL,
        format!("block {offset:#x} generation {generation} is not live: freed already, or never referenced"),
    )
    .report()
}

impl Pool {
    /// The block at `offset` of the pool's memory, if `offset` is inside it.
    fn block_at(&self, offset: usize) -> Option<*mut u8> {
        (offset < self.size()).then(|| self.base().wrapping_add(offset))
    }

    /// Lists the live block at `offset` (bytes from [`base`](Pool::base))
    /// for sharing, and gives its generation: the same one for as long as
    /// the block lives, a new one once its offset holds another block.
    ///
    /// # Safety
    ///
    /// `offset` is the offset of a live block of this pool, and it stays
    /// listed until freed by [`free_ref`](Pool::free_ref) or
    /// [`realloc_ref`](Pool::realloc_ref), never by [`free`](Pool::free).
    pub unsafe fn ref_block(&self, offset: usize) -> u64 {
        *self.blocks().lock().entry(offset).or_insert_with(|| NEXT_GENERATION.fetch_add(1, Ordering::Relaxed))
    }

    /// The usable size of the listed block at `offset` if its generation is
    /// `generation`.
    ///
    /// # Errors
    ///
    /// `EINVAL` when no live block of that generation is at `offset`.
    pub fn ref_usable_size(&self, offset: usize, generation: u64) -> Result<usize> {
        let table = self.blocks().lock();
        match (table.get(&offset), self.block_at(offset)) {
            // SAFETY: listed, so a live block of this pool; the lock keeps
            // it from being freed through its generation meanwhile.
            (Some(&listed), Some(block)) if listed == generation => Ok(unsafe { self.usable_size(block) }),
            _ => Err(not_live(offset, generation)),
        }
    }

    /// Frees the listed block at `offset` if its generation is `generation`:
    /// of several threads freeing one block, exactly one succeeds.
    ///
    /// # Errors
    ///
    /// `EINVAL` when no live block of that generation is at `offset`
    /// (nothing is freed).
    pub fn free_ref(&self, offset: usize, generation: u64) -> Result<()> {
        let mut table = self.blocks().lock();
        let Some(block) = self.block_at(offset).filter(|_| table.get(&offset) == Some(&generation)) else {
            drop(table);
            return Err(not_live(offset, generation));
        };
        table.remove(&offset);
        drop(table);
        // SAFETY: it was listed with this generation, so a live block of
        // this pool, and unlisting it made this call its one owner.
        unsafe { self.free(block) };
        Ok(())
    }

    /// Resizes the listed block at `offset` if its generation is
    /// `generation` (as [`realloc`](Pool::realloc), `size` at least 1): the
    /// new block's offset, not listed. On error the block is untouched and
    /// stays listed. The pool's block table is held meanwhile, so a log
    /// callback (see [`set_funcs`](crate::set_funcs)) must not call the
    /// `*_ref` functions of the same pool.
    ///
    /// # Errors
    ///
    /// `EINVAL` when no live block of that generation is at `offset`;
    /// `ENOMEM` when the pool has no room.
    pub fn realloc_ref(&self, offset: usize, generation: u64, size: usize) -> Result<usize> {
        let mut table = self.blocks().lock();
        let Some(block) = self.block_at(offset).filter(|_| table.get(&offset) == Some(&generation)) else {
            drop(table);
            return Err(not_live(offset, generation));
        };
        // Under the lock, so that no other thread frees the block meanwhile.
        // SAFETY: listed with this generation, so a live block of this pool.
        let moved = unsafe { self.realloc(block, size.max(1)) }?;
        table.remove(&offset);
        Ok(moved.map_or(0, |moved| moved.as_ptr() as usize - self.base() as usize))
    }
}

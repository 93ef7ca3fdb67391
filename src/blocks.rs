//! Blocks handed between threads by reference (`pool.ref` / `pool.view` in
//! JavaScript): the core's block table, by offset and generation. Each call
//! answers a number, -1 on failure with the error reported (`lastErrno`).

use napi_derive::napi;

use crate::{failed, handles};

/// No pool behind the handle: deleted meanwhile (the TypeScript layer checks
/// first, so this is only a backstop).
fn no_pool() -> f64 {
    failed(vmem::Error::new(libc::EINVAL, "the pool was deleted").report())
}

/// Lists the live block at `offset` for sharing (`Pool::ref_block`): its
/// generation. The TypeScript layer passes only offsets of live blocks of
/// this pool that it has not freed through `poolFree`.
#[napi]
pub fn pool_ref(handle: u32, offset: f64) -> f64 {
    // SAFETY: the offset of a live block of this pool (see above), freed
    // from now on only through poolFreeRef / poolReallocRef.
    handles::with_pool(handle, |pool| unsafe { pool.ref_block(offset as usize) } as f64).unwrap_or_else(no_pool)
}

/// The usable size of the listed block at `offset` of this generation, or
/// -1 (`EINVAL`) when it is not live.
#[napi]
pub fn pool_ref_usable_size(handle: u32, offset: f64, generation: f64) -> f64 {
    handles::with_pool(handle, |pool| {
        pool.ref_usable_size(offset as usize, generation as u64).map_or_else(failed, |size| size as f64)
    })
    .unwrap_or_else(no_pool)
}

/// Frees the listed block at `offset` of this generation: 0, or -1
/// (`EINVAL`) when it is not live.
#[napi]
pub fn pool_free_ref(handle: u32, offset: f64, generation: f64) -> f64 {
    handles::with_pool(handle, |pool| pool.free_ref(offset as usize, generation as u64).map_or_else(failed, |()| 0.0))
        .unwrap_or_else(no_pool)
}

/// Resizes the listed block at `offset` of this generation to `size` (at
/// least 1) bytes: the new block's offset, or -1 (`EINVAL` when it is not
/// live, `ENOMEM` when the pool is full; the block is then untouched).
#[napi]
pub fn pool_realloc_ref(handle: u32, offset: f64, generation: f64, size: f64) -> f64 {
    handles::with_pool(handle, |pool| {
        pool.realloc_ref(offset as usize, generation as u64, size as usize).map_or_else(failed, |moved| moved as f64)
    })
    .unwrap_or_else(no_pool)
}

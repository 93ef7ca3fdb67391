//! The Node.js binding of vmem: translation only. Every behaviour lives in the
//! `vmem` crate; the TypeScript layer (`index.ts`) validates arguments, tracks
//! live views and builds them over the pool-wide ArrayBuffer made here.
//!
//! Pools are named by small integer handles, valid on the JavaScript thread
//! that made or attached them: each handle holds a `SharedPool`, so threads
//! of one process share a pool (`pool_share` / `attach_pool`), blocks they
//! hand each other go through the core's block table (`blocks`), and the
//! file work of creating and deleting runs off the event loop (`tasks`).
//! Allocation calls answer with byte offsets into the pool
//! (`-1` on failure, with the errno in `lastErrno`), so the hot path throws
//! nothing and makes no JavaScript object besides the number. The hot calls
//! are plain N-API callbacks (`hot`): napi-rs's generated wrappers cost ten
//! times the allocation itself.

#![deny(unsafe_op_in_unsafe_fn)]

pub mod blocks;
mod handles;
mod hot;
pub mod tasks;

use std::rc::Rc;
use std::sync::Arc;

use napi::bindgen_prelude::{ArrayBuffer, Function, Object, Uint8ArraySlice};
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi::{Env, JsValue, Result, Status};
use napi_derive::napi;
use vmem::{Pool, SharedPool};

use handles::PoolSlot;

/// Gives the offset that means "failed". `err` is already reported: the
/// core records every error it returns, in the one store `lastErrno` and
/// `errormsg` read.
pub(crate) fn failed(_reported: vmem::Error) -> f64 {
    -1.0
}

/// The errno of the calling thread's last failed vmem call.
#[napi]
pub fn last_errno() -> i32 {
    vmem::last_errno()
}

/// The calling thread's last error message (`vmem_errormsg`).
#[napi]
pub fn errormsg() -> String {
    vmem::errormsg()
}

/// `vmem_check_version`: null when API `major.minor` is provided.
#[napi]
pub fn check_version(major: u32, minor: u32) -> Option<String> {
    vmem::check_version(major, minor).map(str::to_owned)
}

/// The usable size that allocating `size` bytes gives, without allocating
/// (jemalloc's `nallocx`); 0 when impossible.
#[napi]
pub fn usable_size_for(size: f64) -> f64 {
    vmem::usable_size_for(size as usize) as f64
}

/// The core's size classes (`vmem::size_classes`), handed to JavaScript
/// once so that its reuse lists sort blocks by the same table.
#[napi(object)]
pub struct NativeSizeClasses {
    /// Every class size the front cache serves, ascending.
    pub classes: Vec<u32>,
    /// jemalloc's page size.
    pub page: u32,
}

/// The size classes of `vmem::size_classes`.
#[napi]
pub fn size_classes() -> NativeSizeClasses {
    let table = vmem::size_classes();
    NativeSizeClasses { classes: table.classes.iter().map(|&size| size as u32).collect(), page: table.page as u32 }
}

/// Prints through the library's default print function (`VMEM_LOG_FILE` or
/// stderr).
#[napi]
pub fn print_default(text: String) {
    vmem::print(&text);
}

/// Routes the library's log lines to a JavaScript function (called later, on
/// the thread that set it), or back to the default with null.
#[napi]
pub fn set_log_print(print: Option<Function<String, ()>>) -> Result<()> {
    let Some(print) = print else {
        vmem::set_funcs(None);
        return Ok(());
    };
    let print = print.build_threadsafe_function::<String>().callee_handled::<false>().weak::<true>().build()?;
    vmem::set_funcs(Some(Arc::new(move |text: &str| {
        print.call(text.to_owned(), ThreadsafeFunctionCallMode::NonBlocking);
    })));
    Ok(())
}

/// `VMEM_MIN_POOL`.
#[napi]
pub const MIN_POOL: u32 = vmem::MIN_POOL as u32;
/// `VMEM_MAJOR_VERSION`.
#[napi]
pub const MAJOR_VERSION: u32 = vmem::MAJOR_VERSION;
/// `VMEM_MINOR_VERSION`.
#[napi]
pub const MINOR_VERSION: u32 = vmem::MINOR_VERSION;

pub(crate) fn register(result: vmem::Result<Pool>, region: Option<handles::RegionRef>) -> i32 {
    match result {
        Ok(pool) => handles::insert(SharedPool::new(pool), region) as i32,
        Err(err) => {
            failed(err);
            -1
        }
    }
}

/// `vmem_create`: a pool handle, or -1 on failure (see `lastErrno`).
#[napi]
pub fn create_pool(dir: String, size: f64) -> i32 {
    register(Pool::create(dir, size as usize), None)
}

/// Lists the pool of `handle` for other threads (`SharedPool::share`): its
/// id, or -1 (`EINVAL` reported) when the pool lives in a region buffer,
/// which belongs to this thread.
#[napi]
pub fn pool_share(handle: u32) -> f64 {
    match handles::get(handle).and_then(|slot| slot.share()) {
        Some(id) => id as f64,
        None => failed(
            vmem::Error::new(
                libc::EINVAL,
                "a pool made in a region cannot be shared: its buffer belongs to the thread that made it",
            )
            .report(),
        ),
    }
}

/// A handle on this thread of the shared pool with this id
/// (`SharedPool::attach`), or -1 (`EINVAL` reported) when that pool is gone.
#[napi]
pub fn attach_pool(id: f64) -> i32 {
    match SharedPool::attach(id as u64) {
        Ok(pool) => handles::insert(pool, None) as i32,
        Err(err) => failed(err) as i32,
    }
}

/// The system's page size: a region pool starts on a page boundary.
fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(page).ok().filter(|page| page.is_power_of_two()).unwrap_or(4096)
}

/// The system's page size in bytes (4096 on most Linux systems, 16384 on
/// Apple Silicon).
#[napi]
pub fn page_size_bytes() -> u32 {
    page_size() as u32
}

/// `vmem_create_in_region` over the page-aligned interior of `region` that
/// starts past its first byte (so the pool's ArrayBuffer never starts where
/// the caller's does); a handle, or -1 on failure. Refuses (`EBUSY`) memory
/// that a live pool of the process already uses: two pools over one buffer,
/// or a pool inside another pool's memory, would hand out the same bytes
/// twice or outlive the memory they run in.
///
/// `buffer` is `region`'s ArrayBuffer or SharedArrayBuffer: the pool holds a
/// strong reference to it until the pool is dropped.
#[napi]
pub fn create_pool_in_region(env: Env, region: Uint8ArraySlice, buffer: Object) -> i32 {
    let start = region.as_ptr() as usize;
    let end = start + region.len();
    let interior = (start + 1).next_multiple_of(page_size());
    let size = end.saturating_sub(interior);
    // SAFETY: the running callback's env and one of its arguments.
    let Some(keep) = (unsafe { handles::RegionRef::new(env.raw(), buffer.raw()) }) else {
        return failed(vmem::Error::new(libc::ENOMEM, "cannot reference the region's buffer").report()) as i32;
    };
    // SAFETY: the interior lies inside the caller's buffer, which the pool
    // keeps alive (`keep`) until it is dropped, and which the TypeScript
    // layer accepts only when its length is fixed and it cannot be
    // transferred; no other pool uses it (the core refuses an overlap
    // atomically).
    let pool = unsafe { Pool::create_in_region_exclusive(interior as *mut u8, size) };
    register(pool, Some(keep))
}

fn slot(handle: u32) -> Result<Rc<PoolSlot>> {
    handles::get(handle).ok_or_else(|| napi::Error::new(Status::InvalidArg, "no such pool"))
}

/// The pool's memory as one external ArrayBuffer (zero copy). Fails on
/// Node.js versions whose ArrayBuffers stop at 4 GiB.
#[napi]
pub fn pool_memory(env: &Env, handle: u32) -> Result<ArrayBuffer<'_>> {
    let slot = slot(handle)?;
    let (base, size) = slot.range().ok_or_else(|| napi::Error::new(Status::InvalidArg, "pool deleted"))?;
    // SAFETY: the mapping stays valid while `slot` lives, which the
    // finalizer drops only when the ArrayBuffer is collected.
    unsafe { ArrayBuffer::from_external(env, base as *mut u8, size, slot, |_, slot| drop(slot)) }
}

/// Releases the pool. Its ArrayBuffer is detached first, so every view reads
/// as length 0 before the memory goes away. If JavaScript already moved the
/// ArrayBuffer's memory elsewhere (`transfer()`), or it cannot be detached,
/// the pool stays until the ArrayBuffer that holds it is collected.
#[napi]
pub fn pool_delete(handle: u32, memory: Option<ArrayBuffer>) {
    if let Some(slot) = release(handle, memory) {
        slot.delete();
    }
}

/// Ends `handle` and detaches its ArrayBuffer: the handle's slot when the
/// pool may go now, None when it is gone already or must wait for its
/// ArrayBuffer to be collected (see `pool_delete`).
pub(crate) fn release(handle: u32, memory: Option<ArrayBuffer>) -> Option<Rc<PoolSlot>> {
    let slot = handles::remove(handle)?;
    let detached_here = match memory {
        None => true,
        Some(memory) => !memory.is_detached().unwrap_or(true) && memory.detach().is_ok(),
    };
    detached_here.then_some(slot)
}

/// Forgets a handle whose JavaScript object was collected without
/// `delete()`: the memory goes once its ArrayBuffer is collected too.
#[napi]
pub fn pool_release(handle: u32) {
    drop(handles::remove(handle));
}

/// `vmem_check`: 1 consistent, 0 inconsistent, -1 the check could not run.
#[napi]
pub fn pool_check(handle: u32) -> i32 {
    let checked = handles::get(handle).and_then(|slot| slot.with(|pool| pool.check()));
    match checked {
        Some(Ok(true)) => 1,
        Some(Ok(false)) => 0,
        Some(Err(err)) => {
            failed(err);
            -1
        }
        None => -1,
    }
}

/// Statistics of one pool, in bytes unless named otherwise (`PoolStats` in
/// the TypeScript API).
#[napi(object)]
pub struct NativeStats {
    /// Size of the pool's memory.
    pub size: f64,
    /// Bytes of the pool the allocator holds now (live blocks and what it keeps for reuse).
    pub used: f64,
    /// Bytes in live allocations, by size class.
    pub allocated: f64,
    /// Bytes in pages that hold live allocations.
    pub active: f64,
    /// Bytes in extents the allocator holds, live or dirty.
    pub mapped: f64,
    /// Bytes kept for reuse with their pages returned to the file system.
    pub retained: f64,
    /// Allocator bookkeeping, kept outside the pool.
    pub metadata: f64,
    /// Allocations served so far.
    pub nmalloc: f64,
    /// Frees so far.
    pub ndalloc: f64,
}

#[napi]
pub fn pool_stats(handle: u32) -> Option<NativeStats> {
    let stats = handles::get(handle)?.with(Pool::stats)?;
    Some(NativeStats {
        size: stats.size as f64,
        used: stats.used as f64,
        allocated: stats.allocated as f64,
        active: stats.active as f64,
        mapped: stats.mapped as f64,
        retained: stats.retained as f64,
        metadata: stats.metadata as f64,
        nmalloc: stats.nmalloc as f64,
        ndalloc: stats.ndalloc as f64,
    })
}

/// The text `vmem_stats_print` prints.
#[napi]
pub fn pool_stats_text(handle: u32, opts: String) -> String {
    handles::get(handle).and_then(|slot| slot.with(|pool| pool.stats_text(&opts))).unwrap_or_default()
}

/// Gives back what the calling thread caches for the pool (`Pool::flush`).
#[napi]
pub fn pool_flush(handle: u32) {
    if let Some(slot) = handles::get(handle) {
        slot.with(Pool::flush);
    }
}

/// Returns the pages of freed memory to the file system now.
#[napi]
pub fn pool_purge(handle: u32) {
    if let Some(slot) = handles::get(handle) {
        slot.with(Pool::purge);
    }
}

/// Adds the hot calls (`hot`) to the module's exports.
#[napi(module_exports)]
pub fn init(mut exports: Object, env: Env) -> Result<()> {
    hot::export(&env, &mut exports)
}

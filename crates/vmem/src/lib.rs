#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

use std::ffi::{CStr, CString};

mod alloc_api;
mod arena;
mod barrier;
mod blocks;
mod ctl;
mod error;
#[doc(hidden)]
pub mod fork;
mod front;
mod hint;
mod home_cache;
#[doc(hidden)]
pub mod log;
mod mapping;
mod pagemap;
mod placement;
mod pool;
mod registry;
mod shares;
mod sizeclass;
mod slots;
mod space;
mod stats;
mod sys;
mod tcache;
mod thread_cache;
mod thread_entries;
mod threads;
mod valgrind;

pub use alloc_api::SharedPool;
/// The `Allocator` trait and collections this crate's allocators plug into
/// (`&Pool`, [`SharedPool`]), re-exported so their versions always match.
pub use allocator_api2;
pub use error::{errormsg, errormsg_c, last_errno, Error, Result};
pub use log::{level as log_level, print, set_funcs, PrintFn};
pub use mapping::MemoryKind;
pub use pool::Pool;
pub use stats::PoolStats;

/// The smallest pool size: 14 MiB (libvmem's `VMEM_MIN_POOL`).
pub const MIN_POOL: usize = 14 << 20;

/// The major version of the libvmem API this library provides.
pub const MAJOR_VERSION: u32 = 1;

/// The minor version of the libvmem API this library provides.
pub const MINOR_VERSION: u32 = 1;

/// Checks that this library provides API `major.minor` (libvmem's
/// `vmem_check_version`): `None` when it does, else the reason.
///
/// Any major mismatch fails; a newer minor version passes.
///
/// ```
/// assert_eq!(vmem::check_version(1, 0), None);
/// assert_eq!(vmem::check_version(2, 0), Some("libvmem major version mismatch (need 2, found 1)"));
/// assert_eq!(vmem::check_version(1, 2), Some("libvmem minor version mismatch (need 2, found 1)"));
/// ```
pub fn check_version(major: u32, minor: u32) -> Option<&'static str> {
    // The reason is ASCII text, so never fails to convert.
    check_version_c(major, minor).map(|reason| reason.to_str().unwrap_or_default())
}

/// [`check_version`] with the reason as a C string, for the C library's
/// `vmem_check_version`, which hands out a static string: the same text,
/// kept once for the life of the process.
#[doc(hidden)]
pub fn check_version_c(major: u32, minor: u32) -> Option<&'static CStr> {
    crate::vlog!(log::Level::Call, "check_version major {major} minor {minor}");
    let reason = if major != MAJOR_VERSION {
        version_message(true, major)
    } else if minor > MINOR_VERSION {
        version_message(false, minor)
    } else {
        return None;
    };
    // Returned as a reason, not an `Error`, but a failure all the same.
    Error::new(libc::EINVAL, reason.to_string_lossy()).report();
    Some(reason)
}

/// The usable size that allocating `size` bytes gives, without allocating;
/// the same in every pool. 0 when no allocation of that size is possible.
///
/// Requests round up to jemalloc's size classes (8, 16, 32, 48, 64, 80, …,
/// four per doubling) up to 1 MiB; larger ones to whole pages.
///
/// ```
/// assert_eq!(vmem::usable_size_for(100), 112);
/// assert_eq!(vmem::usable_size_for(33 << 10), 40 << 10);
/// assert_eq!(vmem::usable_size_for(1 << 20), 1 << 20);
/// // Past 1 MiB, whole pages of jemalloc's: 4 KiB on most systems, 64 KiB
/// // on aarch64 Linux (where jemalloc is built for 64 KiB-page kernels).
/// let page = vmem::usable_size_for((1 << 20) + 1) - (1 << 20);
/// assert!(page.is_power_of_two() && page >= 4096);
/// assert_eq!(vmem::usable_size_for(usize::MAX), 0);
/// let pool = vmem::Pool::create(std::env::temp_dir(), vmem::MIN_POOL)?;
/// for size in [100, 33 << 10, 3 << 20] {
///     let block = pool.malloc(size)?;
///     // SAFETY: a live block of this pool.
///     assert_eq!(unsafe { pool.usable_size(block.as_ptr()) }, vmem::usable_size_for(size));
/// }
/// # Ok::<(), vmem::Error>(())
/// ```
pub fn usable_size_for(size: usize) -> usize {
    sizeclass::SizeClasses::get().usable_size(size)
}

/// jemalloc's size classes as this library serves them, so that a face
/// which keeps freed blocks for reuse (the Node.js binding) sorts them by
/// class from the same table as the core rather than deriving its own.
#[derive(Clone, Copy, Debug)]
pub struct SizeClassTable {
    /// Every class size up to the largest class the front cache serves,
    /// ascending: a request of `size` bytes (at most the last entry) gets the
    /// first class that holds it, and a block of that class is
    /// interchangeable with any other of it.
    pub classes: &'static [usize],
    /// jemalloc's page: above the last class, requests round up to whole
    /// pages (and larger, by jemalloc's own large classes).
    pub page: usize,
}

/// The size classes of [`SizeClassTable`], read from jemalloc once.
///
/// ```
/// let table = vmem::size_classes();
/// assert_eq!(table.classes[0], 8);
/// assert!(table.classes.windows(2).all(|pair| pair[0] < pair[1]));
/// // The classes end at 1 MiB with 4 KiB pages, at 16 KiB with 64 KiB ones.
/// let last = *table.classes.last().unwrap();
/// for size in [1, 100, 4000, 33 << 10, last].into_iter().filter(|&size| size <= last) {
///     let class = table.classes.iter().copied().find(|&class| class >= size).unwrap();
///     assert_eq!(class, vmem::usable_size_for(size));
/// }
/// ```
pub fn size_classes() -> SizeClassTable {
    let classes = sizeclass::SizeClasses::get();
    SizeClassTable { classes: classes.sizes(), page: 1 << classes.page_shift() }
}

/// Starts jemalloc and reads its size classes now rather than in the first
/// [`Pool::create`]; for `libvmem.so`'s load-time constructor.
#[doc(hidden)]
pub fn init() {
    sizeclass::SizeClasses::get();
    fork::install();
}

/// The reasons for version mismatches made so far (see [`version_message`]);
/// held across `fork`.
type VersionMessages = Vec<((bool, u32), &'static CStr)>;
static VERSION_MESSAGES: std::sync::Mutex<VersionMessages> = std::sync::Mutex::new(Vec::new());

/// The static reason for a version mismatch, NUL-terminated for C, made once
/// per distinct request and kept for the life of the process (C callers
/// must not free it). A
/// list, not a hash map: a program asks for one or two versions, and
/// memcheck sees what a list holds as reachable (a hash table's pointers
/// point into the middle of its block: "possibly lost").
fn version_message(major: bool, need: u32) -> &'static CStr {
    let mut made = VERSION_MESSAGES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(&(_, message)) = made.iter().find(|(key, _)| *key == (major, need)) {
        return message;
    }
    let which = if major { "major" } else { "minor" };
    let found = if major { MAJOR_VERSION } else { MINOR_VERSION };
    let text = format!("libvmem {which} version mismatch (need {need}, found {found})");
    // Digits and letters only: no NUL inside.
    let message: &'static CStr = Box::leak(CString::new(text).unwrap_or_default().into_boxed_c_str());
    made.push(((major, need), message));
    message
}

//! `fork()` safety: no lock of the library is held in a child.
//!
//! A child of a multithreaded process has only the thread that forked; a
//! lock another thread held at that moment would stay held for ever. So
//! before `fork` (a `pthread_atfork` handler) the forking thread takes every
//! lock of the library, in the order the library nests them, and after it
//! releases them in the parent and in the child. jemalloc does the same for
//! its own locks; its handlers run after ours before the fork (they were
//! registered first), and no lock of ours is taken under one of jemalloc's
//! (the extent hooks run outside jemalloc's locks while it does not retain
//! extents), so the two sets cannot wait on each other.
//!
//! The locks are std's: on Linux a futex word with no queue, which the
//! child can release whatever other threads were waiting for it in the
//! parent (a lock with a queue of waiters, such as parking_lot's, may hand
//! itself to a waiter that the child does not have).
//!
//! Other layers (`libvmem.so`) add their own process-wide locks with
//! [`hold_first`] (taken before the library's: they are held while calling
//! it) and [`hold_last`] (taken after: the library calls into code that
//! takes them).
//!
//! A pool's memory is a shared mapping: after `fork` parent and child see
//! the same memory under two copies of the allocator's state, so only one of
//! them may allocate from a pool the parent made.

use std::cell::UnsafeCell;
use std::sync::{Arc, Mutex, MutexGuard, Once, PoisonError};

/// Releases what [`ForkLocks::hold`] took; `true` in the child.
pub type Release<'a> = Box<dyn FnOnce(bool) + 'a>;

/// Something whose locks the library must hold across `fork`.
pub trait ForkLocks: Send + Sync {
    /// Takes the locks (before `fork`); the returned function releases them
    /// (after it, in the parent or in the child, on the same thread).
    fn hold(&self) -> Release<'_>;
}

/// A lock that only needs holding across `fork`.
impl<T: Send> ForkLocks for Mutex<T> {
    fn hold(&self) -> Release<'_> {
        let guard = self.lock().unwrap_or_else(PoisonError::into_inner);
        Box::new(move |_| drop(guard))
    }
}

/// A lock that only needs holding across `fork`, taken for writing.
impl<T: Send + Sync> ForkLocks for std::sync::RwLock<T> {
    fn hold(&self) -> Release<'_> {
        let guard = self.write().unwrap_or_else(PoisonError::into_inner);
        Box::new(move |_| drop(guard))
    }
}

/// Every lock to hold, in taking order: other layers' first ones, the live
/// pools' (by pool id, in the order each pool nests them), the library's
/// process-wide ones, other layers' last ones.
struct Tracked {
    first: Vec<&'static dyn ForkLocks>,
    pools: Vec<(u64, Vec<Arc<dyn ForkLocks>>)>,
    globals: Vec<&'static dyn ForkLocks>,
    last: Vec<&'static dyn ForkLocks>,
}

static TRACKED: Mutex<Tracked> =
    Mutex::new(Tracked { first: Vec::new(), pools: Vec::new(), globals: Vec::new(), last: Vec::new() });

/// What the forking thread holds from `prepare` to `parent` or `child`.
struct Held {
    /// Keeps `TRACKED`, and so every tracked lock, as it is.
    _tracked: MutexGuard<'static, Tracked>,
    /// In taking order.
    releases: Vec<Release<'static>>,
}

/// Written by `prepare` and taken by `parent` or `child`, all on the
/// forking thread while it holds `TRACKED` (a second forking thread waits in
/// `prepare` for it).
struct HeldAcrossFork(UnsafeCell<Option<Held>>);

// SAFETY: only the thread that holds TRACKED touches it (above).
unsafe impl Sync for HeldAcrossFork {}

static HELD: HeldAcrossFork = HeldAcrossFork(UnsafeCell::new(None));

fn tracked() -> MutexGuard<'static, Tracked> {
    TRACKED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Installs the `fork` handlers once, with the library's process-wide locks
/// (in the order they nest: logging happens under any of the others).
pub(crate) fn install() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        tracked().globals.extend([
            &crate::registry::LIVE as &dyn ForkLocks,
            &crate::thread_entries::LIVE_POOLS,
            &crate::VERSION_MESSAGES,
            &crate::log::FORK_LOCKS,
        ]);
        // SAFETY: the handlers are plain `extern "C"` functions that live as
        // long as the library; pthread_atfork only records them.
        unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
    });
}

/// Tracks pool `pool_id`'s locks, given in the order the pool nests them.
pub(crate) fn track(pool_id: u64, locks: Vec<Arc<dyn ForkLocks>>) {
    install();
    tracked().pools.push((pool_id, locks));
}

/// Holds `locks` across `fork` before every lock of the library: for a
/// layer that calls the library while holding them.
pub fn hold_first(locks: &'static dyn ForkLocks) {
    install();
    tracked().first.push(locks);
}

/// Holds `locks` across `fork` after every lock of the library: for locks
/// taken by code the library calls (an allocator, say).
pub fn hold_last(locks: &'static dyn ForkLocks) {
    install();
    tracked().last.push(locks);
}

/// Stops tracking pool `pool_id` (it is being deleted).
pub(crate) fn untrack(pool_id: u64) {
    let pools = &mut tracked().pools;
    pools.retain(|(id, _)| *id != pool_id);
    if pools.is_empty() {
        // No heap block outlives the last pool.
        *pools = Vec::new();
    }
}

extern "C" fn prepare() {
    let guard = tracked();
    // SAFETY: the tracked locks live at least as long as the guard: `Arc`s
    // and statics in TRACKED, which nobody changes while the guard is held,
    // and the guard is dropped only after every release has run.
    let tracked: &'static Tracked = unsafe { &*(&*guard as *const Tracked) };
    let pools = tracked.pools.iter().flat_map(|(_, locks)| locks.iter().map(|lock| &**lock));
    let all = tracked.first.iter().copied().chain(pools).chain(tracked.globals.iter().copied());
    let releases = all.chain(tracked.last.iter().copied()).map(|locks| locks.hold()).collect();
    // SAFETY: this thread holds TRACKED (see HeldAcrossFork).
    unsafe { *HELD.0.get() = Some(Held { _tracked: guard, releases }) };
}

fn release(in_child: bool) {
    // SAFETY: `prepare` ran on this thread and still holds TRACKED.
    let Some(held) = (unsafe { (*HELD.0.get()).take() }) else { return };
    held.releases.into_iter().rev().for_each(|release| release(in_child));
}

extern "C" fn parent() {
    release(false);
}

extern "C" fn child() {
    release(true);
}

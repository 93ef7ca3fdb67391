//! Asymmetric memory barriers: a frequent side that pays (almost) nothing
//! and a rare side that pays for both.
//!
//! A thread cache's owner announces its use with a store and then reads
//! whether another thread has claimed the cache; the claiming thread stores
//! its claim and then reads whether the owner is inside. Each side needs its
//! store ordered before its load (a full fence), or both may go ahead. With
//! Linux's `membarrier`, the claiming side forces that fence onto every
//! running thread of the process at once, so the owner needs only a compiler
//! barrier — the malloc/free fast path stays as fast as without hand-over.
//! Where the system call is missing (other systems, tools such as valgrind)
//! [`heavy`] says so, and no thread claims another's cache.

use std::sync::atomic::{compiler_fence, fence, AtomicBool, Ordering};
use std::sync::Once;

use crate::sys;

/// Whether [`heavy`] can run `membarrier`. Set once, before the first thread
/// cache exists.
static ASYMMETRIC: AtomicBool = AtomicBool::new(false);

/// Chooses the kind of barrier; called before any thread cache is made.
pub(crate) fn init() {
    static CHOSEN: Once = Once::new();
    CHOSEN.call_once(|| ASYMMETRIC.store(sys::membarrier_register(), Ordering::Relaxed));
}

/// The frequent side's barrier between its store and its load: only the
/// compiler's ordering; the hardware's comes from [`heavy`].
#[inline(always)]
pub(crate) fn light() {
    compiler_fence(Ordering::SeqCst);
}

/// The rare side's barrier between its store and its load: afterwards every
/// store the frequent side made before its [`light`] barrier is visible, and
/// every load it makes after one sees the rare side's earlier stores. False
/// when no such barrier could be had: the rare side must then not rely on it.
pub(crate) fn heavy() -> bool {
    ASYMMETRIC.load(Ordering::Relaxed) && {
        fence(Ordering::SeqCst);
        sys::membarrier()
    }
}

//! Crowds of threads for the attack tests: all alive at once, and a panic
//! in any of them aborts the process with its message (the others would
//! wait for it at a barrier for ever).
#![allow(dead_code)]

use std::sync::Barrier;
use std::thread;

/// Runs `work`; when it panics, says why on stderr (past the test
/// harness's capture) and aborts: the other threads of a crowd would wait
/// for this one at a barrier for ever.
pub fn or_abort<T>(work: impl FnOnce() -> T) -> T {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|panic| {
        let why = panic.downcast_ref::<String>().map(String::as_str).or(panic.downcast_ref::<&str>().copied());
        let line = format!("a thread of a crowd panicked: {}\n", why.unwrap_or("?"));
        // SAFETY: writes a live buffer of that length to stderr.
        unsafe { libc::write(2, line.as_ptr().cast(), line.len()) };
        std::process::abort()
    })
}

/// Runs `work(index)` on `count` threads that are all alive at once before
/// any starts, and joins every one (so their exit destructors have run).
pub fn crowd<T: Send>(count: usize, work: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let everyone = Barrier::new(count);
    thread::scope(|scope| {
        let handles: Vec<_> = (0..count)
            .map(|index| {
                let (work, everyone) = (&work, &everyone);
                scope.spawn(move || {
                    everyone.wait();
                    or_abort(|| work(index))
                })
            })
            .collect();
        handles.into_iter().map(|handle| handle.join().unwrap()).collect()
    })
}

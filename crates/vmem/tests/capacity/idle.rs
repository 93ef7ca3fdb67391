//! Helper threads that did their work and stay alive, blocked, while
//! another thread measures the pool: what idle threads of a service look like.

use std::sync::mpsc;
use std::thread;

/// Runs `work(i)` on `n` helper threads at once, keeps them all alive and
/// blocked on a channel once they are done, runs `measure` on one more
/// thread, then releases the helpers, also when anything panics.
pub(crate) fn with_idle_threads<W, M, R>(n: usize, work: W, measure: M) -> R
where
    W: Fn(usize) + Sync,
    M: FnOnce() -> R + Send,
    R: Send,
{
    thread::scope(|s| {
        let mut releases = Vec::new();
        let mut done = Vec::new();
        for i in 0..n {
            let (done_tx, done_rx) = mpsc::channel::<()>();
            let (release_tx, release_rx) = mpsc::channel::<()>();
            let work = &work;
            s.spawn(move || {
                work(i);
                // The receiver lives until every helper is done.
                let _ = done_tx.send(());
                // Alive and blocked until released (or the test unwinds,
                // which drops the sender).
                let _ = release_rx.recv();
            });
            releases.push(release_tx);
            done.push(done_rx);
        }
        for finished in done {
            finished.recv().expect("helper thread finished its work");
        }
        let result = s.spawn(measure).join();
        drop(releases);
        match result {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

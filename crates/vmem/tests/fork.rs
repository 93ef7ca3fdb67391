//! `fork()` while other threads use the library: no child hangs, and a child
//! can use its parent's pools and make its own.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::wait_with_deadline;
use vmem::Pool;

const CHILDREN: usize = 300;
/// A child that has not exited by then is hung.
const CHILD_DEADLINE: Duration = Duration::from_secs(20);

/// What a child does: allocate in the parent's pool, make, use and delete a
/// pool of its own. Its exit status says how far it got.
fn child_work(parent_pool: &Pool) -> i32 {
    let Ok(block) = parent_pool.malloc(1000) else { return 2 };
    // SAFETY: a live block of `parent_pool`.
    unsafe { parent_pool.free(block.as_ptr()) };
    if parent_pool.check() != Ok(true) {
        return 3;
    }
    let Ok(own) = Pool::create("/dev/shm", vmem::MIN_POOL) else { return 4 };
    let Ok(block) = own.malloc(1 << 20) else { return 5 };
    // SAFETY: a live block of `own`.
    unsafe { own.free(block.as_ptr()) };
    if own.check() != Ok(true) {
        return 6;
    }
    drop(own);
    0
}

#[test]
fn children_forked_while_threads_use_the_library_never_hang() {
    let shared = Arc::new(Pool::create("/dev/shm", 64 << 20).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    // Threads that keep every lock of the library busy: the registry and
    // the fork tracking (create, delete, check), a pool's thread caches and
    // free space (allocations that miss the caches, reclaims on ENOMEM).
    let busy: Vec<_> = (0..3)
        .map(|kind| {
            let (shared, stop) = (shared.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match kind {
                        0 => {
                            let pool = Pool::create("/dev/shm", vmem::MIN_POOL).unwrap();
                            let _ = pool.check();
                            let _ = pool.malloc(100);
                        }
                        1 => {
                            let blocks: Vec<_> = (0..64).filter_map(|_| shared.malloc(256 << 10).ok()).collect();
                            for block in blocks {
                                // SAFETY: live blocks of `shared`.
                                unsafe { shared.free(block.as_ptr()) };
                            }
                            shared.purge();
                        }
                        _ => {
                            let _ = shared.check();
                            let _ = vmem::check_version(1, 9);
                            let blocks: Vec<_> = (0..1000).filter_map(|_| shared.malloc(48).ok()).collect();
                            for block in blocks {
                                // SAFETY: live blocks of `shared`.
                                unsafe { shared.free(block.as_ptr()) };
                            }
                        }
                    }
                }
            })
        })
        .collect();

    let mut failures = Vec::new();
    for _ in 0..CHILDREN {
        // SAFETY: the child runs only `child_work` and `_exit`s; fork in a
        // multithreaded process is what this test is about.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let status = child_work(&shared);
            // SAFETY: ends the child without running the parent's test
            // harness teardown.
            unsafe { libc::_exit(status) };
        }
        assert!(pid > 0, "fork failed");
        match wait_with_deadline(pid, CHILD_DEADLINE) {
            Ok(0) => {}
            Ok(status) => failures.push(format!("child {pid} failed at step {status}")),
            Err(why) => failures.push(why),
        }
    }
    stop.store(true, Ordering::Relaxed);
    for thread in busy {
        thread.join().unwrap();
    }
    assert!(failures.is_empty(), "{} of {CHILDREN} children: {failures:?}", failures.len());
    assert_eq!(shared.check(), Ok(true));
}

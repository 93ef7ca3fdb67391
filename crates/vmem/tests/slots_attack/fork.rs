//! `fork()` from a process whose threads hold a pool's slots, while threads
//! come and go (their slots being taken and left at the moment of the
//! fork): the child's one thread, and the threads it starts (which get the
//! dead threads' ids: glibc gives the child their stacks), allocate and
//! free in the parent's pool and a pool of its own.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Barrier;
use std::thread;
use std::time::Duration;

use super::common::{wait_with_deadline, SHM};
use super::free_all;
use super::tagged::{Rng, Tagged};
use crate::crowd::or_abort;
use vmem::Pool;

/// Threads that hold a slot and wait through every fork.
const PARKED: usize = 120;
/// Threads that start short-lived threads until told to pause.
const CHURNERS: usize = 3;
const FORKS: usize = 8;
/// A child that has not exited by then is hung.
const CHILD_DEADLINE: Duration = Duration::from_secs(20);

/// The child's work; its exit status says what failed (0: nothing).
fn child_work(parent_pool: &Pool) -> i32 {
    let Ok(own) = Pool::create(SHM, 64 << 20) else { return 2 };
    let start = own.stats().allocated;
    let mut rng = Rng::new(99);
    // The parent's pool is shared memory: the parent is paused meanwhile,
    // and what the child allocates there was free in both at the fork.
    for tag in 0..2000 {
        Tagged::new(parent_pool, rng.size(), tag).unwrap().free(parent_pool);
    }
    let everyone = Barrier::new(100);
    let failed = AtomicUsize::new(0);
    thread::scope(|scope| {
        let handles: Vec<_> = (0..100)
            .map(|index| {
                let (own, everyone, failed) = (&own, &everyone, &failed);
                scope.spawn(move || {
                    everyone.wait();
                    let mut rng = Rng::new(index);
                    let mut kept = Vec::new();
                    for k in 0..100 {
                        let pool = if k % 2 == 0 { own } else { parent_pool };
                        match Tagged::new(pool, rng.size(), index * 1000 + k) {
                            Ok(block) if k % 4 == 0 => kept.push(block),
                            Ok(block) => block.free(pool),
                            Err(_) => {
                                failed.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    kept
                })
            })
            .collect();
        // Blocks of the child's threads, freed by its main thread.
        for handle in handles {
            free_all(&own, handle.join().unwrap());
        }
    });
    if failed.load(Ordering::Relaxed) != 0 {
        return 3;
    }
    own.flush();
    if own.check() != Ok(true) || parent_pool.check() != Ok(true) {
        return 4;
    }
    if own.stats().allocated != start {
        return 5;
    }
    0
}

/// Found here, and not a matter of the slots (the code before them did the
/// same): about one run in ten, more while another test creates and drops
/// pools on 150 threads, a child died of SIGSEGV in jemalloc's
/// `tcache_arena_dissociate`, from a `tcache.flush` of a jemalloc cache
/// made before the fork (fixed: see `ThreadCache::forget_tcache_after_fork`;
/// none in 25 runs since, 5 in 25 before). Still ignored: about one run in
/// twelve a child hangs, its 100 new threads waiting in Rust's
/// `stack_overflow::thread_info::set_current_info` for a lock a parent
/// thread held at the fork (starting threads in a child of a busy process
/// is the test's own hazard, not vmem's); and as often an allocation in a
/// child fails for want of room.
#[test]
#[ignore = "known: a child forked from a crowd sometimes hangs or runs out of memory"]
fn a_child_forked_from_a_crowd_allocates_from_its_thread_and_new_threads() {
    let pool = Pool::create(SHM, 64 << 20).unwrap();
    let start = pool.stats().allocated;
    let (done, pause) = (AtomicBool::new(false), AtomicBool::new(false));
    let paused = AtomicUsize::new(0);
    let all_parked = Barrier::new(PARKED + 1);
    let mut failures = Vec::new();
    thread::scope(|scope| {
        // Joined one by one at the end: a scope does not wait for its
        // threads' exit destructors, which give their caches back.
        let mut threads = Vec::new();
        for index in 0..PARKED {
            let (pool, done, all_parked) = (&pool, &done, &all_parked);
            threads.push(scope.spawn(move || {
                let block = Tagged::new(pool, 100, index as u64).unwrap();
                all_parked.wait();
                while !done.load(Ordering::Relaxed) {
                    thread::sleep(Duration::from_millis(5));
                }
                block.free(pool);
            }));
        }
        all_parked.wait();
        for churner in 0..CHURNERS {
            let (pool, done, pause, paused) = (&pool, &done, &pause, &paused);
            threads.push(scope.spawn(move || {
                let mut round = 0;
                while !done.load(Ordering::Relaxed) {
                    if pause.load(Ordering::Acquire) {
                        paused.fetch_add(1, Ordering::AcqRel);
                        while pause.load(Ordering::Acquire) {
                            thread::yield_now();
                        }
                        paused.fetch_sub(1, Ordering::AcqRel);
                    }
                    round += 1;
                    let tag = (churner * 1_000_000 + round * 100) as u64;
                    thread::scope(|short| {
                        short
                            .spawn(|| {
                                or_abort(|| {
                                    let mut rng = Rng::new(tag);
                                    let blocks: Vec<_> =
                                        (0..20).map(|k| Tagged::new(pool, rng.size(), tag + k).unwrap()).collect();
                                    free_all(pool, blocks);
                                })
                            })
                            .join()
                            .unwrap();
                    });
                }
            }));
        }
        for _ in 0..FORKS {
            thread::sleep(Duration::from_millis(20));
            let mut gate = [0; 2];
            // SAFETY: a valid array of two descriptors.
            assert_eq!(unsafe { libc::pipe(gate.as_mut_ptr()) }, 0);
            // SAFETY: the child runs only `child_work` and `_exit`s; fork in
            // a multithreaded process is what this test is about.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                let mut byte = 0u8;
                // SAFETY: reads one byte into a live buffer: waits until
                // the parent stopped using the pool.
                unsafe { libc::read(gate[0], (&raw mut byte).cast(), 1) };
                let status = or_abort(|| child_work(&pool));
                // SAFETY: ends the child without the parent's harness.
                unsafe { libc::_exit(status) };
            }
            assert!(pid > 0, "fork failed");
            pause.store(true, Ordering::Release);
            while paused.load(Ordering::Acquire) != CHURNERS {
                thread::yield_now();
            }
            // SAFETY: writes one byte from a live buffer; closes our ends.
            unsafe {
                libc::write(gate[1], [1u8].as_ptr().cast(), 1);
                libc::close(gate[0]);
                libc::close(gate[1]);
            }
            match wait_with_deadline(pid, CHILD_DEADLINE) {
                Ok(0) => {}
                Ok(status) => failures.push(format!("child {pid} failed with {status}")),
                Err(why) => failures.push(why),
            }
            pause.store(false, Ordering::Release);
        }
        done.store(true, Ordering::Relaxed);
        for thread in threads {
            thread.join().unwrap();
        }
    });
    assert!(failures.is_empty(), "{failures:?}");
    pool.flush();
    assert_eq!(pool.check(), Ok(true));
    assert_eq!(pool.stats().allocated, start);
}

//! A thread's state for a pool: what it may do on its way out, and what it
//! leaves behind when pools are deleted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use vmem::Pool;

/// What a pthread key destructor (run after Rust's and jemalloc's thread
/// state is gone) saw when it allocated.
struct ExitProbe {
    pool: Arc<Pool>,
    /// A block allocated before the exit, resized on the way out.
    earlier: AtomicUsize,
    /// One entry per call: Ok(in pool) or Err(errno).
    results: std::sync::Mutex<Vec<Result<bool, i32>>>,
}

unsafe extern "C" fn allocate_on_exit(arg: *mut c_void) {
    // SAFETY: the pointer set with pthread_setspecific below, alive until
    // the test joined the thread.
    let probe = unsafe { &*arg.cast::<ExitProbe>() };
    let pool = &probe.pool;
    let mut results = Vec::new();
    let mut record = |block: vmem::Result<std::ptr::NonNull<u8>>| match block {
        Ok(block) => {
            results.push(Ok(pool.contains(block.as_ptr())));
            // SAFETY: a live block of `pool`.
            unsafe { pool.free(block.as_ptr()) };
        }
        Err(err) => results.push(Err(err.errno())),
    };
    record(pool.malloc(100));
    record(pool.calloc(10, 10));
    record(pool.aligned_alloc(4096, 100));
    record(pool.malloc(1 << 20));
    record(pool.strdup(c"on the way out").map(|s| s.cast()));
    let earlier = probe.earlier.load(Ordering::Relaxed) as *mut u8;
    // SAFETY: a live block of `pool`, allocated before the thread ended.
    match unsafe { pool.realloc(earlier, 1 << 16) } {
        Ok(moved) => record(Ok(moved.expect("a non-zero size"))),
        Err(err) => {
            results.push(Err(err.errno()));
            // SAFETY: still live after a failed realloc.
            unsafe { pool.free(earlier) };
        }
    }
    let _ = vmem::errormsg();
    probe.results.lock().unwrap().extend(results);
}

#[test]
fn allocations_in_a_thread_exit_destructor_land_in_the_pool_or_fail_cleanly() {
    let pool = Arc::new(Pool::create("/dev/shm", vmem::MIN_POOL).unwrap());
    let probe = Arc::new(ExitProbe { pool: pool.clone(), earlier: Default::default(), results: Default::default() });
    let arg = Arc::as_ptr(&probe) as *mut c_void;
    let arg = arg as usize;
    let thread_probe = probe.clone();
    std::thread::spawn(move || {
        let mut key: libc::pthread_key_t = 0;
        // SAFETY: a fresh key with a destructor that matches the signature;
        // the value is the probe, alive until the thread is joined.
        unsafe {
            assert_eq!(libc::pthread_key_create(&mut key, Some(allocate_on_exit)), 0);
            assert_eq!(libc::pthread_setspecific(key, arg as *const c_void), 0);
        }
        // Use the pool first, so the thread has caches to tear down.
        let block = pool.malloc(64).unwrap();
        thread_probe.earlier.store(block.as_ptr() as usize, Ordering::Relaxed);
    })
    .join()
    .unwrap();
    let results = probe.results.lock().unwrap().clone();
    assert_eq!(results.len(), 6, "the destructor ran");
    for result in results {
        assert!(matches!(result, Ok(true) | Err(libc::ENOMEM)), "{result:?}");
    }
    // Nothing of the pool is held by the dead thread.
    let stats = probe.pool.stats();
    assert_eq!(stats.allocated, 0, "{stats:?}");
    assert_eq!(probe.pool.check(), Ok(true));
}

/// The system allocator, counting the bytes it has handed out and not got
/// back: where the library keeps its per-thread state (portably, unlike
/// glibc's `mallinfo2`).
struct CountingAllocator;

static HEAP_IN_USE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only a counter is
// kept beside.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded from the caller.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            HEAP_IN_USE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded from the caller.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            HEAP_IN_USE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded from the caller.
        unsafe { System.dealloc(ptr, layout) };
        HEAP_IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded from the caller.
        let moved = unsafe { System.realloc(ptr, layout, new_size) };
        if !moved.is_null() {
            HEAP_IN_USE.fetch_add(new_size, Ordering::Relaxed);
            HEAP_IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        moved
    }
}

#[global_allocator]
static HEAP: CountingAllocator = CountingAllocator;

/// Bytes the process heap (Rust's global allocator) has in use.
fn heap_in_use() -> usize {
    HEAP_IN_USE.load(Ordering::Relaxed)
}

#[test]
fn deleted_pools_leave_no_per_thread_state_behind() {
    const THREADS: usize = 8;
    const POOLS: usize = 50;
    let pools: Vec<Arc<Pool>> =
        (0..POOLS).map(|_| Arc::new(Pool::create("/dev/shm", vmem::MIN_POOL).unwrap())).collect();
    let used = Arc::new(Barrier::new(THREADS + 1));
    let measured = Arc::new(Barrier::new(THREADS + 1));
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (pools, used, measured) = (pools.clone(), used.clone(), measured.clone());
            std::thread::spawn(move || {
                for pool in &pools {
                    let block = pool.malloc(100).unwrap();
                    // SAFETY: a live block of `pool`.
                    unsafe { pool.free(block.as_ptr()) };
                }
                drop(pools);
                // Stay alive, idle, while the pools are deleted and the heap
                // is measured.
                used.wait();
                measured.wait();
            })
        })
        .collect();
    used.wait();
    let before = heap_in_use();
    drop(pools);
    let after = heap_in_use();
    measured.wait();
    for worker in workers {
        worker.join().unwrap();
    }
    // Each (thread, pool) cache is over 4 KiB of heap (its stacks are mapped
    // apart, and unmapped with it): 400 of them must be gone, with only
    // small entries (tens of bytes each) left in the idle threads.
    let released = before.saturating_sub(after);
    assert!(released >= POOLS * THREADS * 4 * 1024, "only {released} bytes of {before} released");
    assert!(after < before / 4, "{after} bytes still in use, {before} before");
}

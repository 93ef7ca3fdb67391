//! The allocation calls of docs/api-contract.md (malloc, calloc, realloc,
//! aligned_alloc, free, strdup, wcsdup, usable_size, purge) on real pools:
//! their results, their errors, full pools and threads.

mod common;

use std::ffi::CStr;
use std::sync::{Arc, Mutex};

use common::*;
use vmem::{Pool, MIN_POOL};

#[test]
fn pointers_stay_inside_the_pool_and_are_writable() {
    let pool = Pool::create(SHM, POOL_64M).unwrap();
    let base = pool.base() as usize;
    let mut blocks = Vec::new();
    for (i, size) in [1usize, 8, 63, 64, 4096, 65536, 1 << 20, 5 << 20].into_iter().enumerate() {
        let block = pool.malloc(size).unwrap();
        let addr = block.as_ptr() as usize;
        assert!(addr >= base && addr + size <= base + pool.size(), "block outside the pool");
        // SAFETY: a fresh block of `size` bytes.
        unsafe { block.as_ptr().write_bytes(i as u8, size) };
        blocks.push((block, size, i as u8));
    }
    for (block, size, fill) in blocks {
        // SAFETY: live blocks of `size` bytes.
        unsafe {
            assert!(std::slice::from_raw_parts(block.as_ptr(), size).iter().all(|&b| b == fill));
            pool.free(block.as_ptr());
        }
    }
}

#[test]
fn malloc_of_zero_gives_distinct_blocks() {
    let pool = Pool::create(SHM, MIN_POOL).unwrap();
    let a = pool.malloc(0).unwrap();
    let b = pool.malloc(0).unwrap();
    assert_ne!(a, b);
    // SAFETY: both are live blocks of the pool.
    unsafe {
        pool.free(a.as_ptr());
        pool.free(b.as_ptr());
    }
}

#[test]
fn calloc_zeroes_and_overflow_is_enomem() {
    let pool = Pool::create(SHM, MIN_POOL).unwrap();
    // Dirty some memory, free it, and calloc over the same size classes.
    for _ in 0..3 {
        let dirty: Vec<_> = (0..64).map(|_| pool.malloc(1000).unwrap()).collect();
        for block in &dirty {
            // SAFETY: fresh 1000-byte blocks, freed right after.
            unsafe { block.as_ptr().write_bytes(0xAB, 1000) };
        }
        // SAFETY: live blocks.
        dirty.iter().for_each(|b| unsafe { pool.free(b.as_ptr()) });
        let zeroed = pool.calloc(100, 10).unwrap();
        // SAFETY: 1000 fresh bytes.
        assert!(unsafe { std::slice::from_raw_parts(zeroed.as_ptr(), 1000) }.iter().all(|&b| b == 0));
        // SAFETY: live block.
        unsafe { pool.free(zeroed.as_ptr()) };
    }
    let err = pool.calloc(usize::MAX / 2, 3).unwrap_err();
    assert_eq!(err.errno(), libc::ENOMEM);
    assert!(vmem::errormsg().contains("overflows"));
}

#[test]
fn realloc_keeps_contents_and_handles_null_and_zero() {
    let pool = Pool::create(SHM, POOL_64M).unwrap();
    // SAFETY: every pointer passed is null or a live block of `pool`.
    unsafe {
        let mut block = pool.realloc(std::ptr::null_mut(), 16).unwrap().unwrap();
        for i in 0..16 {
            block.as_ptr().add(i).write(i as u8);
        }
        let mut size = 16;
        for new_size in [100, 5000, 70_000, 3 << 20, 40, 17] {
            block = pool.realloc(block.as_ptr(), new_size).unwrap().unwrap();
            assert!(pool.contains(block.as_ptr()));
            let kept = size.min(new_size).min(16);
            for i in 0..kept {
                assert_eq!(block.as_ptr().add(i).read(), i as u8, "byte {i} lost at size {new_size}");
            }
            size = new_size;
        }
        assert_eq!(pool.realloc(block.as_ptr(), 0).unwrap(), None);
        // A failed realloc leaves the block as it was.
        let kept = pool.malloc(8).unwrap();
        kept.as_ptr().write_bytes(9, 8);
        let err = pool.realloc(kept.as_ptr(), POOL_64M * 2).unwrap_err();
        assert_eq!(err.errno(), libc::ENOMEM);
        assert_eq!(std::slice::from_raw_parts(kept.as_ptr(), 8), &[9; 8]);
        pool.free(kept.as_ptr());
    }
}

#[test]
fn aligned_alloc_aligns_and_refuses_non_powers_of_two() {
    let pool = Pool::create(SHM, POOL_64M).unwrap();
    for shift in 0..=21 {
        let alignment = 1usize << shift;
        let block = pool.aligned_alloc(alignment, 100).unwrap();
        assert_eq!(block.as_ptr() as usize % alignment, 0, "alignment {alignment}");
        // SAFETY: live block.
        unsafe { pool.free(block.as_ptr()) };
    }
    for bad in [0usize, 3, 24, 1000] {
        let err = pool.aligned_alloc(bad, 64).unwrap_err();
        assert_eq!(err.errno(), libc::EINVAL, "alignment {bad}");
    }
    assert_eq!(vmem::errormsg(), "alignment 1000 is not a power of two");
}

#[test]
fn strdup_and_wcsdup_copy_with_terminator() {
    let pool = Pool::create(SHM, MIN_POOL).unwrap();
    let copy = pool.strdup(c"pool string").unwrap();
    // SAFETY: strdup gives a NUL-terminated copy in the pool.
    unsafe {
        assert_eq!(CStr::from_ptr(copy.as_ptr()), c"pool string");
        assert!(pool.contains(copy.as_ptr().cast()));
        assert!(pool.usable_size(copy.as_ptr().cast()) >= 12);
    }
    let wide: Vec<libc::wchar_t> = "wide ✓".chars().map(|c| c as libc::wchar_t).chain([0, 65]).collect();
    let copy = pool.wcsdup(&wide).unwrap();
    // SAFETY: the copy holds the characters before the first NUL, plus a NUL.
    let copied = unsafe { std::slice::from_raw_parts(copy.as_ptr(), 7) };
    assert_eq!(&copied[..6], &wide[..6]);
    assert_eq!(copied[6], 0);
}

#[test]
fn usable_size_covers_the_request() {
    let pool = Pool::create(SHM, POOL_64M).unwrap();
    for size in [1usize, 13, 100, 1000, 4097, 100_000, 2 << 20] {
        let block = pool.malloc(size).unwrap();
        // SAFETY: live block.
        unsafe {
            let usable = pool.usable_size(block.as_ptr());
            assert!(usable >= size && usable < size * 2 + 16, "size {size} usable {usable}");
            // The whole usable size is writable.
            block.as_ptr().write_bytes(1, usable);
            pool.free(block.as_ptr());
        }
    }
    // SAFETY: a pointer outside the pool is answered with 0, not looked up.
    assert_eq!(unsafe { pool.usable_size(&0u8) }, 0);
}

/// Allocates `size`-byte blocks until ENOMEM, writing each one whole.
fn fill(pool: &Pool, size: usize) -> Vec<*mut u8> {
    let mut blocks = Vec::new();
    loop {
        match pool.malloc(size) {
            Ok(block) => {
                // SAFETY: fresh block of `size` bytes.
                unsafe { block.as_ptr().write_bytes(0x5A, size) };
                blocks.push(block.as_ptr());
            }
            Err(err) => {
                assert_eq!(err.errno(), libc::ENOMEM);
                return blocks;
            }
        }
    }
}

#[test]
fn fill_to_enomem_free_all_refill_to_the_same_count() {
    for size in [64usize, 4096, 1 << 20] {
        let pool = Pool::create(SHM, POOL_64M).unwrap();
        let first = fill(&pool, size);
        assert!(pool.check().unwrap());
        // SAFETY: every block is live and freed once.
        first.iter().for_each(|&b| unsafe { pool.free(b) });
        let second = fill(&pool, size);
        let share = (second.len() * size) as f64 / POOL_64M as f64;
        eprintln!("{size:>8} B objects: {} blocks, {:.1} % of 64 MiB", second.len(), share * 100.0);
        assert_eq!(first.len(), second.len(), "refill with {size} B objects");
        assert!(share >= 0.97, "only {:.1} % usable with {size} B objects", share * 100.0);
        // The pool still answers after ENOMEM.
        // SAFETY: live blocks.
        second.iter().for_each(|&b| unsafe { pool.free(b) });
        assert!(pool.malloc(size).is_ok());
    }
}

#[test]
fn a_full_pool_answers_enomem_with_a_message() {
    let pool = Pool::create(SHM, MIN_POOL).unwrap();
    let _first = pool.malloc(1 << 20).unwrap();
    let err = pool.malloc(MIN_POOL).unwrap_err();
    assert_eq!(err.errno(), libc::ENOMEM);
    assert_eq!(err.code(), "ENOMEM");
    assert_eq!(vmem::errormsg(), format!("cannot allocate {MIN_POOL} bytes: out of pool memory"));
    assert!(pool.malloc(usize::MAX).is_err());
    assert!(pool.malloc(1 << 20).is_ok());
}

#[test]
fn threads_allocate_and_free_across_pools() {
    let pools: Arc<Vec<Pool>> = Arc::new((0..2).map(|_| Pool::create(SHM, POOL_64M).unwrap()).collect());
    let (sender, receiver) = std::sync::mpsc::channel::<(usize, usize, usize, usize)>();
    let receiver = Arc::new(Mutex::new(receiver));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let pools = pools.clone();
            let sender = sender.clone();
            let receiver = receiver.clone();
            std::thread::spawn(move || {
                for i in 0..20_000usize {
                    let id = t * 1_000_000 + i;
                    let pool = &pools[id % 2];
                    let size = 8 + (id * 37) % 600;
                    let block = pool.malloc(size).unwrap();
                    // SAFETY: fresh block of `size` bytes.
                    let bytes = unsafe { std::slice::from_raw_parts_mut(block.as_ptr(), size) };
                    bytes.iter_mut().enumerate().for_each(|(k, b)| *b = pattern(id, k));
                    sender.send((block.as_ptr() as usize, size, id, id % 2)).unwrap();
                    // Free a block some thread sent, maybe ours.
                    if let Ok((addr, size, id, pool_index)) = receiver.lock().unwrap().try_recv() {
                        // SAFETY: the block is live and was sent exactly once.
                        let bytes = unsafe { std::slice::from_raw_parts(addr as *const u8, size) };
                        assert!(bytes.iter().enumerate().all(|(k, &b)| b == pattern(id, k)), "block {id} damaged");
                        assert!(pools[pool_index].contains(addr as *const u8));
                        // SAFETY: as above.
                        unsafe { pools[pool_index].free(addr as *mut u8) };
                    }
                }
            })
        })
        .collect();
    drop(sender);
    threads.into_iter().for_each(|t| t.join().unwrap());
    for (addr, size, id, pool_index) in receiver.lock().unwrap().iter() {
        // SAFETY: the remaining blocks are live and sent once.
        let bytes = unsafe { std::slice::from_raw_parts(addr as *const u8, size) };
        assert!(bytes.iter().enumerate().all(|(k, &b)| b == pattern(id, k)));
        // SAFETY: as above.
        unsafe { pools[pool_index].free(addr as *mut u8) };
    }
    for pool in pools.iter() {
        assert!(pool.check().unwrap());
        assert_eq!(pool.stats().allocated, 0, "{:?}", pool.stats());
    }
}

#[test]
fn collections_live_in_a_pool() {
    let pool = Pool::create(SHM, POOL_64M).unwrap();
    let mut numbers = allocator_api2::vec::Vec::new_in(&pool);
    for n in 0..100_000u64 {
        numbers.push(n * 3);
    }
    assert!(pool.contains(numbers.as_ptr().cast()));
    assert_eq!(numbers.iter().sum::<u64>(), 3 * (99_999 * 100_000 / 2));
    numbers.truncate(10);
    numbers.shrink_to_fit();
    assert!(pool.contains(numbers.as_ptr().cast()));

    let mut map = hashbrown::HashMap::new_in(&pool);
    for n in 0..10_000u32 {
        map.insert(n, n.to_string());
    }
    assert_eq!(map[&4242], "4242");
    let aligned = allocator_api2::boxed::Box::new_in([0u128; 4], &pool);
    assert_eq!(aligned.as_ptr() as usize % std::mem::align_of::<u128>(), 0);
    assert!(pool.contains(aligned.as_ptr().cast()));
}

#[test]
fn free_of_a_foreign_pointer_is_refused() {
    let a = Pool::create(SHM, MIN_POOL).unwrap();
    let b = Pool::create(SHM, MIN_POOL).unwrap();
    let block = a.malloc(64).unwrap();
    // SAFETY: b refuses a pointer outside its memory without touching it.
    unsafe { b.free(block.as_ptr()) };
    assert!(vmem::errormsg().contains("is not in pool"));
    assert_eq!(vmem::last_errno(), libc::EINVAL);
    // SAFETY: as above; realloc refuses too and leaves the block alone.
    let err = unsafe { b.realloc(block.as_ptr(), 128) }.unwrap_err();
    assert_eq!(err.errno(), libc::EINVAL);
    // SAFETY: the block is still live in `a`.
    unsafe { a.free(block.as_ptr()) };
    // SAFETY: null is allowed and does nothing.
    unsafe { a.free(std::ptr::null_mut()) };
}

/// The front cache finds an object's class from the page it starts on: pages
/// that held 64-byte objects and then serve other classes must be freed as
/// those classes, through every path (free, realloc, usable_size).
#[test]
fn pages_reused_for_other_size_classes_free_as_their_new_class() {
    let dir = temp_dir();
    let pool = Pool::create(dir.path(), MIN_POOL).unwrap();
    for round in 0..4 {
        let small = fill(&pool, 64);
        assert!(small.len() > 100_000, "round {round}: {} objects", small.len());
        for ptr in small {
            // SAFETY: blocks of this pool, freed once.
            unsafe { pool.free(ptr) };
        }
        // Empty slabs go back to the arena and their pages to other classes.
        pool.stats();
        pool.purge();
        for size in [80, 4096, 12 << 10, 40 << 10, 1 << 20] {
            let blocks = fill(&pool, size);
            assert!(!blocks.is_empty(), "round {round} size {size}: {:?}", pool.stats());
            for &ptr in &blocks {
                // SAFETY: a live block of this pool.
                let usable = unsafe { pool.usable_size(ptr) };
                assert!(usable >= size && usable < size + size / 4 + 16, "size {size}: usable {usable}");
            }
            // Most freed, so that the rest has room to move when shrunk.
            let (kept, freed) = blocks.split_at(blocks.len().min(64));
            for &ptr in freed {
                // SAFETY: a live block, freed once.
                unsafe { pool.free(ptr) };
            }
            for &ptr in kept {
                // SAFETY: a live block; realloc, then free the result.
                let moved = unsafe { pool.realloc(ptr, size / 2 + 1) }.unwrap().unwrap();
                unsafe { pool.free(moved.as_ptr()) };
            }
            assert_eq!(pool.stats().allocated, 0, "round {round} size {size}");
        }
    }
    assert!(pool.check().unwrap());
}

/// Objects one thread frees are cached by that thread and still go back to
/// the pool when it exits.
#[test]
fn objects_freed_by_an_exiting_thread_return_to_the_pool() {
    let dir = temp_dir();
    let pool = Arc::new(Pool::create(dir.path(), MIN_POOL).unwrap());
    let blocks: Vec<usize> = (0..10_000).map(|i| pool.malloc(8 + i % 500).unwrap().as_ptr() as usize).collect();
    let freeing = Arc::clone(&pool);
    std::thread::spawn(move || {
        for ptr in blocks {
            // SAFETY: blocks of this pool, each freed once.
            unsafe { freeing.free(ptr as *mut u8) };
        }
    })
    .join()
    .unwrap();
    assert_eq!(pool.stats().allocated, 0);
}

#[test]
fn purge_gives_freed_pages_back_to_the_file_system_and_they_come_back() {
    let Some(fs) = Tmpfs::mount("100m") else { return };
    let pool = Pool::create(fs.path(), POOL_64M).unwrap();
    let before_use = fs.used_bytes();
    let blocks = fill(&pool, 256 << 10);
    // SAFETY: live blocks, freed once.
    blocks.iter().for_each(|&b| unsafe { pool.free(b) });
    pool.purge();
    let purged = fs.used_bytes();
    assert!(purged + (32 << 20) < before_use, "purge left {purged} of {before_use} bytes");
    // Memory handed back is reserved again on reuse, and reads as zero.
    let again = fill(&pool, 256 << 10);
    assert_eq!(again.len(), blocks.len());
    assert!(fs.used_bytes() >= before_use - (4 << 20));
}

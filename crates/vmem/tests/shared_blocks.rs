//! Blocks handed between threads by offset and generation (`Pool::ref_block`
//! and the calls that check it), and pools found by id (`SharedPool::share`
//! / `attach`), on real pools with real threads.

use std::sync::Barrier;
use std::thread;

use vmem::{Pool, SharedPool, MIN_POOL};

fn shared() -> SharedPool {
    SharedPool::new(Pool::create(std::env::temp_dir(), MIN_POOL).expect("a pool in the temp dir"))
}

fn offset_of(pool: &Pool, block: std::ptr::NonNull<u8>) -> usize {
    block.as_ptr() as usize - pool.base() as usize
}

#[test]
fn of_threads_racing_to_free_one_block_exactly_one_wins() {
    let pool = shared();
    for _ in 0..200 {
        let block = pool.malloc(64).unwrap();
        let offset = offset_of(&pool, block);
        // SAFETY: a live block of this pool, freed below only through free_ref.
        let generation = unsafe { pool.ref_block(offset) };
        let barrier = Barrier::new(4);
        let won = thread::scope(|s| {
            let racers: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        pool.free_ref(offset, generation).is_ok()
                    })
                })
                .collect();
            racers.into_iter().map(|racer| racer.join().unwrap()).filter(|won| *won).count()
        });
        assert_eq!(won, 1);
    }
    pool.flush();
    assert_eq!(pool.stats().allocated, 0);
}

#[test]
fn a_generation_names_one_incarnation_of_an_offset() {
    let pool = shared();
    let block = pool.malloc(64).unwrap();
    let offset = offset_of(&pool, block);
    // SAFETY: live, and freed only through free_ref.
    let first = unsafe { pool.ref_block(offset) };
    // SAFETY: as above.
    assert_eq!(unsafe { pool.ref_block(offset) }, first, "stable while the block lives");
    assert_eq!(pool.ref_usable_size(offset, first).unwrap(), 64);
    pool.free_ref(offset, first).unwrap();
    assert_eq!(pool.free_ref(offset, first).unwrap_err().errno(), libc::EINVAL);
    assert_eq!(pool.ref_usable_size(offset, first).unwrap_err().errno(), libc::EINVAL);
    // The same offset again (front cache: last freed, first served).
    let again = pool.malloc(64).unwrap();
    assert_eq!(offset_of(&pool, again), offset);
    // SAFETY: live, and freed only through free_ref.
    let second = unsafe { pool.ref_block(offset) };
    assert!(second > first);
    assert_eq!(pool.free_ref(offset, first).unwrap_err().errno(), libc::EINVAL, "the old generation frees nothing");
    assert_eq!(pool.realloc_ref(offset, first, 10).unwrap_err().errno(), libc::EINVAL);
    let moved = pool.realloc_ref(offset, second, 100_000).unwrap();
    assert_eq!(pool.free_ref(offset, second).unwrap_err().errno(), libc::EINVAL, "realloc ended the listing");
    // SAFETY: the live block realloc_ref returned, never listed.
    unsafe { pool.free(pool.base().add(moved)) };
    for outside in [pool.size(), usize::MAX] {
        assert_eq!(pool.free_ref(outside, second).unwrap_err().errno(), libc::EINVAL);
    }
}

#[test]
fn a_shared_pool_is_found_by_id_while_a_handle_lives() {
    let pool = shared();
    let id = pool.share();
    assert_eq!(pool.share(), id);
    assert_eq!(id, pool.id());
    let offsets: Vec<usize> = thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(move || {
                    let mine = SharedPool::attach(id).unwrap();
                    let block = mine.malloc(256).unwrap();
                    let offset = offset_of(&mine, block);
                    // SAFETY: live, and freed only through free_ref.
                    unsafe { mine.ref_block(offset) };
                    offset
                })
            })
            .collect();
        workers.into_iter().map(|worker| worker.join().unwrap()).collect()
    });
    for offset in offsets {
        // The generation, as another thread would learn it from a message.
        // SAFETY: listed already: this only reads its generation.
        let generation = unsafe { pool.ref_block(offset) };
        pool.free_ref(offset, generation).unwrap();
    }
    assert!(pool.check().unwrap());
    drop(pool);
    assert_eq!(SharedPool::attach(id).unwrap_err().errno(), libc::EINVAL);
    assert_eq!(SharedPool::attach(u64::MAX).unwrap_err().errno(), libc::EINVAL);
}

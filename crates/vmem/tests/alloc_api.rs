//! Pools as `Allocator`s: `&Pool` and the owning `SharedPool`, with real
//! collections (allocator_api2, hashbrown) on real pools.

use std::thread;

use vmem::allocator_api2::alloc::{Allocator, Layout};
use vmem::allocator_api2::vec::Vec;
use vmem::{Pool, SharedPool, MIN_POOL};

fn pool() -> Pool {
    Pool::create(std::env::temp_dir(), MIN_POOL).expect("a pool in the temp dir")
}

/// A page-aligned element: every non-empty vector of them takes a page.
#[derive(Clone, Copy)]
#[repr(C, align(4096))]
struct Page([u8; 4096]);

#[test]
fn shrink_to_zero_frees_the_block_and_returns_a_dangling_pointer() {
    let pool = pool();
    let before = pool.stats().allocated;
    let old = Layout::from_size_align(4096, 4096).unwrap();
    let new = Layout::from_size_align(0, 4096).unwrap();
    let block = (&pool).allocate(old).unwrap();
    assert!(pool.contains(block.cast::<u8>().as_ptr()));
    assert!(pool.stats().allocated >= before + 4096);
    // SAFETY: `block` is a live block of `pool` with layout `old`.
    let shrunk = unsafe { (&pool).shrink(block.cast(), old, new) }.unwrap();
    assert_eq!(shrunk.len(), 0);
    let ptr = shrunk.cast::<u8>().as_ptr();
    assert!(!pool.contains(ptr), "shrink to 0 must not hand out a pool block");
    assert_eq!(ptr as usize % 4096, 0, "the dangling pointer keeps the alignment");
    assert_eq!(pool.stats().allocated, before, "the old block was freed");
    // Giving the zero-sized block back is allowed and does nothing.
    // SAFETY: `shrunk` is what the allocator returned for layout `new`.
    unsafe { (&pool).deallocate(shrunk.cast(), new) };
    assert_eq!(pool.stats().allocated, before);
}

#[test]
fn emptied_page_aligned_vecs_shrunk_to_fit_do_not_exhaust_the_pool() {
    // allocator_api2's RawVec forgets what shrink(.., 0) returns; when that
    // was a fresh 1-byte, page-aligned block, 10,000 of these leaked a page
    // each (40 MiB) and a 14 MiB pool ran out after some 3,000.
    let pool = pool();
    let before = pool.stats().allocated;
    for round in 0..10_000 {
        let mut pages: Vec<Page, &Pool> = Vec::new_in(&pool);
        pages.try_reserve_exact(1).unwrap_or_else(|err| panic!("round {round}: the pool ran out: {err:?}"));
        pages.push(Page([round as u8; 4096]));
        pages.clear();
        pages.shrink_to_fit();
        assert_eq!(pages.capacity(), 0);
    }
    assert_eq!(pool.stats().allocated, before);
}

#[test]
fn zero_sized_requests_never_touch_the_pool() {
    let pool = pool();
    let before = pool.stats();
    let empty = Layout::from_size_align(0, 64).unwrap();
    let block = (&pool).allocate(empty).unwrap();
    assert_eq!(block.len(), 0);
    assert!(!pool.contains(block.cast::<u8>().as_ptr()));
    assert_eq!(block.cast::<u8>().as_ptr() as usize % 64, 0);
    // Growing the zero-sized block allocates a real one.
    let grown_layout = Layout::from_size_align(100, 64).unwrap();
    // SAFETY: `block` came from this allocator with layout `empty`.
    let grown = unsafe { (&pool).grow(block.cast(), empty, grown_layout) }.unwrap();
    assert!(pool.contains(grown.cast::<u8>().as_ptr()));
    assert_eq!(grown.cast::<u8>().as_ptr() as usize % 64, 0);
    assert!(pool.stats().allocated >= before.allocated + 100);
    // SAFETY: `grown` is a live block with layout `grown_layout`.
    unsafe { (&pool).deallocate(grown.cast(), grown_layout) };
    assert_eq!(pool.stats().allocated, before.allocated);
}

/// A service type that owns pool-backed collections: this is what `&Pool`
/// cannot express without a borrowed lifetime.
struct Journal {
    entries: Vec<u64, SharedPool>,
    index: hashbrown::HashMap<u64, usize, hashbrown::DefaultHashBuilder, SharedPool>,
}

impl Journal {
    fn new(pool: &SharedPool) -> Journal {
        Journal {
            entries: Vec::new_in(pool.clone()),
            index: hashbrown::HashMap::with_hasher_in(Default::default(), pool.clone()),
        }
    }

    fn record(&mut self, value: u64) {
        self.index.insert(value, self.entries.len());
        self.entries.push(value);
    }
}

#[test]
fn shared_pool_collections_are_fields_and_move_between_threads() {
    fn assert_owning_allocator<A: Allocator + Clone + Send + Sync + 'static>() {}
    assert_owning_allocator::<SharedPool>();

    let pool = SharedPool::new(pool());
    let workers: std::vec::Vec<_> = (0..4u64)
        .map(|id| {
            let mut journal = Journal::new(&pool);
            thread::spawn(move || {
                for n in 0..10_000 {
                    journal.record(id * 1_000_000 + n);
                }
                journal // returned to the spawning thread, collections and all
            })
        })
        .collect();
    let journals: std::vec::Vec<Journal> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    for (id, journal) in journals.iter().enumerate() {
        assert_eq!(journal.entries.len(), 10_000);
        assert!(pool.contains(journal.entries.as_ptr().cast()));
        assert_eq!(journal.index[&(id as u64 * 1_000_000 + 9_999)], 9_999);
    }
    assert!(pool.stats().allocated >= 4 * 10_000 * 8);
    assert!(pool.check().unwrap());
    drop(journals);
    assert_eq!(std::sync::Arc::strong_count(pool.as_arc()), 1, "every collection let go of the pool");
    assert!(pool.check().unwrap());
}

#[test]
fn collections_keep_the_pool_alive_after_its_creator_lets_go() {
    let pool = SharedPool::from(pool());
    let base = pool.base() as usize;
    let size = pool.size();
    let mut numbers = Vec::new_in(pool.clone());
    drop(pool);
    numbers.extend(0..100_000u32);
    let addr = numbers.as_ptr() as usize;
    assert!((base..base + size).contains(&addr), "still allocating in the same pool");
    let moved = numbers.clone(); // clones the handle too
    drop(numbers);
    assert_eq!(moved.iter().map(|&n| u64::from(n)).sum::<u64>(), 4_999_950_000);
}

/// `grow` and `shrink` to a larger alignment hand back a block with it,
/// small and large: a realloc that first tries in place must not keep a
/// block whose address lacks the new alignment (xallocx answers the old
/// size both when it cannot resize and when the address is misaligned).
#[test]
fn grow_and_shrink_to_a_larger_alignment_align_the_block() {
    let pool = pool();
    let cases = [
        (Layout::from_size_align(100, 8).unwrap(), Layout::from_size_align(112, 64).unwrap()),
        (Layout::from_size_align(100, 8).unwrap(), Layout::from_size_align(100, 4096).unwrap()),
        (Layout::from_size_align(1 << 20, 8).unwrap(), Layout::from_size_align(1 << 20, 4 << 20).unwrap()),
        (Layout::from_size_align(3 << 20, 8).unwrap(), Layout::from_size_align(3 << 20, 4 << 20).unwrap()),
    ];
    for (old, new) in cases {
        // A block first, so that the one under test is not at the pool's
        // start (which every alignment fits).
        let spacer = (&pool).allocate(old).unwrap();
        let block = (&pool).allocate(old).unwrap().cast::<u8>();
        // SAFETY: a live block of `old`'s layout from this pool.
        unsafe { block.as_ptr().write_bytes(0x5a, old.size()) };
        let resized = if new.size() >= old.size() {
            // SAFETY: as above; `new` is no smaller.
            unsafe { (&pool).grow(block, old, new) }
        } else {
            // SAFETY: as above; `new` is no larger.
            unsafe { (&pool).shrink(block, old, new) }
        }
        .unwrap()
        .cast::<u8>();
        assert_eq!(resized.as_ptr() as usize % new.align(), 0, "{old:?} -> {new:?} at {resized:p}");
        // SAFETY: the resized block, of at least `old.size()` bytes here.
        let kept = unsafe { std::slice::from_raw_parts(resized.as_ptr(), old.size().min(new.size())) };
        assert!(kept.iter().all(|&byte| byte == 0x5a), "{old:?} -> {new:?} lost the contents");
        // SAFETY: live blocks of this pool with these layouts, each freed once.
        unsafe {
            (&pool).deallocate(resized, new);
            (&pool).deallocate(spacer.cast(), old);
        }
    }
    assert_eq!(pool.check(), Ok(true));
}

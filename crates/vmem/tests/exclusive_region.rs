//! `create_in_region_exclusive`, the creation the Node.js binding uses: it
//! refuses memory a live pool already uses (issue 12), atomically, while the
//! C and Rust faces' `create_in_region` keeps libvmem's behaviour.

use std::alloc::Layout;
use std::sync::Barrier;

use vmem::{Pool, MIN_POOL};

/// A page-aligned heap region of `size` bytes, released on drop (after the
/// pools the test made in it, which the test drops first).
struct Region {
    ptr: *mut u8,
    layout: Layout,
}

impl Region {
    fn new(size: usize) -> Region {
        let layout = Layout::from_size_align(size, 4096).unwrap();
        // SAFETY: a non-zero size.
        let ptr = unsafe { std::alloc::alloc(layout) };
        assert!(!ptr.is_null());
        Region { ptr, layout }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { std::alloc::dealloc(self.ptr, self.layout) };
    }
}

// SAFETY: the region is plain memory; the tests hand its address to threads
// that create pools in it, which is what they test.
unsafe impl Sync for Region {}

#[test]
fn a_second_exclusive_pool_over_live_memory_is_ebusy() {
    let region = Region::new(3 * MIN_POOL);
    // SAFETY: the region outlives every pool made in it.
    unsafe {
        let first = Pool::create_in_region_exclusive(region.ptr, 2 * MIN_POOL).unwrap();
        let same = Pool::create_in_region_exclusive(region.ptr, 2 * MIN_POOL).unwrap_err();
        assert_eq!(same.errno(), libc::EBUSY);
        assert!(same.message().contains("overlaps the live pool"), "{}", same.message());
        assert_eq!(vmem::errormsg(), same.message());
        let partly = Pool::create_in_region_exclusive(region.ptr.add(MIN_POOL), 2 * MIN_POOL).unwrap_err();
        assert_eq!(partly.errno(), libc::EBUSY);
        // Arguments are checked first: EINVAL stays EINVAL.
        let unaligned = Pool::create_in_region_exclusive(region.ptr.add(1), 2 * MIN_POOL).unwrap_err();
        assert_eq!(unaligned.errno(), libc::EINVAL);
        assert_eq!(first.check(), Ok(true));
        drop(first);
        let again = Pool::create_in_region_exclusive(region.ptr.add(MIN_POOL), 2 * MIN_POOL).unwrap();
        assert_eq!(again.check(), Ok(true));
    }
}

#[test]
fn an_exclusive_pool_inside_a_file_pool_is_ebusy() {
    let outer = Pool::create(std::env::temp_dir(), 3 * MIN_POOL).unwrap();
    // SAFETY: refused before anything touches the memory.
    let err = unsafe { Pool::create_in_region_exclusive(outer.base().add(4096), 2 * MIN_POOL) }.unwrap_err();
    assert_eq!(err.errno(), libc::EBUSY);
    assert_eq!(outer.check(), Ok(true));
}

#[test]
fn the_plain_create_in_region_still_allows_an_overlap_that_check_reports() {
    let region = Region::new(2 * MIN_POOL);
    // SAFETY: the region outlives both pools; the overlap is the point.
    unsafe {
        let exclusive = Pool::create_in_region_exclusive(region.ptr, 2 * MIN_POOL).unwrap();
        let plain = Pool::create_in_region(region.ptr, 2 * MIN_POOL).unwrap();
        assert_eq!(exclusive.check(), Ok(false));
        assert_eq!(plain.check(), Ok(false));
        drop(plain);
        assert_eq!(exclusive.check(), Ok(true));
    }
}

#[test]
fn threads_racing_for_one_region_make_exactly_one_pool() {
    let region = Region::new(2 * MIN_POOL);
    for _ in 0..20 {
        let barrier = Barrier::new(4);
        let made: usize = std::thread::scope(|s| {
            let racers: Vec<_> = (0..4)
                .map(|_| {
                    let (barrier, region) = (&barrier, &region);
                    s.spawn(move || {
                        barrier.wait();
                        // SAFETY: the region outlives the pools; at most one is made.
                        let pool = unsafe { Pool::create_in_region_exclusive(region.ptr, 2 * MIN_POOL) };
                        if let Err(err) = &pool {
                            assert_eq!(err.errno(), libc::EBUSY);
                        }
                        // Hold the pool until every racer has tried.
                        barrier.wait();
                        usize::from(pool.is_ok())
                    })
                })
                .collect();
            racers.into_iter().map(|r| r.join().unwrap()).sum()
        });
        assert_eq!(made, 1);
    }
}

#[test]
fn a_nul_byte_in_the_directory_is_einval() {
    let err = Pool::create("/tmp\0x", MIN_POOL).unwrap_err();
    assert_eq!(err.errno(), libc::EINVAL, "{err:?}");
}

//! The pool API of docs/api-contract.md on real files, real mmap and real
//! jemalloc: creation and its errors, check, versions, errors, statistics.
//! The allocation calls are in `alloc.rs`.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use vmem::{MemoryKind, Pool, MIN_POOL};

#[test]
fn create_below_min_pool_is_einval_with_libvmem_message() {
    let dir = temp_dir();
    let err = Pool::create(dir.path(), 1000).unwrap_err();
    assert_eq!(err.errno(), libc::EINVAL);
    assert_eq!(err.message(), "size 1000 smaller than 14680064");
    assert_eq!(vmem::errormsg(), "size 1000 smaller than 14680064");
    assert_eq!(Pool::create(dir.path(), MIN_POOL - 1).unwrap_err().errno(), libc::EINVAL);
    assert!(Pool::create(dir.path(), MIN_POOL).is_ok());
}

#[test]
fn create_in_missing_dir_is_enoent() {
    let dir = temp_dir();
    let missing = dir.path().join("missing");
    let err = Pool::create(&missing, MIN_POOL).unwrap_err();
    assert_eq!(err.errno(), libc::ENOENT);
    assert_eq!(err.code(), "ENOENT");
    assert!(err.message().ends_with(": No such file or directory"), "{}", err.message());
}

#[test]
fn create_in_a_regular_file_is_enotdir() {
    let dir = temp_dir();
    let file = dir.path().join("plain");
    std::fs::write(&file, b"x").unwrap();
    let err = Pool::create(&file, MIN_POOL).unwrap_err();
    assert_eq!(err.errno(), libc::ENOTDIR);
    assert!(err.message().ends_with(": Not a directory"), "{}", err.message());
}

#[test]
fn create_without_permission_is_eacces() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o500)).unwrap();
    // As root, drop the file-system identity on this thread only (setfsuid is
    // per thread), which also drops CAP_DAC_OVERRIDE.
    let errno = std::thread::spawn(move || {
        if is_root() {
            #[cfg(target_os = "linux")]
            // SAFETY: plain system call changing this thread's fsuid.
            unsafe {
                libc::setfsuid(65534)
            };
            // No per-thread way to drop root's access elsewhere.
            #[cfg(not(target_os = "linux"))]
            return None;
        }
        Some(Pool::create(&locked, MIN_POOL).unwrap_err().errno())
    })
    .join()
    .unwrap();
    match errno {
        Some(errno) => assert_eq!(errno, libc::EACCES),
        None => eprintln!("root without setfsuid: skipped"),
    }
}

#[test]
fn create_larger_than_the_file_system_is_enospc() {
    let Some(fs) = Tmpfs::mount("20m") else { return };
    let err = Pool::create(fs.path(), 32 << 20).unwrap_err();
    assert_eq!(err.errno(), libc::ENOSPC);
    assert!(err.message().ends_with(": No space left on device"), "{}", err.message());
    // Nothing is left behind: the whole 20 MiB is free again.
    assert!(fs.used_bytes() < 1 << 20, "{} bytes still used", fs.used_bytes());
    assert!(Pool::create(fs.path(), 16 << 20).is_ok());
}

#[test]
fn the_pool_file_is_invisible_and_its_space_returns_on_drop() {
    let Some(fs) = Tmpfs::mount("100m") else { return };
    let before = fs.used_bytes();
    let pool = Pool::create(fs.path(), POOL_64M).unwrap();
    assert_eq!(pool.kind(), MemoryKind::File);
    assert!(dir_entries(fs.path()).is_empty(), "pool file is visible");
    // The whole size is reserved at create time.
    assert!(fs.used_bytes() - before >= POOL_64M as u64);
    drop(pool);
    assert!(fs.used_bytes() - before < 1 << 20);
}

#[test]
fn pools_never_overlap() {
    let pools: Vec<Pool> = (0..8).map(|_| Pool::create(SHM, MIN_POOL).unwrap()).collect();
    for (i, a) in pools.iter().enumerate() {
        assert!(a.check().unwrap());
        let block = a.malloc(100).unwrap();
        for (j, b) in pools.iter().enumerate() {
            assert_eq!(b.contains(block.as_ptr()), i == j);
            let (a0, a1) = (a.base() as usize, a.base() as usize + a.size());
            let (b0, b1) = (b.base() as usize, b.base() as usize + b.size());
            assert!(i == j || a1 <= b0 || b1 <= a0, "pools {i} and {j} overlap");
        }
    }
}

/// A pool's capacity must not depend on where the system maps it. jemalloc
/// may use pages larger than the system's (64 KiB on aarch64 Linux, whose
/// kernels mostly use 4 KiB): a pool mapped at an address that is not a
/// multiple of jemalloc's page lost the pieces before its first and after
/// its last jemalloc page, so a 14 MiB pool held 13 blocks of 1 MiB or 14
/// depending on the mapping's address (under qemu-aarch64, 18 of 20 pools
/// mapped after spacers got 63 of 64 MiB; `front_attack.rs`, which compares
/// an attacked pool with a fresh one, failed when only one of them was
/// aligned). Spacers of 1..16 system pages move each new mapping.
#[test]
fn capacity_does_not_depend_on_where_the_pool_is_mapped() {
    const MIB: usize = 1 << 20;
    let page = 4096;
    let mut spacers = Vec::new();
    for pages in 1..=16 {
        let pool = Pool::create(SHM, MIN_POOL).unwrap();
        let blocks: Vec<_> = std::iter::from_fn(|| pool.malloc(MIB).ok()).collect();
        assert_eq!(blocks.len(), MIN_POOL / MIB, "1 MiB fill of a pool at {:p}", pool.base());
        // SAFETY: live blocks of this pool, each freed once.
        blocks.into_iter().for_each(|block| unsafe { pool.free(block.as_ptr()) });
        drop(pool);
        // SAFETY: a new private anonymous mapping, unmapped below.
        let spacer = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                pages * page,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(spacer, libc::MAP_FAILED);
        spacers.push((spacer, pages * page));
    }
    for (spacer, len) in spacers {
        // SAFETY: our own mapping from above.
        unsafe { libc::munmap(spacer, len) };
    }
}

/// Large blocks are placed at their natural alignment, at most as aligned
/// as the pool's start: a region pool holds as many 1 MiB blocks wherever
/// the caller's region starts (as many as its jemalloc pages hold: with
/// 64 KiB pages, a region 4 KiB past one loses the rest of it, and a block).
#[test]
fn a_region_pool_holds_as_many_blocks_wherever_the_region_starts() {
    const MIB: usize = 1 << 20;
    let page = vmem::size_classes().page;
    let layout = std::alloc::Layout::from_size_align(MIN_POOL + 4 * MIB, 4 * MIB).unwrap();
    for offset in [4096, 12 << 10, 64 << 10, 512 << 10, MIB, 3 * MIB / 2, 2 * MIB] {
        // SAFETY: the region outlives the pool, which is dropped first;
        // each block is live and freed once.
        unsafe {
            let buffer = std::alloc::alloc(layout);
            assert!(!buffer.is_null());
            let start = buffer.add(offset) as usize;
            let pages = (start + MIN_POOL) / page * page - start.next_multiple_of(page);
            let pool = Pool::create_in_region(buffer.add(offset), MIN_POOL).unwrap();
            let blocks: Vec<_> = std::iter::from_fn(|| pool.malloc(MIB).ok()).collect();
            assert_eq!(blocks.len(), pages / MIB, "1 MiB fill of a region pool at {offset:#x} past 4 MiB");
            blocks.into_iter().for_each(|block| pool.free(block.as_ptr()));
            drop(pool);
            std::alloc::dealloc(buffer, layout);
        }
    }
}

#[test]
fn check_notices_overlapping_live_pools() {
    let layout = std::alloc::Layout::from_size_align(3 * MIN_POOL, 4096).unwrap();
    // SAFETY: the region outlives both pools; the overlap is the point.
    unsafe {
        let region = std::alloc::alloc(layout);
        let first = Pool::create_in_region(region, 2 * MIN_POOL).unwrap();
        assert_eq!(first.check(), Ok(true));
        let second = Pool::create_in_region(region.add(MIN_POOL), 2 * MIN_POOL).unwrap();
        assert_eq!(first.check(), Ok(false));
        assert_eq!(second.check(), Ok(false));
        drop(first);
        assert_eq!(second.check(), Ok(true));
        drop(second);
        std::alloc::dealloc(region, layout);
    }
}

#[test]
fn create_in_region_validates_and_never_unmaps() {
    let layout = std::alloc::Layout::from_size_align(2 * MIN_POOL, 4096).unwrap();
    // SAFETY: the region stays allocated until the end of the test.
    unsafe {
        let region = std::alloc::alloc(layout);
        region.write_bytes(0xEE, 2 * MIN_POOL);
        assert_eq!(Pool::create_in_region(region.add(1), MIN_POOL).unwrap_err().errno(), libc::EINVAL);
        assert_eq!(Pool::create_in_region(region, MIN_POOL - 4096).unwrap_err().errno(), libc::EINVAL);
        assert_eq!(Pool::create_in_region(std::ptr::null_mut(), MIN_POOL).unwrap_err().errno(), libc::EINVAL);
        let pool = Pool::create_in_region(region, 2 * MIN_POOL).unwrap();
        assert_eq!(pool.kind(), MemoryKind::Region);
        // Old contents were 0xEE: calloc must still give zeros.
        let zeroed = pool.calloc(1, 1 << 20).unwrap();
        assert!(std::slice::from_raw_parts(zeroed.as_ptr(), 1 << 20).iter().all(|&b| b == 0));
        let block = pool.malloc(1000).unwrap();
        assert!(pool.contains(block.as_ptr()));
        drop(pool);
        // Still mapped and ours.
        region.write_bytes(1, 2 * MIN_POOL);
        std::alloc::dealloc(region, layout);
    }
}

#[test]
fn check_version_gives_exact_reasons() {
    assert_eq!(vmem::check_version(vmem::MAJOR_VERSION, vmem::MINOR_VERSION), None);
    assert_eq!(vmem::check_version(1, 0), None);
    assert_eq!(vmem::check_version(0, 0), Some("libvmem major version mismatch (need 0, found 1)"));
    assert_eq!(vmem::check_version(2, 1), Some("libvmem major version mismatch (need 2, found 1)"));
    assert_eq!(vmem::check_version(1, 2), Some("libvmem minor version mismatch (need 2, found 1)"));
    // The same request gives the same static string.
    assert!(std::ptr::eq(vmem::check_version(1, 7).unwrap(), vmem::check_version(1, 7).unwrap()));
    // C gets that very text, NUL-terminated, kept once.
    let for_c = vmem::check_version_c(1, 7).unwrap();
    assert_eq!(for_c.to_bytes().as_ptr(), vmem::check_version(1, 7).unwrap().as_ptr());
    assert_eq!(vmem::last_errno(), libc::EINVAL);
    assert_eq!(vmem::errormsg(), "libvmem minor version mismatch (need 7, found 1)");
    assert_eq!((vmem::MIN_POOL, vmem::MAJOR_VERSION, vmem::MINOR_VERSION), (14680064, 1, 1));
}

#[test]
fn errormsg_is_per_thread() {
    let _ = Pool::create(SHM, 1);
    std::thread::spawn(|| {
        let _ = Pool::create("/no/such/dir", MIN_POOL);
        assert!(vmem::errormsg().contains("/no/such/dir"));
    })
    .join()
    .unwrap();
    assert_eq!(vmem::errormsg(), format!("size 1 smaller than {MIN_POOL}"));
}

/// set_funcs is process-wide: the tests that replace it take this lock.
static PRINT_LOCK: Mutex<()> = Mutex::new(());

fn printed_by(action: impl FnOnce()) -> String {
    let _guard = PRINT_LOCK.lock().unwrap();
    let printed = Arc::new(Mutex::new(String::new()));
    let sink = printed.clone();
    vmem::set_funcs(Some(Arc::new(move |text: &str| sink.lock().unwrap().push_str(text))));
    action();
    vmem::set_funcs(None);
    let text = printed.lock().unwrap().clone();
    text
}

#[test]
fn stats_print_goes_through_the_print_function_and_honours_opts() {
    let pool = Pool::create(SHM, POOL_64M).unwrap();
    let small = pool.malloc(100).unwrap();
    let large = pool.malloc(1 << 20).unwrap();
    let full = printed_by(|| pool.stats_print(""));
    for part in ["Begin vmem statistics", "Version: vmem", "Pool totals", "arenas[", "bins:", "large:", "End vmem"] {
        assert!(full.contains(part), "missing {part:?} in:\n{full}");
    }
    // One row per class served, with its size first: 112 B (the class of
    // 100) among the bins, 1 MiB among the large classes.
    let row = |header: &str, size: &str| {
        let rows = full.split(header).nth(1).unwrap_or_default();
        rows.lines()
            .skip(1)
            .take_while(|line| line.starts_with(' '))
            .any(|line| line.split_whitespace().next() == Some(size))
    };
    assert!(row("bins:     size", "112") && row("large:          size", "1048576"), "{full}");
    let terse = printed_by(|| pool.stats_print("gmablxyz"));
    assert!(!terse.contains("Version") && !terse.contains("Pool totals") && !terse.contains("bins:"));
    assert!(terse.contains("Begin vmem statistics"));
    let no_bins = printed_by(|| pool.stats_print("b"));
    assert!(!no_bins.contains("bins:") && no_bins.contains("large:"));
    // SAFETY: live blocks.
    unsafe {
        pool.free(small.as_ptr());
        pool.free(large.as_ptr());
    }
}

#[test]
fn stats_follow_allocations() {
    let pool = Pool::create(SHM, POOL_64M).unwrap();
    let empty = pool.stats();
    assert_eq!(empty.size, POOL_64M);
    let blocks: Vec<_> = (0..8).map(|_| pool.malloc(1 << 20).unwrap()).collect();
    let full = pool.stats();
    assert!(full.allocated >= empty.allocated + (8 << 20), "{full:?}");
    assert!(full.active >= 8 << 20 && full.mapped >= full.active && full.used >= full.active, "{full:?}");
    assert!(full.nmalloc >= empty.nmalloc + 8);
    // SAFETY: live blocks.
    blocks.iter().for_each(|b| unsafe { pool.free(b.as_ptr()) });
    let after = pool.stats();
    assert!(after.allocated + (8 << 20) <= full.allocated, "{after:?}");
}

#[test]
fn pool_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Pool>();
}

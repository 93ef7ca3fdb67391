//! Reliability: churn, many pools at once, threads, full file systems.

mod common;

use std::sync::{mpsc, Arc, Mutex};

use common::*;
use vmem::{Pool, MIN_POOL};

/// Taken by the tests that count process-wide resources, and by the one that
/// holds a thousand of them, so they do not see each other.
static PROCESS_WIDE: Mutex<()> = Mutex::new(());

/// jemalloc's arena count (`arenas.narenas`): destroyed arenas' slots count
/// until reused.
fn jemalloc_arenas() -> u32 {
    let mut narenas: u32 = 0;
    let mut len = std::mem::size_of::<u32>();
    // SAFETY: a valid name and a u32 out-parameter of the right size.
    let err = unsafe {
        vmem_jemalloc_sys::mallctl(
            c"arenas.narenas".as_ptr(),
            (&mut narenas as *mut u32).cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    assert_eq!(err, 0);
    narenas
}

#[test]
fn ten_thousand_create_delete_cycles_leave_no_fds_mappings_or_arenas() {
    let _alone = PROCESS_WIDE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp_dir();
    // One cycle first: lazily made state is not a leak.
    drop(Pool::create(dir.path(), MIN_POOL).unwrap());
    let (fds, maps, arenas) = (open_fds(), mappings(), jemalloc_arenas());
    for cycle in 0..10_000 {
        let pool = Pool::create(dir.path(), MIN_POOL).unwrap_or_else(|e| panic!("cycle {cycle}: {e}"));
        let block = pool.malloc(100 + cycle % 5000).unwrap();
        // SAFETY: a live block.
        unsafe { pool.free(block.as_ptr()) };
    }
    assert!(dir_entries(dir.path()).is_empty());
    // Other tests of this binary run in parallel threads: a little slack.
    assert!(open_fds() <= fds + 16, "fds {fds} -> {}", open_fds());
    if let (Some(maps), Some(now)) = (maps, mappings()) {
        assert!(now <= maps + 64, "mappings {maps} -> {now}");
    }
    assert!(jemalloc_arenas() <= arenas + 16, "arenas {arenas} -> {}", jemalloc_arenas());
}

#[test]
fn a_thousand_pools_alive_at_once_on_a_disk_backed_dir() {
    const POOLS: usize = 1000;
    let _alone = PROCESS_WIDE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp_dir();
    // SAFETY: statvfs writes into the zeroed struct we pass.
    let free = unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        let path = std::ffi::CString::new(dir.path().as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(libc::statvfs(path.as_ptr(), &mut st), 0);
        // The field types differ between platforms (u32 block counts on macOS).
        #[allow(clippy::unnecessary_cast)]
        let free = st.f_bavail as u64 * st.f_frsize as u64;
        free
    };
    let needed = (POOLS * MIN_POOL) as u64 + (2 << 30);
    if free < needed {
        eprintln!("only {free} bytes free on {}: the 1000-pool test needs {needed}; skipped", dir.path().display());
        return;
    }
    // Each pool holds its file open: make room for 1000 descriptors.
    // SAFETY: get/setrlimit on a struct we own.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        limit.rlim_cur = limit.rlim_max.max(4096).min(limit.rlim_max);
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
    }
    let pools: Vec<Pool> =
        (0..POOLS).map(|i| Pool::create(dir.path(), MIN_POOL).unwrap_or_else(|e| panic!("pool {i}: {e}"))).collect();
    let blocks: Vec<_> = pools
        .iter()
        .enumerate()
        .map(|(i, pool)| {
            let block = pool.malloc(4096).unwrap();
            // SAFETY: a fresh 4096-byte block.
            unsafe { block.as_ptr().write_bytes(i as u8, 4096) };
            block
        })
        .collect();
    for (i, (pool, block)) in pools.iter().zip(&blocks).enumerate() {
        // SAFETY: a live 4096-byte block.
        let bytes = unsafe { std::slice::from_raw_parts(block.as_ptr(), 4096) };
        assert!(bytes.iter().all(|&b| b == i as u8), "pool {i} damaged");
        assert!(pool.check().unwrap());
    }
    drop(pools);
    assert!(dir_entries(dir.path()).is_empty());
}

/// Asserts that the block at `addr` still holds the pattern of `id`.
fn verify(addr: usize, size: usize, id: usize) {
    // SAFETY: callers pass live blocks of `size` bytes.
    let bytes = unsafe { std::slice::from_raw_parts(addr as *const u8, size) };
    assert!(bytes.iter().enumerate().all(|(k, &b)| b == pattern(id, k)), "block {id} damaged");
}

#[test]
fn eight_threads_in_shared_and_private_pools_a_million_operations() {
    const THREADS: usize = 8;
    const OPS_PER_THREAD: usize = 125_000;
    let shared: Arc<Vec<Pool>> = Arc::new((0..2).map(|_| Pool::create(SHM, 64 << 20).unwrap()).collect());
    // Blocks travel between threads: (pool index or usize::MAX for private, address, size, id).
    let (sender, receiver) = mpsc::channel::<(usize, usize, usize, usize)>();
    let receiver = Arc::new(Mutex::new(receiver));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let shared = shared.clone();
            let sender = sender.clone();
            let receiver = receiver.clone();
            std::thread::spawn(move || {
                let private = Pool::create(SHM, 32 << 20).unwrap();
                let mut mine = Vec::new();
                let mut seed = t as u64 + 1;
                for i in 0..OPS_PER_THREAD {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let id = t * OPS_PER_THREAD + i;
                    let size = 8 + (seed % 700) as usize;
                    match seed % 4 {
                        // Private pool: allocate, later free in this thread.
                        0 => {
                            let block = private.malloc(size).unwrap();
                            // SAFETY: a fresh block.
                            let bytes = unsafe { std::slice::from_raw_parts_mut(block.as_ptr(), size) };
                            bytes.iter_mut().enumerate().for_each(|(k, b)| *b = pattern(id, k));
                            mine.push((block.as_ptr() as usize, size, id));
                            if mine.len() > 256 {
                                let (addr, size, id) = mine.swap_remove((seed as usize / 7) % mine.len());
                                verify(addr, size, id);
                                // SAFETY: a live block of the private pool.
                                unsafe { private.free(addr as *mut u8) };
                            }
                        }
                        // Shared pool: allocate and hand to whichever thread frees next.
                        1 | 2 => {
                            let index = (seed as usize >> 3) % 2;
                            let block = shared[index].malloc(size).unwrap();
                            // SAFETY: a fresh block.
                            let bytes = unsafe { std::slice::from_raw_parts_mut(block.as_ptr(), size) };
                            bytes.iter_mut().enumerate().for_each(|(k, b)| *b = pattern(id, k));
                            sender.send((index, block.as_ptr() as usize, size, id)).unwrap();
                        }
                        _ => {
                            let received = receiver.lock().unwrap().try_recv();
                            if let Ok((index, addr, size, id)) = received {
                                verify(addr, size, id);
                                // SAFETY: a live block of that pool, sent once.
                                unsafe { shared[index].free(addr as *mut u8) };
                            }
                        }
                    }
                }
                for (addr, size, id) in mine {
                    verify(addr, size, id);
                    // SAFETY: a live block of the private pool.
                    unsafe { private.free(addr as *mut u8) };
                }
                assert!(private.check().unwrap());
            })
        })
        .collect();
    drop(sender);
    threads.into_iter().for_each(|t| t.join().unwrap());
    for (index, addr, size, id) in receiver.lock().unwrap().iter() {
        verify(addr, size, id);
        // SAFETY: the blocks still in flight are live and sent once.
        unsafe { shared[index].free(addr as *mut u8) };
    }
    for pool in shared.iter() {
        assert!(pool.check().unwrap());
        assert_eq!(pool.stats().allocated, 0, "blocks leaked: {:?}", pool.stats());
    }
}

// Linux only: it mounts a tmpfs and relies on MADV_REMOVE handing freed
// pages back to the file system.
#[cfg(target_os = "linux")]
#[test]
fn a_full_file_system_gives_enomem_never_sigbus() {
    let Some(fs) = Tmpfs::mount("20m") else { return };
    let pool = Pool::create(fs.path(), 18 << 20).unwrap();
    let fill = |pool: &Pool| {
        let mut blocks = Vec::new();
        while let Ok(block) = pool.malloc(64 << 10) {
            // Every byte written: a page without file space would SIGBUS here.
            // SAFETY: a fresh 64 KiB block.
            unsafe { block.as_ptr().write_bytes(0xcd, 64 << 10) };
            blocks.push(block.as_ptr());
        }
        blocks
    };
    let first = fill(&pool);
    assert!(first.len() * (64 << 10) >= 17 << 20, "{} blocks", first.len());
    // SAFETY: live blocks, freed once.
    first.iter().for_each(|&b| unsafe { pool.free(b) });
    pool.purge();
    // The pool's freed pages went back to the file system; someone else now
    // takes all of it.
    let hog_path = fs.path().join("hog");
    let hog = std::fs::File::create(&hog_path).unwrap();
    let mut hogged = 0u64;
    while hog.set_len(hogged + (1 << 20)).is_ok() && {
        // set_len makes a sparse file: reserve the space for real.
        use std::os::unix::io::AsRawFd;
        // SAFETY: plain system call on our own descriptor.
        unsafe { libc::posix_fallocate(hog.as_raw_fd(), hogged as i64, 1 << 20) == 0 }
    } {
        hogged += 1 << 20;
    }
    assert!(hogged >= 8 << 20, "the hog took only {hogged} bytes");
    // The pool cannot take its pages back: ENOMEM, not SIGBUS.
    let second = fill(&pool);
    assert!(second.len() < first.len(), "{} blocks after the hog, {} before", second.len(), first.len());
    assert_eq!(pool.malloc(64 << 10).unwrap_err().errno(), libc::ENOMEM);
    // Once the hog is gone, the pool fills up again.
    drop(hog);
    std::fs::remove_file(&hog_path).unwrap();
    let third = fill(&pool);
    assert_eq!(second.len() + third.len(), first.len());
    assert!(pool.check().unwrap());
}

//! Helpers shared by the integration tests: real directories, real tmpfs.
#![allow(dead_code)]

pub mod churn;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Where tests put pools: tmpfs at /dev/shm on Linux; elsewhere (macOS,
/// FreeBSD have no /dev/shm directory) the temporary directory.
#[cfg(target_os = "linux")]
pub const SHM: &str = "/dev/shm";
/// Where tests put pools: tmpfs at /dev/shm on Linux; elsewhere (macOS,
/// FreeBSD have no /dev/shm directory) the temporary directory.
#[cfg(not(target_os = "linux"))]
pub const SHM: &str = "/tmp";

/// 64 MiB: the pool size most tests use.
pub const POOL_64M: usize = 64 << 20;

/// Whether the tests run as root (mounting tmpfs needs it).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A tmpfs of the given size, mounted by the test itself; unmounted on drop.
pub struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (as `mount -o size=...` takes it, e.g. "20m").
    /// Panics when running as root and the mount fails; returns None when not
    /// root (the caller then says the test was skipped).
    pub fn mount(size: &str) -> Option<Tmpfs> {
        if !cfg!(target_os = "linux") {
            eprintln!("tmpfs mounts here are Linux-only, part of this test is skipped");
            return None;
        }
        if !is_root() {
            eprintln!("not root: cannot mount a tmpfs, part of this test is skipped");
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("run mount");
        assert!(status.success(), "mount -t tmpfs failed as root");
        Some(Tmpfs { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Bytes used on the file system.
    pub fn used_bytes(&self) -> u64 {
        statvfs_used(self.path())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

pub fn statvfs_used(path: &Path) -> u64 {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: statvfs writes into the zeroed struct we pass.
    unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        assert_eq!(libc::statvfs(c.as_ptr(), &mut st), 0);
        // The field types differ between platforms (u32 block counts on macOS).
        #[allow(clippy::unnecessary_cast)]
        let (blocks, free, frsize) = (st.f_blocks as u64, st.f_bfree as u64, st.f_frsize as u64);
        (blocks - free) * frsize
    }
}

/// A fresh private directory on the ordinary temp file system.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Entries in `/proc/self/fd` (`/dev/fd` where there is no procfs).
pub fn open_fds() -> usize {
    let dir = if cfg!(target_os = "linux") { "/proc/self/fd" } else { "/dev/fd" };
    std::fs::read_dir(dir).unwrap().count()
}

/// Lines of `/proc/self/maps`; None where there is no procfs (macOS, FreeBSD).
pub fn mappings() -> Option<usize> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    Some(maps.lines().count())
}

pub fn dir_entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect()
}

/// A byte pattern derived from a block id, to tell blocks apart.
pub fn pattern(id: usize, index: usize) -> u8 {
    (id.wrapping_mul(31).wrapping_add(index.wrapping_mul(7)) % 251) as u8
}

/// The largest block `pool` (of `pool_len` bytes) gives, to within 4 KiB, by
/// binary search on the size; each probe that fits is freed at once.
pub fn largest_block(pool: &vmem::Pool, pool_len: usize) -> usize {
    const STEP: usize = 4096;
    // Invariant: malloc(lo) succeeded (or lo is 0); malloc(hi) failed.
    let (mut lo, mut hi) = (0, pool_len + STEP);
    while hi - lo > STEP {
        let mid = (lo + hi) / 2 / STEP * STEP;
        match pool.malloc(mid) {
            Ok(ptr) => {
                // SAFETY: a fresh block of this pool, freed once.
                unsafe { pool.free(ptr.as_ptr()) };
                lo = mid;
            }
            Err(_) => hi = mid,
        }
    }
    lo
}

/// Waits for child `pid` until `deadline` has passed, then kills it: its
/// exit status, or why it has none (a signal, a hang).
pub fn wait_with_deadline(pid: libc::pid_t, deadline: Duration) -> Result<i32, String> {
    let start = Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: waitpid on our own child, with a valid status pointer.
        let done = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if done == pid {
            return if libc::WIFEXITED(status) {
                Ok(libc::WEXITSTATUS(status))
            } else {
                Err(format!("child {pid} ended by signal {}", libc::WTERMSIG(status)))
            };
        }
        if start.elapsed() > deadline {
            // SAFETY: our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            return Err(format!("child {pid} hung"));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

//! Linux specifics: `O_TMPFILE`, `MADV_REMOVE`, device DAX.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::FromRawFd;
use std::path::Path;

/// An unnamed temporary file in `dir` (`O_TMPFILE`, with `O_EXCL` so it can
/// never be linked in); where the file system lacks `O_TMPFILE`, a named file
/// unlinked at once.
pub(crate) fn open_tmpfile(dir: &Path) -> io::Result<File> {
    let path = CString::new(dir.as_os_str().as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let flags = libc::O_TMPFILE | libc::O_RDWR | libc::O_EXCL | libc::O_CLOEXEC;
    // SAFETY: `path` is NUL-terminated; open has no other preconditions.
    let fd = unsafe { libc::open(path.as_ptr(), flags, 0o600 as libc::c_uint) };
    if fd >= 0 {
        // SAFETY: open returned a fresh descriptor that nothing else owns.
        return Ok(unsafe { File::from_raw_fd(fd) });
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        // Kernels or file systems without O_TMPFILE answer one of these.
        Some(libc::EOPNOTSUPP | libc::EISDIR) => super::unix::open_tmpfile_by_name(dir),
        _ => Err(err),
    }
}

/// Hands the pages of `[addr, addr + len)` back to the file system
/// (`MADV_REMOVE` punches a hole in the file): afterwards they read as zero
/// and hold no memory. False where the file system cannot do it.
///
/// # Safety
///
/// `[addr, addr + len)` is page aligned, inside a shared file mapping the
/// caller owns, and holds nothing anyone will read again: its contents are
/// lost (as zeros) for every mapping of the file.
pub(crate) unsafe fn discard_pages(addr: *mut u8, len: usize) -> bool {
    // SAFETY: forwarded from the caller's contract; madvise itself only
    // fails (EINVAL, EOPNOTSUPP) on a range it cannot punch.
    unsafe { libc::madvise(addr.cast(), len, libc::MADV_REMOVE) == 0 }
}

/// The size of the device-DAX character device open as `file`, from sysfs.
pub(crate) fn dax_device_size(file: &File) -> io::Result<usize> {
    let rdev = file.metadata()?.rdev();
    let (major, minor) = (libc::major(rdev), libc::minor(rdev));
    let subsystem = std::fs::read_link(format!("/sys/dev/char/{major}:{minor}/subsystem"))?;
    if !subsystem.ends_with("dax") {
        return Err(io::Error::from_raw_os_error(libc::ENODEV));
    }
    let size = std::fs::read_to_string(format!("/sys/dev/char/{major}:{minor}/size"))?;
    size.trim().parse().map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// `MEMBARRIER_CMD_PRIVATE_EXPEDITED` and its registration, from
/// `<linux/membarrier.h>`.
const MEMBARRIER_CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

/// Registers the process for [`membarrier`]; false where the kernel (or a
/// tool such as valgrind) does not offer it.
pub(crate) fn membarrier_register() -> bool {
    // SAFETY: a system call with integer arguments only.
    unsafe { libc::syscall(libc::SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0 }
}

/// Makes every running thread of the process execute a full memory barrier
/// before it returns; false when it could not.
pub(crate) fn membarrier() -> bool {
    // SAFETY: a system call with integer arguments only.
    unsafe { libc::syscall(libc::SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0 }
}

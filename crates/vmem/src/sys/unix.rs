//! What every Unix offers: a temporary file made by name and unlinked at once,
//! space reservation, the page size, a file mapped at an aligned address.

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::{AsRawFd, FromRawFd};
use std::path::Path;
use std::ptr;

/// The system page size.
pub(crate) fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

/// Blocks every signal on this thread while alive, so that a signal handler
/// that exits cannot leave a named temporary file behind.
struct SignalsBlocked {
    previous: libc::sigset_t,
}

impl SignalsBlocked {
    fn new() -> Self {
        // SAFETY: sigset_t is plain data; sigfillset/pthread_sigmask only write
        // into the sets we pass, which live on this stack frame.
        unsafe {
            let mut all: libc::sigset_t = std::mem::zeroed();
            let mut previous: libc::sigset_t = std::mem::zeroed();
            libc::sigfillset(&mut all);
            libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut previous);
            SignalsBlocked { previous }
        }
    }
}

impl Drop for SignalsBlocked {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved in `new`, a valid sigset_t.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.previous, std::ptr::null_mut()) };
    }
}

/// A temporary file in `dir` that never shows in a listing: made under a
/// unique name and unlinked at once, with signals blocked in between.
pub(crate) fn open_tmpfile_by_name(dir: &Path) -> io::Result<File> {
    let mut template = dir.as_os_str().as_bytes().to_vec();
    template.extend_from_slice(b"/vmem.XXXXXX");
    let template = CString::new(template).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let mut template = template.into_bytes_with_nul();
    let _blocked = SignalsBlocked::new();
    // SAFETY: `template` is a writable NUL-terminated buffer ending in XXXXXX,
    // as mkstemp requires.
    let fd = unsafe { libc::mkstemp(template.as_mut_ptr().cast()) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: mkstemp returned a new descriptor that nothing else owns.
    let file = unsafe { File::from_raw_fd(fd) };
    let name = OsStr::from_bytes(&template[..template.len() - 1]);
    std::fs::remove_file(name)?;
    set_cloexec(&file);
    Ok(file)
}

fn set_cloexec(file: &File) {
    // SAFETY: fcntl on a descriptor we own, with integer arguments only.
    unsafe {
        let flags = libc::fcntl(file.as_raw_fd(), libc::F_GETFD);
        if flags >= 0 {
            libc::fcntl(file.as_raw_fd(), libc::F_SETFD, flags | libc::FD_CLOEXEC);
        }
    }
}

/// Reserves `len` bytes of file-system space at `offset`, so that a full file
/// system fails here with ENOSPC rather than with SIGBUS at a later write.
pub(crate) fn reserve(file: &File, offset: usize, len: usize) -> io::Result<()> {
    let (Ok(offset), Ok(len)) = (libc::off_t::try_from(offset), libc::off_t::try_from(len)) else {
        return Err(io::Error::from_raw_os_error(libc::EFBIG));
    };
    #[cfg(any(target_os = "linux", target_os = "freebsd"))]
    {
        // SAFETY: plain system call on a descriptor we own.
        let err = unsafe { libc::posix_fallocate(file.as_raw_fd(), offset, len) };
        if err != 0 {
            return Err(io::Error::from_raw_os_error(err));
        }
        Ok(())
    }
    #[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
    {
        // No portable reservation here: size the file; the space comes on use.
        let end = u64::try_from(offset + len).map_err(|_| io::Error::from_raw_os_error(libc::EFBIG))?;
        if file.metadata()?.len() < end {
            file.set_len(end)?;
        }
        Ok(())
    }
}

/// A file mapped shared read-write at an address that is a multiple of a
/// chosen alignment, larger than the system's page if need be; unmapped on
/// drop.
///
/// `mmap` places a mapping at a multiple of the system's page only. So
/// address space for the mapping and one alignment's worth of slack is
/// reserved first (inaccessible: no memory, no commit charge), and the file
/// is mapped over the first aligned part of it. The slack on either side
/// stays reserved and is unmapped with the mapping, so nothing else can be
/// mapped in it meanwhile.
pub(crate) struct AlignedMap {
    /// The whole reservation, the mapping included.
    reserved: *mut libc::c_void,
    reserved_len: usize,
    /// Where the file is mapped.
    addr: *mut u8,
}

// SAFETY: an address range this value alone unmaps; which thread drops it
// does not matter.
unsafe impl Send for AlignedMap {}
// SAFETY: as above; `&self` only reads the address.
unsafe impl Sync for AlignedMap {}

impl AlignedMap {
    /// Maps the first `len` bytes of `file` at a multiple of `align` (a
    /// power of two; the system's page when smaller).
    pub(crate) fn new(file: &File, len: usize, align: usize) -> io::Result<Self> {
        let page = page_size();
        let slack = align.max(page) - page;
        let reserved_len = len.checked_add(slack).ok_or_else(|| io::Error::from_raw_os_error(libc::ENOMEM))?;
        // SAFETY: a new private anonymous mapping where the system finds
        // room; it replaces nothing.
        let reserved = unsafe {
            libc::mmap(ptr::null_mut(), reserved_len, libc::PROT_NONE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
        };
        if reserved == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // From here on, dropping `map` unmaps the reservation.
        let mut map = AlignedMap { reserved, reserved_len, addr: reserved.cast() };
        let offset = (reserved as usize).next_multiple_of(align.max(page)) - reserved as usize;
        // SAFETY: `offset <= slack`, so `[reserved + offset, + len)` lies
        // inside our own reservation, which MAP_FIXED replaces there and
        // which nothing else uses; the file is ours and open read-write.
        let addr = unsafe {
            libc::mmap(
                reserved.cast::<u8>().add(offset).cast(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_FIXED,
                file.as_raw_fd(),
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        map.addr = addr.cast();
        Ok(map)
    }

    /// Where the file is mapped.
    pub(crate) fn addr(&self) -> *mut u8 {
        self.addr
    }
}

impl Drop for AlignedMap {
    fn drop(&mut self) {
        // SAFETY: the reservation made in `new`, the mapping inside it, both
        // ours alone; the pool that used the memory is gone.
        unsafe { libc::munmap(self.reserved, self.reserved_len) };
    }
}

/// Without a device-DAX notion, no character device is a pool.
#[cfg(not(target_os = "linux"))]
pub(crate) fn dax_device_size(_file: &File) -> io::Result<usize> {
    Err(io::Error::from_raw_os_error(libc::ENODEV))
}

/// Without `MADV_REMOVE`, pages cannot be handed back to the file system.
///
/// # Safety
///
/// As for the Linux version: nothing in the range is read again.
#[cfg(not(target_os = "linux"))]
pub(crate) unsafe fn discard_pages(_addr: *mut u8, _len: usize) -> bool {
    false
}

/// Without `membarrier`, no process-wide barrier: callers fall back to a
/// fence on both sides.
#[cfg(not(target_os = "linux"))]
pub(crate) fn membarrier_register() -> bool {
    false
}

/// See [`membarrier_register`].
#[cfg(not(target_os = "linux"))]
pub(crate) fn membarrier() -> bool {
    false
}

/// A number that identifies the calling thread among the live threads: the
/// thread pointer where reading it is one instruction, else `pthread_self`:
/// an aligned address, so never 0 or 1. Unlike a thread-local variable in a
/// shared library, it costs no call to `__tls_get_addr`.
#[inline(always)]
pub(crate) fn thread_id() -> usize {
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    {
        let id: usize;
        // SAFETY: on x86-64 Linux (glibc and musl) %fs:0 holds the thread
        // control block's pointer to itself; reading it has no side effects.
        unsafe {
            std::arch::asm!("mov {}, qword ptr fs:[0]", out(reg) id, options(nostack, readonly, preserves_flags))
        };
        id
    }
    #[cfg(all(target_os = "linux", target_arch = "aarch64"))]
    {
        let id: usize;
        // SAFETY: TPIDR_EL0 is the thread pointer on aarch64 Linux; reading
        // it has no side effects.
        unsafe { std::arch::asm!("mrs {}, tpidr_el0", out(reg) id, options(nostack, nomem, preserves_flags)) };
        id
    }
    #[cfg(not(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64"))))]
    {
        // SAFETY: pthread_self has no preconditions.
        unsafe { libc::pthread_self() as usize }
    }
}

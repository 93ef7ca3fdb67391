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

/// The offset from the thread pointer of the thread-local that `locate`
/// returns the calling thread's address of, if that offset is the same in
/// every thread of the process: so on glibc when the module that holds the
/// thread-local keeps its thread-locals in the static TLS block (a program,
/// or a library loaded at start); not when it was loaded with dlopen, whose
/// thread-locals each thread allocates on its first use, anywhere.
///
/// Proven in a new thread that has run none of the module's code: glibc
/// gives such a thread the blocks of static-TLS modules as it starts, and a
/// dynamic module's block only when the thread first uses it, so the
/// module's block is there already exactly when it is static.
#[cfg(target_env = "gnu")]
pub(crate) fn static_tls_offset(locate: extern "C" fn() -> usize) -> Option<usize> {
    struct Probe {
        locate: extern "C" fn() -> usize,
        /// The module's block, in the new thread, before it ran its code.
        found_block: bool,
        /// The offset the new thread sees (after the check).
        offset: usize,
    }

    unsafe extern "C" fn find_module(
        info: *mut libc::dl_phdr_info,
        size: libc::size_t,
        data: *mut libc::c_void,
    ) -> libc::c_int {
        // SAFETY: `data` is the `Probe` passed to dl_iterate_phdr below, and
        // `info` a record of `size` bytes that glibc hands the callback.
        let (probe, info) = unsafe { (&mut *data.cast::<Probe>(), &*info) };
        if size < std::mem::offset_of!(libc::dl_phdr_info, dlpi_tls_data) + std::mem::size_of::<usize>() {
            return 1; // A glibc without the TLS fields: no proof.
        }
        let address = probe.locate as usize as u64;
        // SAFETY: glibc's records list `dlpi_phnum` program headers.
        let headers = unsafe { std::slice::from_raw_parts(info.dlpi_phdr, usize::from(info.dlpi_phnum)) };
        let holds = headers.iter().any(|header| {
            let start = info.dlpi_addr.wrapping_add(header.p_vaddr);
            header.p_type == libc::PT_LOAD && address >= start && address - start < header.p_memsz
        });
        if !holds {
            return 0;
        }
        probe.found_block = !info.dlpi_tls_data.is_null();
        1
    }

    extern "C" fn in_new_thread(data: *mut libc::c_void) -> *mut libc::c_void {
        // SAFETY: `data` is the `Probe` of the spawning thread, which waits
        // in pthread_join meanwhile.
        let probe = unsafe { &mut *data.cast::<Probe>() };
        // SAFETY: the callback reads only what glibc hands it and `probe`.
        unsafe { libc::dl_iterate_phdr(Some(find_module), data) };
        if probe.found_block {
            probe.offset = (probe.locate)().wrapping_sub(super::unix::thread_id());
        }
        std::ptr::null_mut()
    }

    let mut probe = Probe { locate, found_block: false, offset: 0 };
    let mut thread: libc::pthread_t = 0;
    let data: *mut Probe = &mut probe;
    // SAFETY: a plain thread running `in_new_thread` on `probe`, joined
    // before `probe` goes out of scope.
    let spawned = unsafe { libc::pthread_create(&mut thread, std::ptr::null(), in_new_thread, data.cast()) };
    // SAFETY: joined once, as created.
    if spawned != 0 || unsafe { libc::pthread_join(thread, std::ptr::null_mut()) } != 0 {
        return None;
    }
    let here = locate().wrapping_sub(super::unix::thread_id());
    (probe.found_block && probe.offset == here).then_some(here)
}

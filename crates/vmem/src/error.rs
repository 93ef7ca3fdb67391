//! Errors: the errno-carrying [`Error`] value, and the one store of each
//! thread's last reported error, which [`errormsg`] (and the C library's
//! `vmem_errormsg`, and the Node.js binding's `lastErrno`) read.
//!
//! Building an [`Error`] has no side effect. [`Error::report`] is the one
//! place an error is logged and recorded; it runs at the boundary of a
//! public call, once per failure (the pool's public methods for their own
//! errors, the C library and the Node.js binding for theirs).

use std::cell::RefCell;
use std::ffi::c_char;
use std::fmt;

use crate::log::Level;

/// The last reported error of a thread.
struct LastError {
    errno: i32,
    /// The message with a NUL appended, so that C can read it in place.
    /// Empty before the first error. Its buffer is reused, so a pointer C
    /// holds keeps pointing at the latest message while it fits.
    message: String,
}

thread_local! {
    /// The last reported error of this thread. Never cleared, like libvmem's.
    static LAST_ERROR: RefCell<LastError> = const { RefCell::new(LastError { errno: 0, message: String::new() }) };
}

/// What went wrong in a vmem call: an errno value and a human-readable message.
///
/// A plain value: building one logs and records nothing. Every error a vmem
/// call returns has been [reported](Error::report) once, so its message is
/// the text [`errormsg`] returns afterwards on the thread where it happened.
/// When a system call failed, the message ends with `": "` and the
/// `strerror` text of its errno.
///
/// # Example
///
/// ```
/// let err = vmem::Pool::create(std::env::temp_dir(), 1000).unwrap_err();
/// assert_eq!(err.errno(), libc::EINVAL);
/// assert_eq!(err.message(), "size 1000 smaller than 14680064");
/// assert_eq!(vmem::errormsg(), err.message());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    errno: i32,
    message: String,
}

/// The result type of every fallible vmem call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error detected without a failed system call (the message carries
    /// no `strerror` suffix). Only a value: [`report`](Error::report) it
    /// where it leaves the library.
    ///
    /// ```
    /// let err = vmem::Error::new(libc::EINVAL, "invalid pool handle");
    /// assert_eq!(err.errno(), libc::EINVAL);
    /// assert_ne!(vmem::errormsg(), "invalid pool handle");
    /// ```
    pub fn new(errno: i32, message: impl Into<String>) -> Self {
        Error { errno, message: message.into() }
    }

    /// An error whose cause is a failed system call: `": <strerror>"` is
    /// appended, as libvmem does.
    pub(crate) fn from_os(errno: i32, context: impl fmt::Display) -> Self {
        Error { errno, message: format!("{context}: {}", strerror(errno)) }
    }

    /// Same as [`Error::from_os`], from an `io::Error`. An error the standard
    /// library raises before any system call is `EINVAL` when it is about
    /// the arguments (a path with a NUL byte), else `EIO`.
    pub(crate) fn from_io(err: &std::io::Error, context: impl fmt::Display) -> Self {
        let errno = err.raw_os_error().unwrap_or(match err.kind() {
            std::io::ErrorKind::InvalidInput => libc::EINVAL,
            _ => libc::EIO,
        });
        Self::from_os(errno, context)
    }

    /// Reports the error where it leaves the library: logs its message at
    /// level 1 and records it as this thread's last error ([`errormsg`],
    /// [`last_errno`]). Every failure is reported exactly once; the pool's
    /// methods report their own, and faces over this crate (the C library,
    /// the Node.js binding) report the errors they make themselves.
    ///
    /// ```
    /// let err = vmem::Error::new(libc::EINVAL, "invalid pool handle").report();
    /// assert_eq!(vmem::errormsg(), "invalid pool handle");
    /// assert_eq!(vmem::last_errno(), err.errno());
    /// ```
    #[cold]
    pub fn report(self) -> Self {
        crate::vlog!(Level::Error, "{}", self.message);
        // A thread that is exiting (its thread-locals gone) or inside a log
        // callback that itself failed keeps its previous error.
        let _ = LAST_ERROR.try_with(|last| {
            if let Ok(mut last) = last.try_borrow_mut() {
                last.errno = self.errno;
                last.message.clear();
                last.message.push_str(&self.message);
                last.message.push('\0');
            }
        });
        self
    }

    /// The errno value (`libc::EINVAL`, `libc::ENOMEM`, ...).
    ///
    /// ```
    /// let err = vmem::Pool::create("/no/such/dir", vmem::MIN_POOL).unwrap_err();
    /// assert_eq!(err.errno(), libc::ENOENT);
    /// ```
    pub fn errno(&self) -> i32 {
        self.errno
    }

    /// The symbolic errno name, such as `"ENOMEM"` (`"EUNKNOWN"` for numbers
    /// vmem never reports).
    ///
    /// ```
    /// let err = vmem::Pool::create("/no/such/dir", vmem::MIN_POOL).unwrap_err();
    /// assert_eq!(err.code(), "ENOENT");
    /// ```
    pub fn code(&self) -> &'static str {
        errno_name(self.errno)
    }

    /// The message, the same text [`errormsg`] returns after the error.
    ///
    /// ```
    /// let err = vmem::Pool::create("/no/such/dir", vmem::MIN_POOL).unwrap_err();
    /// assert!(err.message().ends_with(": No such file or directory"));
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code(), self.errno, self.message)
    }
}

impl std::error::Error for Error {}

impl From<Error> for std::io::Error {
    fn from(err: Error) -> Self {
        std::io::Error::new(std::io::Error::from_raw_os_error(err.errno).kind(), err)
    }
}

/// Reads this thread's last error, or `default` when it cannot be read (the
/// thread is exiting, or a log callback is inside [`Error::report`]).
fn with_last<R>(default: R, read: impl FnOnce(&LastError) -> R) -> R {
    LAST_ERROR.try_with(|last| last.try_borrow().map(|last| read(&last)).ok()).ok().flatten().unwrap_or(default)
}

/// The last error message of the calling thread (libvmem's `vmem_errormsg`).
///
/// The message is thread-local and never cleared: it is meaningful right after
/// a call that failed. Empty when this thread saw no error yet.
///
/// ```
/// assert!(vmem::Pool::create("/no/such/dir", vmem::MIN_POOL).is_err());
/// assert!(vmem::errormsg().contains("/no/such/dir"));
/// ```
pub fn errormsg() -> String {
    with_last(String::new(), |last| last.message.strip_suffix('\0').unwrap_or_default().to_owned())
}

/// The errno of the calling thread's last error (0 before the first). Like
/// [`errormsg`], thread-local, never cleared, meaningful right after a call
/// that failed.
///
/// ```
/// assert!(vmem::Pool::create("/no/such/dir", vmem::MIN_POOL).is_err());
/// assert_eq!(vmem::last_errno(), libc::ENOENT);
/// ```
pub fn last_errno() -> i32 {
    with_last(0, |last| last.errno)
}

/// [`errormsg`] in place, as a NUL-terminated C string, for the C library's
/// `vmem_errormsg`: valid on this thread until its next error makes the
/// message longer than its buffer, or the thread exits. A message holding a
/// NUL byte (possible only from a Rust path) reads as cut there.
#[doc(hidden)]
pub fn errormsg_c() -> *const c_char {
    with_last(c"".as_ptr(), |last| if last.message.is_empty() { c"".as_ptr() } else { last.message.as_ptr().cast() })
}

/// The `strerror` text of an errno value.
pub(crate) fn strerror(errno: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    // std appends " (os error N)"; libvmem's messages carry the bare text.
    match text.rfind(" (os error ") {
        Some(cut) => text[..cut].to_owned(),
        None => text,
    }
}

/// The symbolic name of the errno values vmem reports.
pub(crate) fn errno_name(errno: i32) -> &'static str {
    match errno {
        libc::EINVAL => "EINVAL",
        libc::ENOMEM => "ENOMEM",
        libc::ENOENT => "ENOENT",
        libc::ENOTDIR => "ENOTDIR",
        libc::EACCES => "EACCES",
        libc::ENOSPC => "ENOSPC",
        libc::EPERM => "EPERM",
        libc::EROFS => "EROFS",
        libc::EMFILE => "EMFILE",
        libc::ENFILE => "ENFILE",
        libc::EFBIG => "EFBIG",
        libc::EIO => "EIO",
        libc::EAGAIN => "EAGAIN",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::ENODEV => "ENODEV",
        libc::EFAULT => "EFAULT",
        _ => "EUNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::ffi::CStr;

    /// This thread's last error as C reads it.
    fn c_message() -> String {
        // SAFETY: errormsg_c gives a NUL-terminated string, valid until this
        // thread's next error.
        unsafe { CStr::from_ptr(errormsg_c()) }.to_str().unwrap().to_owned()
    }

    #[test]
    fn os_errors_carry_strerror_text() {
        let err = Error::from_os(libc::ENOENT, "open /x").report();
        assert_eq!(err.message(), "open /x: No such file or directory");
        assert_eq!(errormsg(), err.message());
        assert_eq!(err.code(), "ENOENT");
    }

    #[test]
    fn building_an_error_records_nothing_reporting_records_it_once() {
        std::thread::spawn(|| {
            assert_eq!((errormsg(), last_errno(), c_message()), (String::new(), 0, String::new()));
            let err = Error::new(libc::EINVAL, "built only");
            let _ = Error::from_os(libc::ENOENT, "built only too");
            assert_eq!((errormsg(), last_errno()), (String::new(), 0));
            let err = err.report();
            assert_eq!(
                (errormsg(), last_errno(), c_message()),
                (err.message().to_owned(), libc::EINVAL, err.message().to_owned())
            );
            // The store's buffer is reused: C's pointer reads the newest
            // message of no greater length.
            let held = errormsg_c();
            Error::new(libc::ENOMEM, "shorter").report();
            // SAFETY: "shorter" fits the buffer `held` points into.
            assert_eq!(unsafe { CStr::from_ptr(held) }, c"shorter");
            assert_eq!(last_errno(), libc::ENOMEM);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn errors_are_thread_local() {
        Error::new(libc::EINVAL, "main thread error").report();
        std::thread::spawn(|| {
            assert_eq!(errormsg(), "");
            Error::new(libc::ENOMEM, "other thread error").report();
        })
        .join()
        .unwrap();
        assert_eq!(errormsg(), "main thread error");
        assert_eq!(last_errno(), libc::EINVAL);
    }
}

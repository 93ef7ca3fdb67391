//! Errors: the errno-carrying [`Error`] type and the thread-local last error
//! message that [`errormsg`] returns.

use std::cell::RefCell;
use std::fmt;

use crate::log::Level;

thread_local! {
    /// The last error message of this thread. Never cleared, like libvmem's.
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// What went wrong in a vmem call: an errno value and a human-readable message.
///
/// The message is the same text that [`errormsg`] returns afterwards on the
/// thread where the error happened. When a system call failed, the message ends
/// with `": "` and the `strerror` text of its errno.
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
    /// no `strerror` suffix), recorded as this thread's [`errormsg`] and
    /// logged at level 1. Faces over this crate (the C library) use it for
    /// their own argument errors.
    ///
    /// ```
    /// let err = vmem::Error::new(libc::EINVAL, "invalid pool handle");
    /// assert_eq!(vmem::errormsg(), "invalid pool handle");
    /// assert_eq!(err.errno(), libc::EINVAL);
    /// ```
    pub fn new(errno: i32, message: impl Into<String>) -> Self {
        Self::record(errno, message.into())
    }

    /// An error whose cause is a failed system call: `": <strerror>"` is
    /// appended, as libvmem does.
    pub(crate) fn from_os(errno: i32, context: impl fmt::Display) -> Self {
        let message = format!("{context}: {}", strerror(errno));
        Self::record(errno, message)
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

    fn record(errno: i32, message: String) -> Self {
        crate::vlog!(Level::Error, "{message}");
        // A thread that is exiting (its thread-locals gone) or inside a log
        // callback that itself failed keeps its previous message.
        let _ = LAST_ERROR.try_with(|last| {
            if let Ok(mut last) = last.try_borrow_mut() {
                last.clear();
                last.push_str(&message);
            }
        });
        Error { errno, message }
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
    LAST_ERROR.try_with(|last| last.try_borrow().map(|last| last.clone()).unwrap_or_default()).unwrap_or_default()
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

    #[test]
    fn os_errors_carry_strerror_text() {
        let err = Error::from_os(libc::ENOENT, "open /x");
        assert_eq!(err.message(), "open /x: No such file or directory");
        assert_eq!(errormsg(), err.message());
        assert_eq!(err.code(), "ENOENT");
    }

    #[test]
    fn errors_are_thread_local() {
        let _ = Error::new(libc::EINVAL, "main thread error");
        std::thread::spawn(|| {
            assert_eq!(errormsg(), "");
            let _ = Error::new(libc::ENOMEM, "other thread error");
        })
        .join()
        .unwrap();
        assert_eq!(errormsg(), "main thread error");
    }
}

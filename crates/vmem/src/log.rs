//! Logging: `VMEM_LOG_LEVEL` (0..=4) and `VMEM_LOG_FILE`, honoured in every
//! build, and the print function that [`set_funcs`] replaces.
//!
//! When logging is off (the default) the cost at a trace point is one relaxed
//! atomic load and a compare.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

/// How much vmem logs, from `VMEM_LOG_LEVEL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    /// 1: details of every error, besides the error value itself.
    Error = 1,
    /// 2: a trace of basic operations (pool create and delete).
    Basic = 2,
    /// 3: every library call.
    Call = 3,
    /// 4: every allocation and free.
    Alloc = 4,
}

/// A function that receives everything vmem prints: statistics from
/// [`Pool::stats_print`](crate::Pool::stats_print) and log lines.
pub type PrintFn = Arc<dyn Fn(&str) + Send + Sync>;

const LEVEL_UNREAD: u8 = u8::MAX;
static LEVEL: AtomicU8 = AtomicU8::new(LEVEL_UNREAD);
static PRINT: RwLock<Option<PrintFn>> = RwLock::new(None);
/// The default sink, opened on first use: `VMEM_LOG_FILE` or stderr.
static DEFAULT_SINK: OnceLock<Option<Mutex<File>>> = OnceLock::new();

/// The log level in force (0 = off), read from `VMEM_LOG_LEVEL` on first use.
///
/// ```
/// assert!(vmem::log_level() <= 4);
/// ```
pub fn level() -> u8 {
    let level = LEVEL.load(Ordering::Relaxed);
    if level != LEVEL_UNREAD {
        return level;
    }
    let parsed = std::env::var("VMEM_LOG_LEVEL")
        .ok()
        .and_then(|value| value.trim().parse::<u8>().ok())
        .map_or(0, |value| value.min(Level::Alloc as u8));
    LEVEL.store(parsed, Ordering::Relaxed);
    parsed
}

/// Whether messages of `level` are printed. Inlined into every trace point.
#[inline(always)]
pub(crate) fn enabled(level: Level) -> bool {
    let current = LEVEL.load(Ordering::Relaxed);
    current != 0 && enabled_when_on(current, level)
}

/// The rest of [`enabled`], out of line and cold, so that the compiler keeps
/// the formatting of trace points off the hot paths entirely.
#[cold]
#[inline(never)]
fn enabled_when_on(current: u8, level: Level) -> bool {
    // LEVEL_UNREAD is larger than every level, so the level is read once.
    current >= level as u8 && (current != LEVEL_UNREAD || self::level() >= level as u8)
}

/// Logs a line at `level` when that level is enabled; the arguments are not
/// even formatted otherwise.
#[macro_export]
#[doc(hidden)]
macro_rules! vlog {
    ($level:expr, $($arg:tt)*) => {
        if $crate::log::enabled($level) {
            $crate::log::write_line($level, ::std::format_args!($($arg)*));
        }
    };
}

#[doc(hidden)]
pub fn write_line(level: Level, args: fmt::Arguments<'_>) {
    print(&format!("<vmem>: <{}> {args}\n", level as u8));
}

/// Prints `text` through the print function: the one given to [`set_funcs`], else
/// the file named by `VMEM_LOG_FILE`, else stderr.
pub fn print(text: &str) {
    let custom = PRINT.read().unwrap_or_else(|e| e.into_inner()).clone();
    match custom {
        Some(print) => print(text),
        None => default_print(text),
    }
}

/// The logging locks, held across `fork` (see [`crate::fork`]): the print
/// function's, and the log file's once it is open.
pub(crate) struct LogLocks;

pub(crate) static FORK_LOCKS: LogLocks = LogLocks;

impl crate::fork::ForkLocks for LogLocks {
    fn hold(&self) -> crate::fork::Release<'_> {
        let print = PRINT.hold();
        let sink = DEFAULT_SINK.get().and_then(Option::as_ref).map(|file| file.hold());
        Box::new(move |in_child| {
            if let Some(release) = sink {
                release(in_child);
            }
            print(in_child);
        })
    }
}

/// Opens the `VMEM_LOG_FILE` sink now, for `libvmem.so`'s load-time
/// constructor: libvmem opened its log file as the library loaded, so a
/// program sees the same open descriptors before its first pool and after its
/// last `vmem_delete` (test harnesses compare the two). Also reads
/// `VMEM_LOG_LEVEL` now.
#[doc(hidden)]
pub fn open_at_load() {
    let _ = level();
    if std::env::var_os("VMEM_LOG_FILE").is_some() {
        DEFAULT_SINK.get_or_init(open_log_file);
    }
}

fn default_print(text: &str) {
    match DEFAULT_SINK.get_or_init(open_log_file) {
        Some(file) => {
            let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
            let _ = file.write_all(text.as_bytes());
        }
        None => {
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
    }
}

/// Opens `VMEM_LOG_FILE` for appending; a trailing `-` gets the process id
/// appended, as libvmem does: `/tmp/vmem.log-` becomes `/tmp/vmem.log-1234`.
fn open_log_file() -> Option<Mutex<File>> {
    let name = std::env::var_os("VMEM_LOG_FILE")?;
    let mut name = name.into_string().ok()?;
    if name.is_empty() {
        return None;
    }
    if name.ends_with('-') {
        name.push_str(&std::process::id().to_string());
    }
    OpenOptions::new().create(true).append(true).open(name).ok().map(Mutex::new)
}

/// Replaces the function vmem prints through (libvmem's `vmem_set_funcs`).
///
/// The function runs inside vmem's calls, at log level 4 even from inside a
/// pool's allocator while it holds its locks and the calling thread's cache:
/// it must print and return, never call vmem itself (allocate, free, print
/// statistics or set the functions again), as libvmem's `print_func` must
/// not.
///
/// `None` restores the default: the file named by `VMEM_LOG_FILE`, else
/// stderr. In Rust the library's own small allocations use the program's
/// global allocator, which the program already controls; the C library
/// (`vmem-ffi`) maps libvmem's `malloc_func` & co. onto that.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// let printed = Arc::new(Mutex::new(String::new()));
/// let sink = printed.clone();
/// vmem::set_funcs(Some(Arc::new(move |text: &str| sink.lock().unwrap().push_str(text))));
/// let pool = vmem::Pool::create(std::env::temp_dir(), vmem::MIN_POOL).unwrap();
/// pool.stats_print("");
/// vmem::set_funcs(None);
/// assert!(printed.lock().unwrap().contains("vmem statistics"));
/// ```
pub fn set_funcs(print: Option<PrintFn>) {
    *PRINT.write().unwrap_or_else(|e| e.into_inner()) = print;
}

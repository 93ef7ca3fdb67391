//! `libvmem.so`: the C ABI of libvmem 1.x over the `vmem` crate. This crate
//! only adapts: C strings and pointers in, NULL and `errno` out, panics caught
//! at the boundary. The header is `include/libvmem.h`.

#![deny(unsafe_op_in_unsafe_fn)]
#![allow(clippy::missing_safety_doc)] // the contract is libvmem's manual page

mod host_alloc;

use std::ffi::{c_char, c_int, c_uint, c_void, CStr, CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::{Arc, Mutex};

use vmem::Pool;

#[global_allocator]
static HOST_ALLOCATOR: host_alloc::HostAllocator = host_alloc::HostAllocator;

/// The C `VMEM` handle: a boxed pool.
pub struct VMEM(Pool);

/// Addresses of the live handles, so `vmem_check` and `vmem_delete` can tell
/// a deleted handle without touching it.
static LIVE_HANDLES: Mutex<Vec<usize>> = Mutex::new(Vec::new());

/// Runs when the library is loaded, as libvmem's constructor did: jemalloc
/// starts up here rather than inside the first `vmem_create` (about 1 ms),
/// and the `VMEM_LOG_FILE` log file opens here rather than at the first log
/// line, so no descriptor appears in the middle of the program's run.
/// It also holds this library's locks across `fork`, around the core's: the
/// host allocator's last (the core allocates under its own locks), the
/// handle list first (held while calling the core).
extern "C" fn at_load() {
    let _ = catch_unwind(|| {
        vmem::log::open_at_load();
        vmem::init();
        vmem::fork::hold_last(&host_alloc::EMERGENCY);
        vmem::fork::hold_first(&LIVE_HANDLES);
    });
}

#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
#[used]
#[link_section = ".init_array"]
static AT_LOAD: extern "C" fn() = at_load;

/// The exported names, `vmem_*@@LIBVMEM_1.0` (see build.rs): each is an
/// alias of the Rust function of the same name (same address, no jump). The
/// version lets programs linked against PMDK's libvmem start without
/// "no version information available".
macro_rules! versioned_exports {
    ($($name:ident),* $(,)?) => {
        #[cfg(libvmem_versioned)]
        std::arch::global_asm!(
            $(
                concat!(".globl ", stringify!($name)),
                concat!(".type ", stringify!($name), ",@function"),
                concat!(".set ", stringify!($name), ", {", stringify!($name), "}"),
            )*
            $($name = sym $name,)*
        );
    };
}

versioned_exports!(
    vmem_create,
    vmem_create_in_region,
    vmem_delete,
    vmem_check,
    vmem_stats_print,
    vmem_malloc,
    vmem_free,
    vmem_calloc,
    vmem_realloc,
    vmem_aligned_alloc,
    vmem_strdup,
    vmem_wcsdup,
    vmem_malloc_usable_size,
    vmem_check_version,
    vmem_set_funcs,
    vmem_errormsg,
);

fn set_errno(errno: c_int) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: __errno_location returns this thread's errno slot.
    unsafe {
        *libc::__errno_location() = errno
    };
    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
    // SAFETY: __error returns this thread's errno slot.
    unsafe {
        *libc::__error() = errno
    };
}

/// Answers a failed call: `errno` from `err` (which the core has reported
/// already), and the value that means failure.
fn fail<T>(err: vmem::Error, failed: T) -> T {
    set_errno(err.errno());
    failed
}

/// Fails a call for a reason found here rather than in the core (a NULL
/// argument, an unknown handle): reports it as the core does its own, so
/// `vmem_errormsg` and the log see it, and sets `errno`.
#[cold]
fn refuse<T>(errno: c_int, message: impl Into<String>, failed: T) -> T {
    fail(vmem::Error::new(errno, message).report(), failed)
}

/// Runs `f`, turning a panic into `failed` with errno EINVAL: no unwinding
/// ever crosses into C.
#[inline]
fn guard<T>(failed: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => value,
        Err(_) => {
            set_errno(libc::EINVAL);
            failed
        }
    }
}

fn is_live(vmp: *const VMEM) -> bool {
    LIVE_HANDLES.lock().unwrap_or_else(|e| e.into_inner()).contains(&(vmp as usize))
}

/// A live handle's pool, for the calls the C contract says take a live pool.
///
/// # Safety
///
/// `vmp` is a handle from `vmem_create*` not yet deleted.
#[inline]
unsafe fn pool<'a>(vmp: *mut VMEM) -> &'a Pool {
    // SAFETY: forwarded from the caller.
    unsafe { &(*vmp).0 }
}

fn register(created: vmem::Result<Pool>) -> *mut VMEM {
    match created {
        Ok(pool) => {
            let vmp = Box::into_raw(Box::new(VMEM(pool)));
            LIVE_HANDLES.lock().unwrap_or_else(|e| e.into_inner()).push(vmp as usize);
            vmp
        }
        Err(err) => fail(err, ptr::null_mut()),
    }
}

/// Creates a pool; if the host's `malloc_func` failed on the way, undoes it
/// and reports ENOMEM, as libvmem does.
fn create_watched(create: impl FnOnce() -> vmem::Result<Pool>) -> *mut VMEM {
    let (vmp, host_malloc_failed) = host_alloc::watch(|| register(create()));
    if host_malloc_failed {
        if !vmp.is_null() {
            // SAFETY: just created and registered above.
            unsafe { vmem_delete(vmp) };
        }
        let why = "out of memory for the pool's run-time state (malloc_func failed)";
        return refuse(libc::ENOMEM, why, ptr::null_mut());
    }
    vmp
}

#[cfg_attr(not(libvmem_versioned), no_mangle)]
pub unsafe extern "C" fn vmem_create(dir: *const c_char, size: usize) -> *mut VMEM {
    guard(ptr::null_mut(), || {
        if dir.is_null() {
            return refuse(libc::EINVAL, "dir is NULL", ptr::null_mut());
        }
        // SAFETY: a non-null C string from the caller.
        let dir = OsStr::from_bytes(unsafe { CStr::from_ptr(dir) }.to_bytes());
        create_watched(|| Pool::create(dir, size))
    })
}

#[cfg_attr(not(libvmem_versioned), no_mangle)]
pub unsafe extern "C" fn vmem_create_in_region(addr: *mut c_void, size: usize) -> *mut VMEM {
    // SAFETY: the caller hands over `size` bytes at `addr` (libvmem's contract).
    guard(ptr::null_mut(), || create_watched(|| unsafe { Pool::create_in_region(addr.cast(), size) }))
}

#[cfg_attr(not(libvmem_versioned), no_mangle)]
pub unsafe extern "C" fn vmem_delete(vmp: *mut VMEM) {
    guard((), || {
        let mut live = LIVE_HANDLES.lock().unwrap_or_else(|e| e.into_inner());
        let Some(index) = live.iter().position(|&h| h == vmp as usize) else {
            drop(live);
            return refuse(libc::EINVAL, format!("invalid pool handle {vmp:p}"), ());
        };
        live.swap_remove(index);
        drop(live);
        // SAFETY: a live handle from Box::into_raw, removed from the list once.
        drop(unsafe { Box::from_raw(vmp) });
    })
}

#[cfg_attr(not(libvmem_versioned), no_mangle)]
pub unsafe extern "C" fn vmem_check(vmp: *mut VMEM) -> c_int {
    guard(-1, || {
        if !is_live(vmp) {
            return refuse(libc::EINVAL, format!("invalid pool handle {vmp:p}"), -1);
        }
        // SAFETY: checked live above.
        match unsafe { pool(vmp) }.check() {
            Ok(true) => 1,
            Ok(false) => 0,
            Err(err) => fail(err, -1),
        }
    })
}

#[cfg_attr(not(libvmem_versioned), no_mangle)]
pub unsafe extern "C" fn vmem_stats_print(vmp: *mut VMEM, opts: *const c_char) {
    guard((), || {
        // SAFETY: a C string from the caller, or NULL.
        let opts = if opts.is_null() { "".into() } else { unsafe { CStr::from_ptr(opts) }.to_string_lossy() };
        // SAFETY: the caller passes a live handle.
        unsafe { pool(vmp) }.stats_print(&opts);
    })
}

fn raw<T>(result: vmem::Result<ptr::NonNull<T>>) -> *mut T {
    match result {
        Ok(block) => block.as_ptr(),
        Err(err) => fail(err, ptr::null_mut()),
    }
}

#[cfg_attr(not(libvmem_versioned), no_mangle)]
pub unsafe extern "C" fn vmem_malloc(vmp: *mut VMEM, size: usize) -> *mut c_void {
    // The common case first, outside the guard: it cannot unwind, and the
    // guard's landing pad would cost every call a stack frame.
    // SAFETY: the caller passes a live handle.
    if let Some(block) = unsafe { pool(vmp) }.malloc_cached(size) {
        return block.as_ptr().cast();
    }
    // SAFETY: as above.
    unsafe { malloc_guarded(vmp, size) }
}

/// `vmem_malloc`'s miss, out of line. The C ABI (the guard catches every
/// panic, so nothing unwinds out of it) lets the caller jump here rather than
/// call: the hit path needs no stack frame and no landing pad.
///
/// # Safety
///
/// `vmp` is a live handle.
#[inline(never)]
unsafe extern "C" fn malloc_guarded(vmp: *mut VMEM, size: usize) -> *mut c_void {
    // The front cache was tried by the caller: straight to the slow path.
    // SAFETY: the caller passes a live handle.
    guard(ptr::null_mut(), || raw(unsafe { pool(vmp) }.malloc_slow(size)).cast())
}

#[cfg_attr(not(libvmem_versioned), no_mangle)]
pub unsafe extern "C" fn vmem_free(vmp: *mut VMEM, ptr: *mut c_void) {
    // As in `vmem_malloc`.
    // SAFETY: the caller passes a live handle and a block of it, or NULL.
    if unsafe { pool(vmp).free_cached(ptr.cast()) } {
        return;
    }
    // SAFETY: as above.
    unsafe { free_guarded(vmp, ptr) }
}

/// `vmem_free`'s miss, out of line (see `malloc_guarded`).
///
/// # Safety
///
/// `vmp` is a live handle and `ptr` a block of it, or NULL.
#[inline(never)]
unsafe extern "C" fn free_guarded(vmp: *mut VMEM, ptr: *mut c_void) {
    // As in `malloc_guarded`.
    // SAFETY: forwarded from the caller.
    guard((), || unsafe { pool(vmp).free_slow(ptr.cast()) })
}

#[cfg_attr(not(libvmem_versioned), no_mangle)]
pub unsafe extern "C" fn vmem_calloc(vmp: *mut VMEM, nmemb: usize, size: usize) -> *mut c_void {
    // SAFETY: the caller passes a live handle.
    guard(ptr::null_mut(), || raw(unsafe { pool(vmp) }.calloc(nmemb, size)).cast())
}

#[cfg_attr(not(libvmem_versioned), no_mangle)]
pub unsafe extern "C" fn vmem_realloc(vmp: *mut VMEM, ptr: *mut c_void, size: usize) -> *mut c_void {
    guard(ptr::null_mut(), || {
        // SAFETY: the caller passes a live handle and a block of it, or NULL.
        match unsafe { pool(vmp).realloc(ptr.cast(), size) } {
            Ok(Some(block)) => block.as_ptr().cast(),
            Ok(None) => ptr::null_mut(),
            Err(err) => fail(err, ptr::null_mut()),
        }
    })
}

#[cfg_attr(not(libvmem_versioned), no_mangle)]
pub unsafe extern "C" fn vmem_aligned_alloc(vmp: *mut VMEM, alignment: usize, size: usize) -> *mut c_void {
    // SAFETY: the caller passes a live handle.
    guard(ptr::null_mut(), || raw(unsafe { pool(vmp) }.aligned_alloc(alignment, size)).cast())
}

#[cfg_attr(not(libvmem_versioned), no_mangle)]
pub unsafe extern "C" fn vmem_strdup(vmp: *mut VMEM, s: *const c_char) -> *mut c_char {
    guard(ptr::null_mut(), || {
        if s.is_null() {
            return refuse(libc::EINVAL, "string is NULL", ptr::null_mut());
        }
        // SAFETY: a live handle and a C string from the caller.
        raw(unsafe { pool(vmp).strdup(CStr::from_ptr(s)) })
    })
}

#[cfg_attr(not(libvmem_versioned), no_mangle)]
pub unsafe extern "C" fn vmem_wcsdup(vmp: *mut VMEM, s: *const libc::wchar_t) -> *mut libc::wchar_t {
    guard(ptr::null_mut(), || {
        if s.is_null() {
            return refuse(libc::EINVAL, "string is NULL", ptr::null_mut());
        }
        // SAFETY: a NUL-terminated wide string from the caller: its length is
        // wcslen's answer, and the slice stays inside it.
        let wide = unsafe { std::slice::from_raw_parts(s, libc::wcslen(s)) };
        // SAFETY: the caller passes a live handle.
        raw(unsafe { pool(vmp) }.wcsdup(wide))
    })
}

#[cfg_attr(not(libvmem_versioned), no_mangle)]
pub unsafe extern "C" fn vmem_malloc_usable_size(vmp: *mut VMEM, ptr: *mut c_void) -> usize {
    // SAFETY: the caller passes a live handle and a block of it, or NULL.
    guard(0, || unsafe { pool(vmp).usable_size(ptr.cast()) })
}

/// The reason is the core's, NUL-terminated and kept for the life of the
/// process, as the C contract wants a static string.
#[cfg_attr(not(libvmem_versioned), no_mangle)]
pub extern "C" fn vmem_check_version(major_required: c_uint, minor_required: c_uint) -> *const c_char {
    guard(ptr::null(), || vmem::check_version_c(major_required, minor_required).map_or(ptr::null(), CStr::as_ptr))
}

type PrintFunc = unsafe extern "C" fn(*const c_char);
type StrdupFunc = unsafe extern "C" fn(*const c_char) -> *mut c_char;

#[cfg_attr(not(libvmem_versioned), no_mangle)]
pub unsafe extern "C" fn vmem_set_funcs(
    malloc_func: Option<host_alloc::MallocFn>,
    free_func: Option<host_alloc::FreeFn>,
    realloc_func: Option<host_alloc::ReallocFn>,
    // The library never copies C strings for its own state, so strdup_func
    // is accepted and not needed.
    _strdup_func: Option<StrdupFunc>,
    print_func: Option<PrintFunc>,
) {
    guard((), || {
        host_alloc::set(malloc_func, free_func, realloc_func);
        vmem::set_funcs(print_func.map(|print| -> vmem::PrintFn {
            Arc::new(move |text: &str| {
                let text = CString::new(text.replace('\0', " ")).unwrap_or_default();
                // SAFETY: the host's print function takes a C string.
                unsafe { print(text.as_ptr()) };
            })
        }));
    })
}

/// The core's own store of this thread's last error, read in place (no
/// copy kept here).
#[cfg_attr(not(libvmem_versioned), no_mangle)]
pub extern "C" fn vmem_errormsg() -> *const c_char {
    guard(ptr::null(), vmem::errormsg_c)
}

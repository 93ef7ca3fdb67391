//! Typed access to jemalloc's `mallctl` namespace.

use std::ffi::{c_void, CString};
use std::ptr;

use tikv_jemalloc_sys as jemalloc;

/// `MALLOCX_ARENA(a)` from jemalloc's macros.
pub(crate) const fn mallocx_arena(arena: u32) -> i32 {
    ((arena as i32) + 1) << 20
}

/// `MALLOCX_TCACHE(tc)`.
pub(crate) const fn mallocx_tcache(tcache: u32) -> i32 {
    ((tcache as i32) + 2) << 8
}

/// `MALLOCX_TCACHE_NONE`.
pub(crate) const MALLOCX_TCACHE_NONE: i32 = 1 << 8;

/// `MALLOCX_ZERO`.
pub(crate) const MALLOCX_ZERO: i32 = 0x40;

/// `MALLOCX_LG_ALIGN(la)`.
pub(crate) const fn mallocx_lg_align(lg_align: u32) -> i32 {
    lg_align as i32
}

fn cname(name: &str) -> CString {
    CString::new(name).expect("mallctl names hold no NUL")
}

/// The types a `mallctl` entry's bytes may be read into: plain integers,
/// for which every bit pattern jemalloc writes is a valid value. (A `bool`,
/// a reference or an enum would not be: jemalloc writes whatever its entry
/// holds, and checks only the length.) Sealed: implemented here and only here.
pub(crate) trait Plain: Copy + Default + sealed::Sealed {}

mod sealed {
    /// Keeps [`Plain`](super::Plain) closed to the integers listed below.
    pub trait Sealed {}
}

macro_rules! plain {
    ($($int:ty),*) => {$(
        impl sealed::Sealed for $int {}
        impl Plain for $int {}
    )*};
}

plain!(u32, u64, usize);

/// Reads the value of `name`.
pub(crate) fn read<T: Plain>(name: &str) -> Result<T, i32> {
    let name = cname(name);
    let mut value = T::default();
    let mut len = std::mem::size_of::<T>();
    // SAFETY: `value` is a valid, writable T of `len` bytes and the name is
    // NUL-terminated; jemalloc checks that `len` matches the entry's type,
    // and any bytes it writes make a valid `T` (a plain integer).
    let err = unsafe { jemalloc::mallctl(name.as_ptr(), (&mut value as *mut T).cast(), &mut len, ptr::null_mut(), 0) };
    if err == 0 {
        Ok(value)
    } else {
        Err(err)
    }
}

/// Writes `value` to `name`.
pub(crate) fn write<T: Copy>(name: &str, mut value: T) -> Result<(), i32> {
    let name = cname(name);
    // SAFETY: `value` is a valid T of the given size; jemalloc checks the size
    // against the entry's type and only reads it.
    let err = unsafe {
        jemalloc::mallctl(
            name.as_ptr(),
            ptr::null_mut(),
            ptr::null_mut(),
            (&mut value as *mut T).cast::<c_void>(),
            std::mem::size_of::<T>(),
        )
    };
    if err == 0 {
        Ok(())
    } else {
        Err(err)
    }
}

/// Writes `input` to `name` and reads the result back, as `arenas.create`
/// style entries want.
pub(crate) fn write_read<I: Copy, O: Plain>(name: &str, mut input: I) -> Result<O, i32> {
    let name = cname(name);
    let mut output = O::default();
    let mut len = std::mem::size_of::<O>();
    // SAFETY: both buffers are valid for their sizes; jemalloc checks them,
    // and any bytes it writes make a valid `O` (a plain integer).
    let err = unsafe {
        jemalloc::mallctl(
            name.as_ptr(),
            (&mut output as *mut O).cast(),
            &mut len,
            (&mut input as *mut I).cast::<c_void>(),
            std::mem::size_of::<I>(),
        )
    };
    if err == 0 {
        Ok(output)
    } else {
        Err(err)
    }
}

/// Runs an action entry such as `arena.<i>.destroy`.
pub(crate) fn run(name: &str) -> Result<(), i32> {
    let name = cname(name);
    // SAFETY: action entries take no input and give no output.
    let err = unsafe { jemalloc::mallctl(name.as_ptr(), ptr::null_mut(), ptr::null_mut(), ptr::null_mut(), 0) };
    if err == 0 {
        Ok(())
    } else {
        Err(err)
    }
}

/// Refreshes jemalloc's statistics snapshot.
pub(crate) fn refresh_stats() {
    let _ = write_read::<u64, u64>("epoch", 1);
}

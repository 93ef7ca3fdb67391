//! Typed access to jemalloc's `mallctl` namespace.

use std::ffi::{c_void, CString};
use std::mem::size_of;
use std::ptr;

use vmem_jemalloc_sys as jemalloc;

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

/// The `lg_align` field of `mallocx` flags (`MALLOCX_LG_ALIGN_MASK`).
pub(crate) const LG_ALIGN_MASK: i32 = 0x3f;

/// The alignment `flags` ask for (1 when none).
pub(crate) const fn alignment_of(flags: i32) -> usize {
    1 << (flags & LG_ALIGN_MASK)
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

/// `mallctl(name, output, input)`: jemalloc writes the entry's value into
/// `output` when given and reads `input` when given.
///
/// # Safety
///
/// `output` and `input`, when not null, are valid for writes and reads of
/// their lengths; `output`'s type is valid for any bytes jemalloc writes.
unsafe fn mallctl(
    name: &str,
    output: *mut c_void,
    output_len: usize,
    input: *mut c_void,
    input_len: usize,
) -> Result<(), i32> {
    let name = cname(name);
    let mut output_len = output_len;
    let output_len_ptr = if output.is_null() { ptr::null_mut() } else { &mut output_len as *mut usize };
    // SAFETY: the name is NUL-terminated; the buffers are the caller's
    // contract, and jemalloc checks their lengths against the entry's type.
    match unsafe { jemalloc::mallctl(name.as_ptr(), output, output_len_ptr, input, input_len) } {
        0 => Ok(()),
        err => Err(err),
    }
}

/// Reads the value of `name`.
pub(crate) fn read<T: Plain>(name: &str) -> Result<T, i32> {
    let mut value = T::default();
    // SAFETY: `value` is a writable T of its size, and any bytes make a valid
    // `T` (a plain integer).
    unsafe { mallctl(name, (&mut value as *mut T).cast(), size_of::<T>(), ptr::null_mut(), 0) }?;
    Ok(value)
}

/// Writes `value` to `name`.
pub(crate) fn write<T: Copy>(name: &str, mut value: T) -> Result<(), i32> {
    // SAFETY: `value` is a readable T of its size; jemalloc only reads it.
    unsafe { mallctl(name, ptr::null_mut(), 0, (&mut value as *mut T).cast(), size_of::<T>()) }
}

/// Writes `input` to `name` and reads the result back, as `arenas.create`
/// style entries want.
pub(crate) fn write_read<I: Copy, O: Plain>(name: &str, mut input: I) -> Result<O, i32> {
    let mut output = O::default();
    // SAFETY: both buffers are valid for their sizes, and any bytes make a
    // valid `O` (a plain integer).
    unsafe {
        mallctl(name, (&mut output as *mut O).cast(), size_of::<O>(), (&mut input as *mut I).cast(), size_of::<I>())
    }?;
    Ok(output)
}

/// Runs an action entry such as `arena.<i>.destroy`.
pub(crate) fn run(name: &str) -> Result<(), i32> {
    // SAFETY: action entries take no input and give no output.
    unsafe { mallctl(name, ptr::null_mut(), 0, ptr::null_mut(), 0) }
}

/// Refreshes jemalloc's statistics snapshot.
pub(crate) fn refresh_stats() {
    let _ = write_read::<u64, u64>("epoch", 1);
}

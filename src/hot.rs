//! The hot calls — malloc, calloc, aligned_alloc, realloc, free, usable size
//! — as plain N-API callbacks: numbers in, a number out, no wrapper objects.
//!
//! The TypeScript layer passes only validated numbers, live handles and
//! offsets of live blocks; anything else reads as 0 or answers -1.

use std::ffi::CStr;
use std::ptr;

use napi::bindgen_prelude::Object;
use napi::sys::{self, napi_callback_info, napi_env, napi_value};
use napi::{check_status, Env, JsValue, Result};
use vmem::Pool;

use crate::{failed, handles};

/// Reads up to `N` number arguments (a missing or non-number one reads as 0).
///
/// # Safety
///
/// `env` and `info` are the ones N-API passed to the running callback.
#[inline]
unsafe fn numbers<const N: usize>(env: napi_env, info: napi_callback_info) -> [f64; N] {
    let mut argv = [ptr::null_mut(); N];
    let mut argc = N;
    let mut values = [0.0; N];
    // SAFETY: argv holds `argc` slots, as napi_get_cb_info requires; the
    // others may be null.
    unsafe {
        sys::napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), ptr::null_mut(), ptr::null_mut());
        for (value, arg) in values.iter_mut().zip(&argv[..argc.min(N)]) {
            sys::napi_get_value_double(env, *arg, value);
        }
    }
    values
}

/// # Safety
///
/// `env` is the one N-API passed to the running callback.
#[inline]
unsafe fn number(env: napi_env, value: f64) -> napi_value {
    let mut result = ptr::null_mut();
    // SAFETY: plain N-API call with a valid env and out-pointer.
    unsafe { sys::napi_create_double(env, value, &mut result) };
    result
}

/// Runs `f` on the pool of the handle in `args[0]`, -1 if there is none.
#[inline]
fn on_pool(handle: f64, f: impl FnOnce(&Pool, usize) -> f64) -> f64 {
    handles::with_pool(handle as u32, |pool| f(pool, pool.base() as usize)).unwrap_or(-1.0)
}

fn offset_of<T>(base: usize, block: std::ptr::NonNull<T>) -> f64 {
    (block.as_ptr() as usize - base) as f64
}

/// `poolMalloc(handle, size)`: an offset, or -1.
unsafe extern "C" fn pool_malloc(env: napi_env, info: napi_callback_info) -> napi_value {
    // SAFETY: called by N-API with its own env and info.
    let [handle, size] = unsafe { numbers(env, info) };
    let offset = on_pool(handle, |pool, base| pool.malloc(size as usize).map_or_else(failed, |b| offset_of(base, b)));
    // SAFETY: as above.
    unsafe { number(env, offset) }
}

/// `poolCalloc(handle, nmemb, size)`: an offset, or -1.
unsafe extern "C" fn pool_calloc(env: napi_env, info: napi_callback_info) -> napi_value {
    // SAFETY: called by N-API with its own env and info.
    let [handle, nmemb, size] = unsafe { numbers(env, info) };
    let offset = on_pool(handle, |pool, base| {
        pool.calloc(nmemb as usize, size as usize).map_or_else(failed, |b| offset_of(base, b))
    });
    // SAFETY: as above.
    unsafe { number(env, offset) }
}

/// `poolAlignedAlloc(handle, alignment, size)`: an offset, or -1.
unsafe extern "C" fn pool_aligned_alloc(env: napi_env, info: napi_callback_info) -> napi_value {
    // SAFETY: called by N-API with its own env and info.
    let [handle, alignment, size] = unsafe { numbers(env, info) };
    let offset = on_pool(handle, |pool, base| {
        pool.aligned_alloc(alignment as usize, size as usize).map_or_else(failed, |b| offset_of(base, b))
    });
    // SAFETY: as above.
    unsafe { number(env, offset) }
}

/// `poolRealloc(handle, offset, size)` with size > 0: the new offset, or -1
/// (the block is then untouched).
unsafe extern "C" fn pool_realloc(env: napi_env, info: napi_callback_info) -> napi_value {
    // SAFETY: called by N-API with its own env and info.
    let [handle, offset, size] = unsafe { numbers(env, info) };
    let moved = on_pool(handle, |pool, base| {
        // SAFETY: the TypeScript layer passes only offsets of live blocks.
        match unsafe { pool.realloc((base + offset as usize) as *mut u8, size as usize) } {
            Ok(Some(block)) => offset_of(base, block),
            Ok(None) => -1.0,
            Err(err) => failed(err),
        }
    });
    // SAFETY: as above.
    unsafe { number(env, moved) }
}

/// `poolFree(handle, offset)`.
unsafe extern "C" fn pool_free(env: napi_env, info: napi_callback_info) -> napi_value {
    // SAFETY: called by N-API with its own env and info.
    let [handle, offset] = unsafe { numbers(env, info) };
    on_pool(handle, |pool, base| {
        // SAFETY: the TypeScript layer passes only offsets of live blocks,
        // each once.
        unsafe { pool.free((base + offset as usize) as *mut u8) };
        0.0
    });
    ptr::null_mut()
}

/// `poolUsableSize(handle, offset)`.
unsafe extern "C" fn pool_usable_size(env: napi_env, info: napi_callback_info) -> napi_value {
    // SAFETY: called by N-API with its own env and info.
    let [handle, offset] = unsafe { numbers(env, info) };
    // SAFETY: the TypeScript layer passes only offsets of live blocks.
    let size = on_pool(handle, |pool, base| unsafe { pool.usable_size((base + offset as usize) as *const u8) } as f64);
    // SAFETY: as above.
    unsafe { number(env, size) }
}

type Callback = unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value;

const HOT_CALLS: [(&CStr, Callback); 6] = [
    (c"poolMalloc", pool_malloc),
    (c"poolCalloc", pool_calloc),
    (c"poolAlignedAlloc", pool_aligned_alloc),
    (c"poolRealloc", pool_realloc),
    (c"poolFree", pool_free),
    (c"poolUsableSize", pool_usable_size),
];

/// Defines the hot calls on the module's exports.
pub(crate) fn export(env: &Env, exports: &mut Object) -> Result<()> {
    for (name, callback) in HOT_CALLS {
        let mut function = ptr::null_mut();
        // SAFETY: valid env, NUL-terminated name, a callback of N-API's type.
        check_status!(unsafe {
            sys::napi_create_function(
                env.raw(),
                name.as_ptr(),
                name.to_bytes().len() as isize,
                Some(callback),
                ptr::null_mut(),
                &mut function,
            )
        })?;
        // SAFETY: `exports` is the module's exports object in this env.
        check_status!(unsafe { sys::napi_set_named_property(env.raw(), exports.raw(), name.as_ptr(), function) })?;
    }
    Ok(())
}

//! The options are built in (no `malloc_conf` symbol needed) and the symbols
//! are prefixed `_vmem_je_`.

use std::ffi::{c_char, c_void, CStr};

/// Reads the `T` at `name` through `mallctl`.
fn read<T: Copy + Default>(name: &[u8]) -> T {
    let name = CStr::from_bytes_with_nul(name).unwrap();
    let mut value = T::default();
    let mut len = std::mem::size_of::<T>();
    // SAFETY: `value` and `len` are valid out-parameters of `T`'s size, which
    // is the size of the statistics asked for; no new value is written.
    let rc = unsafe {
        vmem_jemalloc_sys::mallctl(
            name.as_ptr(),
            (&mut value as *mut T).cast::<c_void>(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    assert_eq!(rc, 0, "mallctl {name:?}");
    value
}

#[test]
fn vmem_options_are_built_in() {
    let conf: *const c_char = read(b"config.malloc_conf\0");
    // SAFETY: jemalloc's `config.malloc_conf` is a static C string.
    let conf = unsafe { CStr::from_ptr(conf) };
    assert_eq!(conf.to_str().unwrap(), vmem_jemalloc_sys::VMEM_MALLOC_CONF);
    assert!(!read::<bool>(b"opt.retain\0"));
    assert_eq!(read::<usize>(b"opt.lg_extent_max_active_fit\0"), 0);
}

#[test]
fn malloc_is_prefixed() {
    assert_ne!(vmem_jemalloc_sys::malloc as *const () as usize, libc::malloc as *const () as usize);
    // SAFETY: a block from this jemalloc goes back to it.
    unsafe {
        let p = vmem_jemalloc_sys::malloc(42);
        assert!(!p.is_null());
        assert!(vmem_jemalloc_sys::malloc_usable_size(p) >= 42);
        vmem_jemalloc_sys::free(p);
    }
}

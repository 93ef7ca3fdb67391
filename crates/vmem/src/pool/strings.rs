//! libvmem's string copies into a pool: `strdup` and `wcsdup`.

use std::ffi::CStr;
use std::ptr::{self, NonNull};

use super::Pool;
use crate::error::Result;

impl Pool {
    /// Copies a C string into the pool, NUL included (libvmem's
    /// `vmem_strdup`).
    ///
    /// # Errors
    ///
    /// `ENOMEM` when the pool has no room.
    ///
    /// ```
    /// let pool = vmem::Pool::create(std::env::temp_dir(), vmem::MIN_POOL)?;
    /// let copy = pool.strdup(c"hello")?;
    /// // SAFETY: strdup returns a NUL-terminated copy.
    /// assert_eq!(unsafe { std::ffi::CStr::from_ptr(copy.as_ptr()) }, c"hello");
    /// # Ok::<(), vmem::Error>(())
    /// ```
    pub fn strdup(&self, s: &CStr) -> Result<NonNull<libc::c_char>> {
        let bytes = s.to_bytes_with_nul();
        let copy = self.finish_alloc(self.alloc_raw(bytes.len(), 0), bytes.len(), "strdup")?;
        // SAFETY: `copy` is a fresh block of `bytes.len()` bytes.
        unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), copy.as_ptr(), bytes.len()) };
        Ok(copy.cast())
    }

    /// Copies a wide string into the pool, up to its first NUL (or all of
    /// it), and terminates the copy with a NUL (libvmem's `vmem_wcsdup`).
    ///
    /// # Errors
    ///
    /// `ENOMEM` when the pool has no room.
    ///
    /// ```
    /// let pool = vmem::Pool::create(std::env::temp_dir(), vmem::MIN_POOL)?;
    /// let wide: Vec<libc::wchar_t> = "hé".chars().map(|c| c as libc::wchar_t).collect();
    /// let copy = pool.wcsdup(&wide)?;
    /// // SAFETY: wcsdup returns wide.len() + 1 elements.
    /// assert_eq!(unsafe { std::slice::from_raw_parts(copy.as_ptr(), 3) }, &[104, 233, 0]);
    /// # Ok::<(), vmem::Error>(())
    /// ```
    pub fn wcsdup(&self, s: &[libc::wchar_t]) -> Result<NonNull<libc::wchar_t>> {
        let chars = s.iter().position(|&c| c == 0).unwrap_or(s.len());
        let bytes = (chars + 1) * std::mem::size_of::<libc::wchar_t>();
        let copy = self.finish_alloc(self.alloc_raw(bytes, 0), bytes, "wcsdup")?;
        let copy = copy.cast::<libc::wchar_t>();
        // SAFETY: `copy` is a fresh, suitably aligned block of chars + 1 elements.
        unsafe {
            ptr::copy_nonoverlapping(s.as_ptr(), copy.as_ptr(), chars);
            copy.as_ptr().add(chars).write(0);
        }
        Ok(copy)
    }
}

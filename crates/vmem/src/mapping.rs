//! The pool's memory: a temporary file mapped shared read-write, a whole
//! device-DAX device, or a region the caller mapped.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use memmap2::{MmapOptions, MmapRaw};

use crate::error::{Error, Result};
use crate::placement;
use crate::sizeclass::SizeClasses;
use crate::sys;
use crate::MIN_POOL;

/// Memory that a pool's arena carves its extents from.
pub(crate) struct PoolMemory {
    base: *mut u8,
    len: usize,
    /// The mapping, unmapped on drop; `None` for caller memory.
    _mapping: Option<Mapping>,
    /// The pool file; its space is re-reserved when discarded pages return.
    file: Option<File>,
    /// Whether never-used memory reads as zero (fresh file space does; a
    /// caller's region or a DAX device may hold anything).
    fresh_is_zero: bool,
    kind: MemoryKind,
}

/// Where a pool's memory comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryKind {
    /// A temporary file in a directory.
    File,
    /// A whole device-DAX character device.
    DaxDevice,
    /// Memory the caller mapped ([`Pool::create_in_region`](crate::Pool::create_in_region)).
    Region,
}

/// What unmaps a pool's memory on drop.
enum Mapping {
    /// A pool file, mapped at a multiple of jemalloc's page.
    File { _map: sys::unix::AlignedMap },
    /// A device, mapped where the system chose (device DAX aligns its
    /// mappings itself, and to more than jemalloc's page).
    Device { _map: MmapRaw },
}

// SAFETY: the raw base pointer is only an address range; all access to the
// memory goes through the arena, which synchronizes itself.
unsafe impl Send for PoolMemory {}
// SAFETY: as above; the methods taking &self do not mutate shared state.
unsafe impl Sync for PoolMemory {}

/// The process's soft limit on open descriptors, for the EMFILE message.
fn open_files_limit() -> libc::rlim_t {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit into `limit`.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        limit.rlim_cur
    } else {
        0
    }
}

impl PoolMemory {
    /// Makes the pool file in `dir`, reserves `size` bytes and maps them.
    pub(crate) fn create_in_dir(dir: &Path, size: usize) -> Result<Self> {
        let metadata = std::fs::metadata(dir);
        if let Ok(metadata) = &metadata {
            if metadata.file_type().is_char_device() {
                return Self::map_dax_device(dir);
            }
        }
        if size < MIN_POOL {
            return Err(Error::new(libc::EINVAL, format!("size {size} smaller than {MIN_POOL}")));
        }
        let page = sys::unix::page_size();
        let Some(size) = size.checked_next_multiple_of(page) else {
            return Err(Error::new(libc::ENOMEM, format!("size {size} too large")));
        };
        let dir_shown = dir.display();
        if let Err(err) = metadata {
            return Err(Error::from_io(&err, format_args!("stat {dir_shown}")));
        }
        let file = sys::open_tmpfile(dir).map_err(|err| match err.raw_os_error() {
            // A file pool keeps its descriptor for its life (to reserve
            // space again after punched holes): the limit caps the pools.
            Some(libc::EMFILE) => Error::new(
                libc::EMFILE,
                format!(
                    "cannot create a pool file in {dir_shown}: too many open files \
                     (each pool in a directory keeps one file descriptor open; limit {})",
                    open_files_limit()
                ),
            ),
            _ => Error::from_io(&err, format_args!("cannot create a pool file in {dir_shown}")),
        })?;
        sys::unix::reserve(&file, 0, size).map_err(|err| {
            Error::from_io(&err, format_args!("cannot reserve {size} bytes for a pool in {dir_shown}"))
        })?;
        // jemalloc's pages may be larger than the system's (64 KiB on
        // aarch64 Linux, whose kernels mostly use 4 KiB): at an address that
        // is not a multiple of them, the pieces before the first and after
        // the last of them would be lost, and a pool's capacity would depend
        // on where it is mapped (a 14 MiB pool held 13 blocks of 1 MiB or
        // 14). Large blocks are placed at their natural alignment, up to
        // placement::ALIGN_MAX, on a grid that starts with the pool.
        let jemalloc_page = 1 << SizeClasses::get().page_shift();
        let align = placement::ALIGN_MAX.max(jemalloc_page);
        let mapping = sys::unix::AlignedMap::new(&file, size, align)
            .map_err(|err| Error::from_io(&err, format_args!("cannot map the pool file in {dir_shown}")))?;
        Ok(Self::over_mapping(mapping.addr(), size, Mapping::File { _map: mapping }, file, MemoryKind::File))
    }

    /// Maps a whole device-DAX device.
    fn map_dax_device(path: &Path) -> Result<Self> {
        let shown = path.display();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|err| Error::from_io(&err, format_args!("cannot open {shown}")))?;
        let size = sys::dax_device_size(&file)
            .map_err(|err| Error::from_io(&err, format_args!("{shown} is not a device DAX")))?;
        if size < MIN_POOL {
            return Err(Error::new(libc::EINVAL, format!("device size {size} smaller than {MIN_POOL}")));
        }
        Self::map_device(file, size, shown)
    }

    /// Maps all `size` bytes of device `file` shared read-write as a pool's
    /// memory; `what` names it in the error message.
    fn map_device(file: File, size: usize, what: impl std::fmt::Display) -> Result<Self> {
        let mapping = MmapOptions::new()
            .len(size)
            .map_raw(&file)
            .map_err(|err| Error::from_io(&err, format_args!("cannot map {what}")))?;
        Ok(Self::over_mapping(
            mapping.as_mut_ptr(),
            size,
            Mapping::Device { _map: mapping },
            file,
            MemoryKind::DaxDevice,
        ))
    }

    /// A pool's memory over `mapping` of `file`, `size` bytes at `base`.
    fn over_mapping(base: *mut u8, size: usize, mapping: Mapping, file: File, kind: MemoryKind) -> Self {
        PoolMemory {
            base,
            len: size,
            _mapping: Some(mapping),
            file: Some(file),
            // Fresh file space reads as zero; a device holds what it held.
            fresh_is_zero: kind == MemoryKind::File,
            kind,
        }
    }

    /// Uses `size` bytes at `addr`, which the caller mapped and keeps mapped.
    ///
    /// # Safety
    ///
    /// `[addr, addr + size)` must be readable and writable memory that stays
    /// valid, and is not otherwise used, for as long as the pool lives.
    pub(crate) unsafe fn from_region(addr: *mut u8, size: usize) -> Result<Self> {
        // libvmem's order: the size first, then the address.
        if size < MIN_POOL {
            return Err(Error::new(libc::EINVAL, format!("size {size} smaller than {MIN_POOL}")));
        }
        let page = sys::unix::page_size();
        if addr.is_null() || !(addr as usize).is_multiple_of(page) {
            return Err(Error::new(libc::EINVAL, format!("address {addr:p} is not page aligned")));
        }
        if (addr as usize).checked_add(size).is_none() {
            return Err(Error::new(libc::EINVAL, format!("region {addr:p} + {size} wraps around")));
        }
        Ok(PoolMemory {
            base: addr,
            len: size - size % page,
            _mapping: None,
            file: None,
            fresh_is_zero: false,
            kind: MemoryKind::Region,
        })
    }

    pub(crate) fn base(&self) -> *mut u8 {
        self.base
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn kind(&self) -> MemoryKind {
        self.kind
    }

    pub(crate) fn fresh_is_zero(&self) -> bool {
        self.fresh_is_zero
    }

    /// Whether pages can go back to the file system and return later.
    pub(crate) fn can_discard(&self) -> bool {
        self.kind == MemoryKind::File
    }

    /// Gives the pages at `[offset, offset + len)` back to the file system;
    /// they read as zeros afterwards.
    ///
    /// # Safety
    ///
    /// The range is page aligned, inside the mapping, and holds no block
    /// anyone will read again.
    pub(crate) unsafe fn discard(&self, offset: usize, len: usize) -> bool {
        debug_assert!(offset + len <= self.len);
        // SAFETY: the range lies inside our own shared file mapping
        // (`offset + len <= self.len`), and holds nothing to keep (caller's
        // contract).
        self.can_discard() && unsafe { sys::discard_pages(self.base.add(offset), len) }
    }

    /// Reserves file space again for discarded pages, so that touching them
    /// can never SIGBUS. False when the file system is full.
    pub(crate) fn recommit(&self, offset: usize, len: usize) -> bool {
        match &self.file {
            Some(file) if self.kind == MemoryKind::File => sys::unix::reserve(file, offset, len).is_ok(),
            _ => false,
        }
    }
}

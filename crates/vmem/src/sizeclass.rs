//! jemalloc's small size classes, read once from `arenas.bin.<i>.size`, and
//! a table from a request size to its class, so the hot path can pick a
//! front-cache bin without asking jemalloc.

use std::sync::OnceLock;

use crate::ctl;

/// Requests are looked up in steps of this many bytes (jemalloc's smallest
/// class is 8 bytes, and every class is a multiple of 8).
const LOOKUP_SHIFT: u32 = 3;

/// Which classes get a front cache: the small ones up to this size. Larger
/// small classes are rare enough that jemalloc's own cache serves them.
const CACHED_MAX: usize = 16 * 1024;

/// Entries of the lookup table: one per 8 bytes up to [`CACHED_MAX`].
const LOOKUP_LEN: usize = (CACHED_MAX >> LOOKUP_SHIFT) + 1;

/// Bins of a front cache (37 classes are at most 16 KiB; with 4 KiB pages
/// jemalloc's small classes end at 14 KiB: 36). A power of two, so that a
/// bin number is brought in range by a mask rather than a bounds check.
pub(crate) const MAX_BINS: usize = 64;

/// The bin that never caches: requests of no small class map to it, so the
/// hot path needs no test of its own for them.
pub(crate) const NO_BIN: u8 = (MAX_BINS - 1) as u8;

/// The small size classes that have a front-cache bin.
pub(crate) struct SizeClasses {
    /// Class size of each bin, ascending.
    sizes: Box<[usize]>,
    /// Entry `(size + 7) >> 3` is the bin for a request of `size` (at most
    /// [`CACHED_MAX`]) bytes; every entry is below [`MAX_BINS`].
    lookup: [u8; LOOKUP_LEN],
    /// jemalloc's page size as a shift: slabs and extents start on pages.
    page_shift: u32,
}

impl SizeClasses {
    /// The classes of the jemalloc this library runs on.
    pub(crate) fn get() -> &'static SizeClasses {
        static CLASSES: OnceLock<SizeClasses> = OnceLock::new();
        CLASSES.get_or_init(SizeClasses::read)
    }

    fn read() -> SizeClasses {
        let page: usize = ctl::read("arenas.page").unwrap_or(4096);
        let nbins: u32 = ctl::read("arenas.nbins").unwrap_or(0);
        let sizes: Box<[usize]> = (0..nbins.min(NO_BIN as u32))
            .map_while(|bin| ctl::read::<usize>(&format!("arenas.bin.{bin}.size")).ok())
            .take_while(|&size| size <= CACHED_MAX && size.is_multiple_of(1 << LOOKUP_SHIFT))
            .collect();
        let mut lookup = [NO_BIN; LOOKUP_LEN];
        for (step, entry) in lookup.iter_mut().enumerate() {
            // The smallest class that holds `step << 3` bytes (all classes
            // are multiples of 8), if one is cached.
            if let Some(bin) = sizes.iter().position(|&size| size >= step << LOOKUP_SHIFT) {
                *entry = bin as u8;
            }
        }
        SizeClasses { sizes, lookup, page_shift: page.trailing_zeros() }
    }

    /// The bin serving requests of `size` bytes; [`NO_BIN`] when no bin
    /// caches that size.
    #[inline(always)]
    pub(crate) fn bin_of(&self, size: usize) -> u8 {
        if size > CACHED_MAX {
            return NO_BIN;
        }
        self.lookup[(size + (1 << LOOKUP_SHIFT) - 1) >> LOOKUP_SHIFT]
    }

    /// The size of objects in `bin`.
    #[inline]
    pub(crate) fn size_of(&self, bin: u8) -> usize {
        self.sizes[bin as usize]
    }

    /// How many bins there are.
    pub(crate) fn count(&self) -> usize {
        self.sizes.len()
    }

    /// jemalloc's page size as a shift.
    pub(crate) fn page_shift(&self) -> u32 {
        self.page_shift
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_maps_to_the_smallest_class_that_holds_it() {
        let classes = SizeClasses::get();
        assert!(classes.count() > 20, "{} small classes", classes.count());
        for size in 1..=CACHED_MAX + 64 {
            match classes.bin_of(size) {
                NO_BIN => assert!(size > classes.size_of(classes.count() as u8 - 1)),
                bin => {
                    assert!(classes.size_of(bin) >= size);
                    assert!(bin == 0 || classes.size_of(bin - 1) < size, "size {size} bin {bin}");
                    // SAFETY: nallocx only computes a size.
                    let usable = unsafe { tikv_jemalloc_sys::nallocx(size, 0) };
                    assert_eq!(classes.size_of(bin), usable, "size {size}");
                }
            }
        }
    }
}

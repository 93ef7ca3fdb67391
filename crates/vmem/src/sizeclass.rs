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

/// At most this many classes get a bin (37 are at most 16 KiB, and with 4 KiB
/// pages jemalloc's small classes end at 14 KiB: 36).
pub(crate) const MAX_BINS: usize = 40;

/// The small size classes that have a front-cache bin.
pub(crate) struct SizeClasses {
    /// Class size of each bin, ascending.
    sizes: Box<[usize]>,
    /// `lookup[(size + 7) >> 3]` is the bin for a request of `size` bytes.
    lookup: &'static [u8],
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
        // Bin numbers are stored in a byte, 0 meaning "not cached".
        let sizes: Box<[usize]> = (0..nbins.min(MAX_BINS as u32))
            .map_while(|bin| ctl::read::<usize>(&format!("arenas.bin.{bin}.size")).ok())
            .take_while(|&size| size <= CACHED_MAX && size.is_multiple_of(1 << LOOKUP_SHIFT))
            .collect();
        let lookup_len = sizes.last().map_or(0, |largest| (largest >> LOOKUP_SHIFT) + 1);
        // Made once per process, like the classes themselves.
        let lookup: &'static mut [u8] = vec![0u8; lookup_len].leak();
        let mut bin = 0;
        for (step, entry) in lookup.iter_mut().enumerate() {
            while sizes[bin] < step << LOOKUP_SHIFT {
                bin += 1;
            }
            *entry = bin as u8;
        }
        SizeClasses { sizes, lookup, page_shift: page.trailing_zeros() }
    }

    /// The table from request sizes to bins, for [`bin_in`].
    pub(crate) fn lookup(&self) -> &'static [u8] {
        self.lookup
    }

    /// The size of objects in `bin`.
    #[inline]
    pub(crate) fn size_of(&self, bin: usize) -> usize {
        self.sizes[bin]
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

/// The bin serving requests of `size` bytes, if that size is cached, from
/// the table of [`SizeClasses::lookup`] (callers keep it next to their other
/// hot data).
#[inline]
pub(crate) fn bin_in(lookup: &[u8], size: usize) -> Option<usize> {
    lookup.get((size + (1 << LOOKUP_SHIFT) - 1) >> LOOKUP_SHIFT).map(|&bin| bin as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_maps_to_the_smallest_class_that_holds_it() {
        let classes = SizeClasses::get();
        assert!(classes.count() > 20, "{} small classes", classes.count());
        for size in 1..=CACHED_MAX + 64 {
            match bin_in(classes.lookup(), size) {
                Some(bin) => {
                    assert!(classes.size_of(bin) >= size);
                    assert!(bin == 0 || classes.size_of(bin - 1) < size, "size {size} bin {bin}");
                    // SAFETY: nallocx only computes a size.
                    let usable = unsafe { tikv_jemalloc_sys::nallocx(size, 0) };
                    assert_eq!(classes.size_of(bin), usable, "size {size}");
                }
                None => assert!(size > classes.size_of(classes.count() - 1)),
            }
        }
    }
}

//! jemalloc's size classes that get a front-cache bin, read once from
//! `arenas.bin.<i>.size` (small) and `arenas.lextent.<i>.size` (large), and
//! tables from a request size to its class, so the hot path can pick a bin
//! without asking jemalloc.

use std::sync::OnceLock;

use crate::ctl;

/// Small requests are looked up in steps of this many bytes (jemalloc's
/// smallest class is 8 bytes, and every class is a multiple of 8).
const LOOKUP_SHIFT: u32 = 3;

/// Requests up to this size are looked up in 8-byte steps; larger ones in
/// page steps (every class above it is a multiple of a page).
const SMALL_LOOKUP_MAX: usize = 16 * 1024;

/// Entries of the small lookup table: one per 8 bytes up to
/// [`SMALL_LOOKUP_MAX`].
const LOOKUP_LEN: usize = (SMALL_LOOKUP_MAX >> LOOKUP_SHIFT) + 1;

/// The largest class with a bin. Up to here a free block is worth keeping
/// for the next request of its class (jemalloc would otherwise take it apart
/// and put it together again through its extent path, ~200 ns a pair); above
/// it the copy of the data dwarfs that.
pub(crate) const CACHED_MAX: usize = 1 << 20;

/// Bins of a front cache (with 4 KiB pages jemalloc has 36 small classes and
/// 25 large ones up to 1 MiB). A power of two, so that a bin number is
/// brought in range by a mask rather than a bounds check.
pub(crate) const MAX_BINS: usize = 64;

/// The bin that never caches: requests of no cached class map to it, and a
/// page-map entry of it means "free through jemalloc", so the hot path needs
/// no test of its own for either.
pub(crate) const NO_BIN: u8 = (MAX_BINS - 1) as u8;

/// The size classes that have a front-cache bin: the small classes up to
/// [`SMALL_LOOKUP_MAX`], then the large ones up to [`CACHED_MAX`]. (jemalloc
/// hands out large blocks in page steps; its large classes, four per
/// doubling, are what a bin serves: a request gets the class that holds it.)
pub(crate) struct SizeClasses {
    /// Class size of each bin, ascending.
    sizes: Box<[usize]>,
    /// The first bin of a large class (served by an extent of its own).
    first_large: u8,
    small_lookup: SmallBins,
    /// Entry `(size - 1) >> page_shift` is the bin for a larger request of
    /// `size` bytes, up to [`CACHED_MAX`].
    large_lookup: Box<[u8]>,
    /// jemalloc's page size as a shift: slabs and extents start on pages.
    page_shift: u32,
    /// jemalloc's smallest large class (four pages): smaller blocks live in
    /// slabs, and one asked for at more than a page of alignment is served
    /// as a block of this size instead.
    large_min: usize,
}

/// The bins of requests up to [`SMALL_LOOKUP_MAX`] bytes: entry
/// `(size + 7) >> 3` is the bin for a request of `size` bytes; every entry is
/// below [`MAX_BINS`]. Each pool keeps a copy, which its hot path reads
/// without first loading a pointer to the shared table.
#[derive(Clone)]
pub(crate) struct SmallBins([u8; LOOKUP_LEN]);

impl SmallBins {
    /// The bin for a request of `size` bytes, if it is a small request.
    #[inline(always)]
    pub(crate) fn get(&self, size: usize) -> Option<u8> {
        (size <= SMALL_LOOKUP_MAX).then(|| self.0[(size + (1 << LOOKUP_SHIFT) - 1) >> LOOKUP_SHIFT])
    }
}

impl SizeClasses {
    /// The classes of the jemalloc this library runs on.
    pub(crate) fn get() -> &'static SizeClasses {
        static CLASSES: OnceLock<SizeClasses> = OnceLock::new();
        CLASSES.get_or_init(SizeClasses::read)
    }

    fn read() -> SizeClasses {
        let page: usize = ctl::read("arenas.page").unwrap_or(4096);
        let page_shift = page.trailing_zeros();
        let class_sizes = |count: &str, each: &str| -> Vec<usize> {
            let count: u32 = ctl::read(count).unwrap_or(0);
            (0..count).map_while(|i| ctl::read::<usize>(&format!("arenas.{each}.{i}.size")).ok()).collect()
        };
        let small = class_sizes("arenas.nbins", "bin");
        let mut sizes: Vec<usize> = small.iter().copied().take_while(|&size| size <= SMALL_LOOKUP_MAX).collect();
        let first_large = sizes.len().min(NO_BIN as usize) as u8;
        // Large classes follow only where the small ones end below the page
        // steps (4 KiB pages; with larger ones small classes fall between the
        // steps, and such requests stay with jemalloc).
        if sizes.len() == small.len() {
            let large = class_sizes("arenas.nlextents", "lextent");
            sizes.extend(large.into_iter().take_while(|&size| size <= CACHED_MAX && size.is_multiple_of(page)));
        }
        // Keep the table ascending and every bin number below NO_BIN, whatever
        // the jemalloc build.
        sizes.dedup();
        sizes.truncate(NO_BIN as usize);
        let sizes = sizes.into_boxed_slice();
        // The smallest class that holds `size` bytes, if one is cached.
        let bin_for = |size: usize| sizes.iter().position(|&class| class >= size).map_or(NO_BIN, |bin| bin as u8);
        let small_lookup = SmallBins(std::array::from_fn(|step| bin_for(step << LOOKUP_SHIFT)));
        let large_lookup = (0..CACHED_MAX >> page_shift).map(|step| bin_for((step + 1) << page_shift)).collect();
        let large_min = ctl::read("arenas.lextent.0.size").unwrap_or(4 * page);
        SizeClasses { sizes, first_large, small_lookup, large_lookup, page_shift, large_min }
    }

    /// The bin serving requests of `size` bytes; [`NO_BIN`] when no bin
    /// caches that size.
    #[inline(always)]
    pub(crate) fn bin_of(&self, size: usize) -> u8 {
        self.small_lookup.get(size).unwrap_or_else(|| self.large_bin_of(size))
    }

    /// [`bin_of`](Self::bin_of) for a size past the small table (which a
    /// caller holding a [`SmallBins`] copy has just tried).
    #[inline]
    pub(crate) fn large_bin_of(&self, size: usize) -> u8 {
        self.large_lookup.get((size - 1) >> self.page_shift).copied().unwrap_or(NO_BIN)
    }

    /// A copy of the small requests' table, for a pool's hot path.
    pub(crate) fn small_bins(&self) -> SmallBins {
        self.small_lookup.clone()
    }

    /// What to ask jemalloc for to serve a request of `size` bytes: its
    /// bin's class, whatever the path (so that a block's usable size follows
    /// from its request alone), or `size` itself.
    #[inline]
    pub(crate) fn class_size(&self, size: usize) -> usize {
        match self.bin_of(size) {
            NO_BIN => size,
            bin => self.size_of(bin),
        }
    }

    /// The usable size a pool gives a request of `size` bytes: its bin's
    /// class, or what jemalloc gives (0 when nothing can be that large).
    pub(crate) fn usable_size(&self, size: usize) -> usize {
        match self.bin_of(size.max(1)) {
            // SAFETY: nallocx only computes; the size is non-zero.
            NO_BIN => unsafe { vmem_jemalloc_sys::nallocx(size.max(1), 0) },
            bin => self.size_of(bin),
        }
    }

    /// The size of objects in `bin`.
    #[inline]
    pub(crate) fn size_of(&self, bin: u8) -> usize {
        self.sizes[bin as usize]
    }

    /// Whether objects of `bin` are large (each an extent of its own).
    #[inline]
    pub(crate) fn is_large(&self, bin: u8) -> bool {
        bin >= self.first_large
    }

    /// The class size of every bin, ascending.
    pub(crate) fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// How many bins there are.
    pub(crate) fn count(&self) -> usize {
        self.sizes.len()
    }

    /// jemalloc's page size as a shift.
    pub(crate) fn page_shift(&self) -> u32 {
        self.page_shift
    }

    /// jemalloc's smallest large class.
    pub(crate) fn large_min(&self) -> usize {
        self.large_min
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(classes: &SizeClasses, size: usize) {
        match classes.bin_of(size) {
            NO_BIN => assert!(size > classes.size_of(classes.count() as u8 - 1), "size {size} has no bin"),
            bin => {
                assert!(classes.size_of(bin) >= size);
                assert!(bin == 0 || classes.size_of(bin - 1) < size, "size {size} bin {bin}");
                // SAFETY: nallocx only computes a size.
                let usable = |size| unsafe { vmem_jemalloc_sys::nallocx(size, 0) };
                if classes.is_large(bin) {
                    // jemalloc rounds large requests up to pages only: a
                    // bin's class is a size it hands out exactly.
                    assert!(usable(size) <= classes.size_of(bin), "size {size}");
                    assert_eq!(usable(classes.size_of(bin)), classes.size_of(bin));
                } else {
                    assert_eq!(classes.size_of(bin), usable(size), "size {size}");
                }
            }
        }
    }

    #[test]
    fn every_request_maps_to_the_smallest_class_that_holds_it() {
        let classes = SizeClasses::get();
        assert!(classes.count() > 20, "{} classes", classes.count());
        assert!(classes.count() < NO_BIN as usize);
        let page = 1 << classes.page_shift();
        if page == 4096 {
            assert_eq!(classes.size_of(classes.count() as u8 - 1), CACHED_MAX);
        }
        for size in 1..=SMALL_LOOKUP_MAX + 64 {
            check(classes, size);
        }
        for pages in (SMALL_LOOKUP_MAX / page).max(1)..=CACHED_MAX / page + 2 {
            for size in [pages * page - 1, pages * page, pages * page + 1] {
                check(classes, size);
            }
        }
        assert_eq!(classes.bin_of(usize::MAX), NO_BIN);
        if let Some(first_large) = (0..classes.count() as u8).find(|&bin| classes.is_large(bin)) {
            assert!(classes.size_of(first_large) > SMALL_LOOKUP_MAX / 2);
            assert!(classes.size_of(first_large).is_multiple_of(page));
        }
    }
}

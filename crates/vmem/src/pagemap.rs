//! One byte per pool page naming the front-cache bin of the objects that
//! start on it, so that `free` finds an object's size class without asking
//! jemalloc (whose lookup is most of what a free costs).
//!
//! Why a byte per page is enough: a jemalloc page belongs to one slab or one
//! large extent at a time, so every object starting on it has the same class
//! while any of them is live. Every allocation of the pool writes the entry
//! of the page it starts on (its bin, or [`NO_BIN`]: free it through jemalloc), after
//! jemalloc handed the object out and before anyone can free it. So for a
//! live object the entry is its own bin or `NO_BIN`, never another
//! class: a page reused for another class is rewritten by the allocation
//! that reuses it, and jemalloc orders that after the frees that emptied it.

use std::sync::atomic::{AtomicU8, Ordering};

use memmap2::{MmapMut, MmapRaw};

use crate::sizeclass::NO_BIN;

/// The page map of one pool.
pub(crate) struct PageMap {
    /// Anonymous memory: pages of the map never written cost no RAM, so a
    /// 1 TiB pool costs a map of 256 MiB address space but only what is used.
    entries: MmapRaw,
    /// `entries` less `first_page` bytes (out of bounds, never read
    /// itself): adding a page's absolute number gives its entry, one
    /// subtraction and one field load fewer on every free.
    by_page_number: *mut u8,
    pages: usize,
    /// The number of the map page the pool starts in.
    first_page: usize,
}

/// Map pages are 4 KiB, whatever jemalloc's page (4, 16 or 64 KiB): each
/// lies inside one jemalloc page, so the objects that start on it still
/// share a class, and a constant shift saves the hot path a load and a
/// variable shift.
pub(crate) const MAP_PAGE_SHIFT: u32 = 12;

// SAFETY: `by_page_number` is only an address into `entries` (an MmapRaw,
// itself Send and Sync), whose bytes are only accessed through atomics.
unsafe impl Send for PageMap {}
// SAFETY: as above.
unsafe impl Sync for PageMap {}

impl PageMap {
    /// A map for `len` bytes at `base`, for a jemalloc whose pages are at
    /// least 4 KiB (so each of its pages is whole map pages). Entries follow
    /// absolute page numbers: a pool need not start on a jemalloc page (they
    /// may be larger than the system's), but every slab and extent does.
    pub(crate) fn new(base: usize, len: usize) -> std::io::Result<Self> {
        let first_page = base >> MAP_PAGE_SHIFT;
        let pages = ((base + len.max(1) - 1) >> MAP_PAGE_SHIFT) - first_page + 1;
        let entries = MmapRaw::from(MmapMut::map_anon(pages)?);
        let by_page_number = entries.as_mut_ptr().wrapping_sub(first_page);
        Ok(PageMap { entries, by_page_number, pages, first_page })
    }

    /// The number in the map of the page `ptr` starts on.
    #[inline(always)]
    fn page_of(&self, ptr: *const u8) -> usize {
        ((ptr as usize) >> MAP_PAGE_SHIFT).wrapping_sub(self.first_page)
    }

    /// The entry of map page `page`.
    ///
    /// # Safety
    ///
    /// `page` must be below `self.pages`.
    #[inline(always)]
    unsafe fn entry_at(&self, page: usize) -> &AtomicU8 {
        debug_assert!(page < self.pages);
        // SAFETY: `page` is inside the mapping (caller's contract), which
        // lives as long as self; AtomicU8 has the layout of u8 and the map is
        // only ever accessed through atomics, never through plain references.
        unsafe { AtomicU8::from_ptr(self.entries.as_mut_ptr().add(page)) }
    }

    /// The entry of the page `ptr` starts on, if the map covers it.
    #[inline]
    fn entry(&self, ptr: *const u8) -> Option<&AtomicU8> {
        let page = self.page_of(ptr);
        // SAFETY: checked first.
        (page < self.pages).then(|| unsafe { self.entry_at(page) })
    }

    /// Whether `ptr` lies on a page of the pool.
    #[inline]
    pub(crate) fn covers(&self, ptr: *const u8) -> bool {
        self.entry(ptr).is_some()
    }

    /// [`get`](Self::get) without the range check, for the hot path. Like
    /// every entry, below [`MAX_BINS`](crate::sizeclass::MAX_BINS).
    ///
    /// # Safety
    ///
    /// `ptr` must point into the pool the map was made for.
    #[inline(always)]
    pub(crate) unsafe fn get_in_pool(&self, ptr: *const u8) -> u8 {
        debug_assert!(self.covers(ptr), "{ptr:p} is not in the pool");
        let entry = self.by_page_number.wrapping_add((ptr as usize) >> MAP_PAGE_SHIFT);
        // SAFETY: the map covers every page of the pool (see `new`), so for
        // a pointer into the pool this is an entry inside the mapping; as
        // in `entry_at`, the map is only accessed through atomics.
        unsafe { AtomicU8::from_ptr(entry) }.load(Ordering::Relaxed)
    }

    /// The bin recorded for an object at `ptr`; [`NO_BIN`] outside the
    /// pool.
    #[inline]
    pub(crate) fn get(&self, ptr: *const u8) -> u8 {
        // Relaxed: the allocation that wrote the entry happens before the
        // free that reads it (the caller passed the pointer on somehow).
        self.entry(ptr).map_or(NO_BIN, |entry| entry.load(Ordering::Relaxed))
    }

    /// Records the bin of an object jemalloc just handed out at `ptr`, a
    /// pointer of the pool.
    #[inline]
    pub(crate) fn set(&self, ptr: *const u8, bin: u8) {
        let Some(entry) = self.entry(ptr) else { return };
        // Every entry stays a bin number (the hot path indexes by it
        // unchecked): zero from the start, and at most NO_BIN.
        let bin = bin.min(NO_BIN);
        // Most allocations land on a page that already says so: reading first
        // keeps the cache line shared between threads.
        if entry.load(Ordering::Relaxed) != bin {
            entry.store(bin, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pool that starts and ends inside jemalloc pages: the map covers
    /// both partial pages, and the hot path's lookup by absolute page number
    /// reads the same entries as the checked one, at both ends.
    #[test]
    fn lookups_by_page_number_match_the_checked_ones_at_both_ends() {
        let page = 1usize << MAP_PAGE_SHIFT;
        let base = 0x7f12_3456_0000 + page / 4;
        let len = 5 * page + 3;
        let map = PageMap::new(base, len).unwrap();
        let (first, last) = (base as *const u8, (base + len - 1) as *const u8);
        assert_eq!(map.pages, 6);
        assert!(map.covers(first) && map.covers(last));
        assert!(!map.covers((base - page) as *const u8) && !map.covers((base + len + page) as *const u8));
        assert_eq!(map.get((base + len + page) as *const u8), NO_BIN);
        for (index, offset) in (0..len).step_by(page / 2).chain([len - 1]).enumerate() {
            let ptr = (base + offset) as *const u8;
            map.set(ptr, index as u8);
            assert_eq!(map.get(ptr), index as u8);
            // SAFETY: a pointer into the pool the map was made for.
            assert_eq!(unsafe { map.get_in_pool(ptr) }, index as u8);
        }
        // The last write to each page won (two per page, the second half's).
        // SAFETY: as above.
        assert_eq!(unsafe { (map.get_in_pool(first), map.get_in_pool(last)) }, (1, 11));
    }
}

//! Where in the pool a large block goes: at a multiple of the largest power
//! of two that divides its size class, up to [`ALIGN_MAX`].
//!
//! jemalloc keeps the extents of freed blocks for reuse (for its decay time)
//! and carves new blocks out of them wherever they happen to start. After
//! churn of mixed sizes those kept extents lay side by side at arbitrary
//! offsets, and a pool refilled with 1 MiB blocks right away placed some
//! blocks among them: the gaps left between blocks were not whole blocks,
//! and the refill got 239–252 of the 256 blocks a fresh 256 MiB pool holds,
//! until the decay or `purge()`. Placed at their natural alignment, blocks of
//! one size lie on one grid wherever they come from, so what lies between
//! them is whole grid steps, which merge again once freed: the same refill
//! gets all 256 (`slots_attack.rs`). A pool file is mapped at a multiple of
//! [`ALIGN_MAX`], so the grid starts with the pool; in a pool whose memory
//! starts less aligned (a region the caller gave), blocks are aligned at
//! most as much as its start, so a fresh pool's capacity never shrinks.

use crate::ctl::LG_ALIGN_MASK;

/// The largest alignment a block is placed at for its size: a huge page on
/// x86-64 and the grid step of blocks of 2 MiB and more.
pub(crate) const ALIGN_MAX: usize = 2 << 20;

/// Blocks below this size are placed where jemalloc puts them: their natural
/// alignment is a few pages at most, and their extents are the slabs and
/// small large blocks that churn the most. Nor are blocks below jemalloc's
/// smallest large class (256 KiB with 64 KiB pages): asked for at more than
/// a page of alignment, a slab class is served as a large block of that
/// class (a 128 KiB block took 256 KiB).
const ALIGN_FROM: usize = 64 << 10;

/// How the large blocks of one pool are placed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Placement {
    /// log2 of the largest alignment a block gets for its size.
    lg_align_max: u32,
    /// log2 of jemalloc's page: alignments up to it every block has, and
    /// asking for them would only take jemalloc's slower aligned path.
    lg_page: u32,
    /// The smallest class placed.
    align_from: usize,
}

impl Placement {
    /// The placement in a pool whose memory starts at `base`: aligned at
    /// most as much as `base` is, and at most [`ALIGN_MAX`].
    pub(crate) fn for_base(base: usize) -> Self {
        let classes = crate::sizeclass::SizeClasses::get();
        Self::placing_from(base, ALIGN_FROM.max(classes.large_min()), classes.page_shift())
    }

    /// The placement in a pool at `base` of classes from `align_from` up,
    /// with jemalloc pages of `1 << lg_page` bytes.
    fn placing_from(base: usize, align_from: usize, lg_page: u32) -> Self {
        Placement { lg_align_max: base.trailing_zeros().min(ALIGN_MAX.trailing_zeros()), lg_page, align_from }
    }

    /// `flags`, `mallocx` flags for a block whose usable size (its class) is
    /// `class_size`, with the block's alignment raised to its natural one
    /// (an alignment the flags ask for already stays when larger).
    #[inline]
    pub(crate) fn flags(self, flags: i32, class_size: usize) -> i32 {
        if class_size < self.align_from {
            return flags;
        }
        let natural = class_size.trailing_zeros().min(self.lg_align_max);
        if natural <= self.lg_page {
            return flags;
        }
        let natural = natural as i32;
        let asked = flags & LG_ALIGN_MASK;
        (flags & !LG_ALIGN_MASK) | asked.max(natural)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctl;

    #[test]
    fn large_blocks_get_their_natural_alignment_up_to_the_maximum() {
        let placement = Placement::placing_from(256 << 20, ALIGN_FROM, 12);
        let placed = |flags, class_size| placement.flags(flags, class_size);
        let lg = |flags: i32| flags & LG_ALIGN_MASK;
        assert_eq!(placed(0, 64), 0);
        assert_eq!(placed(0, 48 << 10), 0);
        assert_eq!(lg(placed(0, 64 << 10)), 16);
        assert_eq!(lg(placed(0, 80 << 10)), 14);
        // 68 KiB, 17 pages: only a page's alignment, which every block has.
        assert_eq!(placed(0, 68 << 10), 0);
        assert_eq!(lg(placed(0, 1 << 20)), 20);
        assert_eq!(lg(placed(0, 5 << 18)), 18);
        assert_eq!(lg(placed(0, 3 << 20)), 20);
        assert_eq!(lg(placed(0, 64 << 20)), 21);
        // Past the largest class (nallocx gives 0): left alone, it fails
        // anyway.
        assert_eq!(placed(0, 0), 0);
        // Other flags stay; a larger alignment asked for stays.
        let arena = ctl::mallocx_arena(3);
        assert_eq!(placed(arena, 1 << 20), arena | 20);
        assert_eq!(placed(arena | ctl::mallocx_lg_align(25), 1 << 20), arena | 25);
        assert_eq!(placed(arena | ctl::mallocx_lg_align(4), 1 << 20), arena | 20);
    }

    #[test]
    fn blocks_are_aligned_at_most_as_much_as_the_pool_starts() {
        let lg = |placement: Placement, class_size| placement.flags(0, class_size) & LG_ALIGN_MASK;
        // A region at a 4 KiB boundary: blocks where jemalloc puts them.
        assert_eq!(lg(Placement::for_base(0x7f00_0000_1000), 1 << 20), 0);
        assert_eq!(lg(Placement::for_base(0x7f00_0008_0000), 1 << 20), 19);
        assert_eq!(lg(Placement::for_base(0x7f00_0010_0000), 4 << 20), 20);
    }

    #[test]
    fn slab_classes_are_left_where_jemalloc_puts_them() {
        // jemalloc with 64 KiB pages: classes up to 224 KiB are in slabs.
        let placement = Placement::placing_from(256 << 20, 256 << 10, 16);
        assert_eq!(placement.flags(0, 128 << 10), 0);
        assert_eq!(placement.flags(0, 192 << 10), 0);
        assert_eq!(placement.flags(0, 256 << 10) & LG_ALIGN_MASK, 18);
        // jemalloc's smallest large class is four of its pages.
        let classes = crate::sizeclass::SizeClasses::get();
        assert_eq!(classes.large_min(), 4 << classes.page_shift());
    }
}

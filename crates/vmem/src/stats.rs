//! Pool statistics: the structured [`PoolStats`] and the jemalloc-style text
//! of [`Pool::stats_print`](crate::Pool::stats_print).

use std::fmt::Write;

use crate::ctl;

/// A snapshot of one pool's statistics, in bytes unless named otherwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Size of the pool's memory.
    pub size: usize,
    /// Bytes of the pool the allocator holds now, in live blocks and in
    /// extents it keeps for reuse; the rest is the pool's free space.
    pub used: usize,
    /// Bytes in live allocations, by size class (includes blocks freed into
    /// other threads' caches).
    pub allocated: usize,
    /// Bytes in pages that hold live allocations.
    pub active: usize,
    /// Bytes in extents the arena holds, live or dirty.
    pub mapped: usize,
    /// Bytes the arena keeps for reuse with their pages returned.
    pub retained: usize,
    /// Allocator bookkeeping, kept outside the pool.
    pub metadata: usize,
    /// Allocations served so far.
    pub nmalloc: u64,
    /// Frees so far.
    pub ndalloc: u64,
}

fn arena_stat<T: ctl::Plain>(arena: u32, name: &str) -> T {
    ctl::read(&format!("stats.arenas.{arena}.{name}")).unwrap_or_default()
}

/// Reads the statistics of `arena` (refreshing jemalloc's snapshot first).
pub(crate) fn collect(arena: u32, size: usize, used: usize) -> PoolStats {
    ctl::refresh_stats();
    let page: usize = ctl::read("arenas.page").unwrap_or(4096);
    PoolStats {
        size,
        used,
        allocated: arena_stat::<usize>(arena, "small.allocated") + arena_stat::<usize>(arena, "large.allocated"),
        active: arena_stat::<usize>(arena, "pactive") * page,
        mapped: arena_stat(arena, "mapped"),
        retained: arena_stat(arena, "retained"),
        metadata: arena_stat(arena, "base"),
        nmalloc: arena_stat::<u64>(arena, "small.nmalloc") + arena_stat::<u64>(arena, "large.nmalloc"),
        ndalloc: arena_stat::<u64>(arena, "small.ndalloc") + arena_stat::<u64>(arena, "large.ndalloc"),
    }
}

/// What `opts` leaves out; each character omits a part, as in jemalloc.
struct Omit {
    general: bool,
    merged: bool,
    per_arena: bool,
    bins: bool,
    large: bool,
}

impl Omit {
    fn parse(opts: &str) -> Self {
        Omit {
            general: opts.contains('g'),
            merged: opts.contains('m'),
            per_arena: opts.contains('a'),
            bins: opts.contains('b'),
            large: opts.contains('l'),
        }
    }
}

/// The text `stats_print` sends to the print function.
pub(crate) fn render(arena: u32, base: *const u8, stats: &PoolStats, opts: &str) -> String {
    let omit = Omit::parse(opts);
    let mut out = String::new();
    out.push_str("___ Begin vmem statistics ___\n");
    if !omit.general {
        let jemalloc: &'static [u8] = ctl::read::<usize>("version")
            .ok()
            // SAFETY: jemalloc's `version` is a pointer to a static C string.
            .map(|ptr| unsafe { std::ffi::CStr::from_ptr(ptr as *const libc::c_char) }.to_bytes())
            .unwrap_or(b"?");
        let _ = writeln!(
            out,
            "Version: vmem {} (libvmem API {}.{}), jemalloc {}",
            env!("CARGO_PKG_VERSION"),
            crate::MAJOR_VERSION,
            crate::MINOR_VERSION,
            String::from_utf8_lossy(jemalloc)
        );
        let _ = writeln!(out, "Pool: base {base:p}, size {}, arena {arena}", stats.size);
    }
    if !omit.merged {
        let _ = writeln!(
            out,
            "Pool totals: used {}, allocated {}, active {}, mapped {}, retained {}, metadata {}",
            stats.used, stats.allocated, stats.active, stats.mapped, stats.retained, stats.metadata
        );
        let _ = writeln!(out, "Requests: nmalloc {}, ndalloc {}", stats.nmalloc, stats.ndalloc);
    }
    if !omit.per_arena {
        let _ = writeln!(out, "arenas[{arena}]:");
        for (kind, label) in [("small", "small:"), ("large", "large:")] {
            let _ = writeln!(
                out,
                "{label:<8} allocated {:>12}  nmalloc {:>10}  ndalloc {:>10}",
                arena_stat::<usize>(arena, &format!("{kind}.allocated")),
                arena_stat::<u64>(arena, &format!("{kind}.nmalloc")),
                arena_stat::<u64>(arena, &format!("{kind}.ndalloc")),
            );
        }
        if !omit.bins {
            render_bins(&mut out, arena);
        }
        if !omit.large {
            render_large(&mut out, arena);
        }
    }
    out.push_str("--- End vmem statistics ---\n");
    out
}

/// The size classes of one kind (`count` entries, as jemalloc names them)
/// that `arena` served at least once: their index, size and allocations.
fn used_classes<'a>(
    arena: u32,
    count: &str,
    size_of: &'a str,
    stats_of: &'a str,
) -> impl Iterator<Item = (u32, usize, u64)> + 'a {
    let count: u32 = ctl::read(count).unwrap_or(0);
    (0..count).filter_map(move |class| {
        let nmalloc: u64 = arena_stat(arena, &format!("{stats_of}.{class}.nmalloc"));
        let size = || ctl::read(&format!("{size_of}.{class}.size")).unwrap_or(0);
        (nmalloc != 0).then(|| (class, size(), nmalloc))
    })
}

fn render_bins(out: &mut String, arena: u32) {
    out.push_str("bins:     size     nmalloc     ndalloc     curregs    curslabs\n");
    for (bin, size, nmalloc) in used_classes(arena, "arenas.nbins", "arenas.bin", "bins") {
        let _ = writeln!(
            out,
            "      {size:>7} {nmalloc:>11} {:>11} {:>11} {:>11}",
            arena_stat::<u64>(arena, &format!("bins.{bin}.ndalloc")),
            arena_stat::<usize>(arena, &format!("bins.{bin}.curregs")),
            arena_stat::<usize>(arena, &format!("bins.{bin}.curslabs")),
        );
    }
}

fn render_large(out: &mut String, arena: u32) {
    out.push_str("large:          size     nmalloc     ndalloc  curlextents\n");
    for (class, size, nmalloc) in used_classes(arena, "arenas.nlextents", "arenas.lextent", "lextents") {
        let _ = writeln!(
            out,
            "      {size:>15} {nmalloc:>11} {:>11} {:>12}",
            arena_stat::<u64>(arena, &format!("lextents.{class}.ndalloc")),
            arena_stat::<usize>(arena, &format!("lextents.{class}.curlextents")),
        );
    }
}

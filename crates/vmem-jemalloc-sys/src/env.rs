/// `jemalloc` is known not to work on these targets:
pub static UNSUPPORTED_TARGETS: &[&str] = &["rumprun", "bitrig", "emscripten", "fuchsia", "redox", "wasm32"];

/// `jemalloc-sys` is not tested on these targets in CI:
pub static UNTESTED_TARGETS: &[&str] = &["openbsd", "msvc"];

/// The prefix of every jemalloc symbol, public (`_vmem_je_malloc`) and
/// private (`_vmem_je_je_arena_new`...): tikv-jemalloc-sys uses `_rjem_`, so
/// both can be linked into one program.
pub static PREFIX: &str = "_vmem_je_";

/// jemalloc's `--with-install-suffix`: the library is
/// `libjemalloc_vmem_pic.a`, which no other jemalloc build installs.
pub static INSTALL_SUFFIX: &str = "_vmem";

/// The options built into this jemalloc (`--with-malloc-conf`), read before
/// `_vmem_je_malloc_conf` and the `_VMEM_JE_MALLOC_CONF` environment
/// variable, so those still win when a program sets them.
///
/// `retain:false`: jemalloc otherwise keeps the virtual memory of an arena's
/// metadata after `arena.<i>.destroy`, which would leak a mapping for every
/// pool ever created. It also makes jemalloc ask the extent hooks for what it
/// needs rather than for ever larger chunks, and give extents back through
/// `dalloc` when they decay, so a pool's free space stays whole.
///
/// `lg_extent_max_active_fit:0`: jemalloc reuses a cached free extent only
/// for a request of its own size; other requests come to the hooks, which
/// place them best-fit in the pool's free space. Otherwise jemalloc carves
/// slabs and blocks out of larger cached extents, scattered where the pool's
/// large free ranges would be once everything is freed (measured by vmem: a
/// 1 MiB fill after mixed churn on four threads reached 92–98 % of the pool
/// with jemalloc's default, 64×, and 100 % with 1×).
pub static VMEM_MALLOC_CONF: &str = "retain:false,lg_extent_max_active_fit:0";

//! Gives the shared library libvmem's soname, so programs linked against it
//! load `libvmem.so.1`, as with PMDK's libvmem, and exports the libvmem API
//! only, as `vmem_*@@LIBVMEM_1.0` like PMDK's libvmem.
//!
//! rustc passes the linker its own anonymous version script listing every
//! `#[no_mangle]` function. A symbol in that list keeps no version (lld) or
//! fails the link (GNU ld refuses an anonymous node next to a named one). So
//! with `libvmem_versioned` set, the 16 functions are not `#[no_mangle]`: the
//! exported names are tail-jump trampolines in `global_asm!`, which rustc does
//! not list, and `libvmem.map` gives them the `LIBVMEM_1.0` node (lld takes
//! several version scripts). rustc lists nothing else: jemalloc's symbols
//! are not exported (vmem-jemalloc-sys has its options built in, so no
//! `malloc_conf` symbol is defined). That needs
//! rust-lld, rustc's default linker for x86_64-unknown-linux-gnu; elsewhere
//! (other targets, or lld turned off in RUSTFLAGS) the functions are plain
//! `#[no_mangle]` exports without a version.
fn main() {
    println!("cargo:rustc-check-cfg=cfg(libvmem_versioned)");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=libvmem.map");
    println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let target_os = var("CARGO_CFG_TARGET_OS");
    if target_os != "linux" && target_os != "freebsd" {
        return;
    }
    let rustflags = var("CARGO_ENCODED_RUSTFLAGS");
    let lld_turned_off = ["linker-features=-lld", "link-self-contained=-linker", "-Clinker=", "linker="]
        .iter()
        .any(|flag| rustflags.contains(flag));
    let versioned = target_os == "linux"
        && var("CARGO_CFG_TARGET_ARCH") == "x86_64"
        && var("CARGO_CFG_TARGET_ENV") == "gnu"
        && !lld_turned_off;
    let dir = std::path::PathBuf::from(var("CARGO_MANIFEST_DIR"));
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libvmem.so.1");
    if versioned {
        println!("cargo:rustc-cfg=libvmem_versioned");
        println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={}", dir.join("libvmem.map").display());
    }
}

//! Gives the shared library libvmem's soname, so programs linked against it
//! load `libvmem.so.1`, as with PMDK's libvmem, and exports the libvmem API
//! only (`libvmem.map` hides the one other symbol the Rust side defines).
fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" || target_os == "freebsd" {
        let map = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("libvmem.map");
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libvmem.so.1");
        println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={}", map.display());
        println!("cargo:rerun-if-changed=libvmem.map");
    }
    println!("cargo:rerun-if-changed=build.rs");
}

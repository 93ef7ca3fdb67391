//! Gives the shared library libvmem's soname, so programs linked against it
//! load `libvmem.so.1`, as with PMDK's libvmem.
fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" || target_os == "freebsd" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libvmem.so.1");
    }
    println!("cargo:rerun-if-changed=build.rs");
}

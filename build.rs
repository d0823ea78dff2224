//! Release builds of the berth binary are linked as a non-PIE executable.
//!
//! Every container has a shim, and the shim is this binary (exec'd from a sealed memfd). In a PIE
//! the dynamic loader must apply ~tens of thousands of R_X86_64_RELATIVE relocations at start-up,
//! which dirties the whole RELRO segment (.data.rel.ro + .got, ~320 KiB in release): private
//! memory in every shim. At a fixed address the linker resolves them at link time, so those
//! pages stay clean and are shared by all shims (and the engine) through the page cache.
//! Debug builds (tests) keep the default PIE: nothing measures their memory.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if release && linux {
        // gcc honours the last of -pie / -no-pie; rustc's own -pie comes before link args.
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}

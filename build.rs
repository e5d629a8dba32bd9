//! Link the unwinder into the `sandwrap` binary itself on dynamically
//! linked glibc builds (`cargo build`, `cargo install`).
//!
//! Rust's std takes `_Unwind_*` from libgcc_s.so there, so every launch
//! would map one more shared library and run its constructor, which probes
//! the CPU with `cpuid` (a trap to the hypervisor in a VM): about 90 us of
//! a ~2.5 ms launch on the machine of bench/README.md. libgcc_eh.a is the
//! same unwinder as a static archive (what static builds use); taken whole,
//! its definitions win over libgcc_s's, and `--as-needed` then drops
//! libgcc_s. Static builds (`scripts/build-release.sh`) link libgcc_eh
//! already; a toolchain without the archive keeps libgcc_s.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CC");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let static_crt = var("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|f| f == "crt-static");
    // Native builds only: for another target the host's compiler would
    // name the host's archive.
    let native = var("TARGET") == var("HOST");
    if var("CARGO_CFG_TARGET_OS") != "linux"
        || var("CARGO_CFG_TARGET_ENV") != "gnu"
        || static_crt
        || !native
    {
        return;
    }
    // The C compiler that links the binary knows where its archive is; it
    // prints the bare name when it has none.
    let cc = std::env::var("CC").unwrap_or_default();
    let cc = cc.split_whitespace().next().unwrap_or("cc");
    let Ok(out) = Command::new(cc)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
    else {
        return;
    };
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || !std::path::Path::new(&path).is_absolute() {
        return;
    }
    for arg in ["-Wl,--whole-archive", &path, "-Wl,--no-whole-archive"] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
}

//! Sets `matgrad_avx512` on x86 targets when the compiler has stable AVX-512
//! intrinsics (Rust 1.89), the same test matrixmultiply makes for its AVX-512
//! kernels: the blocked GEMM must pick the arithmetic matrixmultiply picks.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-check-cfg=cfg(matgrad_avx512)");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    if (arch == "x86" || arch == "x86_64") && rustc_minor().is_some_and(|minor| minor >= 89) {
        println!("cargo:rustc-cfg=matgrad_avx512");
    }
}

/// The minor version of the compiler (`rustc 1.89.0 (…)` → 89).
fn rustc_minor() -> Option<u32> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc).arg("--version").output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let version = text.split_whitespace().nth(1)?;
    let mut parts = version.split('.');
    if parts.next()? != "1" {
        return None;
    }
    parts.next()?.parse().ok()
}

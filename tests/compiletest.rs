//! UI tests: every diagnostic of `#[grad]` (`tests/ui/*.rs` + `.stderr`) and the
//! expansions that must compile warning-free in a strict or name-clashing user crate
//! (`tests/ui-pass/*.rs`).
//!
//! Refresh the expected output after a change of message or of toolchain with
//! `TRYBUILD=overwrite cargo test --test compiletest`, then read every `.stderr`.
//!
//! Run with nalgebra 0.35 (the default) only: the cases say `use nalgebra::…`, the
//! name of the 0.35 dependency, and the expected messages quote nalgebra's types.
#![cfg(feature = "nalgebra_v0_35")]

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui-pass/*.rs");
}

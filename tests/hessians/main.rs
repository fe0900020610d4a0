//! Dense Hessians built from their structure (`matgrad-core/src/hessian_structure.rs`: one
//! product for `Xᵀ D X`, Kronecker products, `A + Aᵀ`), checked at run time: each
//! against central differences of the generated gradient, against the column-by-column
//! build from unit Hessian-vector products (the `_hvp` companion), against its closed
//! form where one is known, and exactly symmetric; f64 and f32, dynamic, static and
//! mixed sizes, vector, row and matrix variables (`cases.rs`).
//! `tests/hessians_reassociate.rs` runs the same cases with `reassociate` forced on.
//! Which form each function gets is pinned in `matgrad-core/tests/hessians.rs`, on the
//! same bodies.

// The nalgebra matgrad is built with: the dependency `nalgebra` (0.35, the default)
// or, under `--no-default-features --features nalgebra_v0_34`, the renamed 0.34.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

#[path = "../common/mod.rs"]
#[allow(unused_macros, unused_imports)]
mod common;

mod cases;

use matgrad::grad;

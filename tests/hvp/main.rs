//! Second order (SPEC §10): every rule's Hessian-vector product against central
//! differences of the generated gradient along a random direction, and each dense
//! Hessian against the HVPs of the unit directions, symmetric to rounding; f64 and
//! f32, static sizes, several shapes with 1×1 and non-square ones, and the closed
//! forms of the seeds (`cases.rs`). `tests/hvp_reassociate.rs` runs the same cases
//! with `reassociate` forced on.

// The nalgebra matgrad is built with: the dependency `nalgebra` (0.35, the default)
// or, under `--no-default-features --features nalgebra_v0_34`, the renamed 0.34.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

#[path = "../common/mod.rs"]
#[allow(unused_macros, unused_imports)]
mod common;

mod cases;

use matgrad::grad;

//! Second order (SPEC §10): every rule's Hessian-vector product against central
//! differences of the generated gradient along a random direction, and each dense
//! Hessian against the HVPs of the unit directions, symmetric to rounding; f64 and
//! f32, static sizes, several shapes with 1×1 and non-square ones, and the closed
//! forms of the seeds (`cases.rs`). `tests/hvp_reassociate.rs` runs the same cases
//! with `reassociate` forced on.

#[path = "../common/mod.rs"]
#[allow(unused_macros, unused_imports)]
mod common;

mod cases;

use matgrad::grad;

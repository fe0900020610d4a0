//! The cases of `tests/hvp/` again, each annotated function expanded with
//! `reassociate` on (`matgrad::__grad_reassociated`, imported as `grad`): chains of
//! products, traces of products and inverses used only in products (factorised,
//! solved) get their tangents too, and the HVPs and Hessians must still agree with
//! central differences of the gradient.

// The nalgebra matgrad is built with: the dependency `nalgebra` (0.35, the default)
// or, under `--no-default-features --features nalgebra_v0_34`, the renamed 0.34.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

#[allow(unused_macros, unused_imports)]
mod common;

#[path = "hvp/cases.rs"]
mod cases;

use matgrad::__grad_reassociated as grad;

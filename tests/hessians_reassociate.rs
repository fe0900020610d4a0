//! The cases of `tests/hessians/` again, each annotated function expanded with
//! `reassociate` on (`matgrad::__grad_reassociated`, imported as `grad`): products
//! become chains (a Kronecker map then has several constant factors on a side, formed
//! by one chain product), and the structured Hessians must still agree with central
//! differences of the gradient and with the unit HVPs.

// The nalgebra matgrad is built with: the dependency `nalgebra` (0.35, the default)
// or, under `--no-default-features --features nalgebra_v0_34`, the renamed 0.34.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

#[allow(unused_macros, unused_imports)]
mod common;

#[path = "hessians/cases.rs"]
mod cases;

use matgrad::__grad_reassociated as grad;

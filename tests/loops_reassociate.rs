//! The loops of `tests/loops/` expanded with `reassociate` on (their step functions
//! too).

// The nalgebra matgrad is built with: the dependency `nalgebra` (0.35, the default)
// or, under `--no-default-features --features nalgebra_v0_34`, the renamed 0.34.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

mod common;

#[path = "loops/cases.rs"]
mod cases;

use matgrad::__grad_reassociated as grad;

/// `reassociate` may compute the value in another order: equal to rounding.
const VALUE: common::Value = common::Value::Rounded;

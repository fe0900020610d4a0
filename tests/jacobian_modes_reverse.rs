//! The cases of `tests/jacobian_modes/` in reverse mode, whatever the cost model
//! would choose (`matgrad::__jacobian_reverse`, imported as `jacobian`): the values
//! once, then one reverse sweep per residual, against finite differences.

// The nalgebra matgrad is built with: the dependency `nalgebra` (0.35, the default)
// or, under `--no-default-features --features nalgebra_v0_34`, the renamed 0.34.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

#[path = "jacobian_modes/cases.rs"]
mod cases;

use matgrad::__jacobian_reverse as jacobian;

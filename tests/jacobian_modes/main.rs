//! `#[jacobian]` in forward mode on every case of `cases.rs`, whatever the cost
//! model would choose (`matgrad::__jacobian_forward`, imported as `jacobian`): one
//! tangent sweep per variable entry, through every rule's `tangent`, against finite
//! differences. `tests/jacobian_modes_reverse.rs` runs the same cases in reverse
//! mode; `tests/jacobian.rs` the mode the costs choose.

// The nalgebra matgrad is built with: the dependency `nalgebra` (0.35, the default)
// or, under `--no-default-features --features nalgebra_v0_34`, the renamed 0.34.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

mod cases;

use matgrad::__jacobian_forward as jacobian;

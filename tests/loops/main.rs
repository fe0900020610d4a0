//! `for` loops whose trip count is known only at run time (issue 16, SPEC §9): not
//! unrolled; the reverse sweep runs the iterations backwards from the values the
//! forward pass saved. Each function is checked against central finite differences
//! of the original at several shapes and trip counts (0, 1 and many), f64 and f32;
//! `tests/loops_reassociate.rs` runs them again with `reassociate`.

// The nalgebra matgrad is built with: the dependency `nalgebra` (0.35, the default)
// or, under `--no-default-features --features nalgebra_v0_34`, the renamed 0.34.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

#[path = "../common/mod.rs"]
mod common;

mod cases;

use matgrad::grad;

/// `_grad`'s value is the original function's, bit for bit.
const VALUE: common::Value = common::Value::Exact;

//! Losses as users write them (issue 15, SPEC §8): each function below is plain
//! nalgebra code of the kind found in real training loops and estimators, annotated
//! with `#[grad]` and checked against central finite differences at several shapes
//! (including 1×1 and non-square), in f64 and, where the loss is generic or written
//! for it, f32. `tests/realistic_reassociate.rs` runs them again with `reassociate`.

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

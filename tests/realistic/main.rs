//! Losses as users write them (issue 15, SPEC §8): each function below is plain
//! nalgebra code of the kind found in real training loops and estimators, annotated
//! with `#[grad]` and checked against central finite differences at several shapes
//! (including 1×1 and non-square), in f64 and, where the loss is generic or written
//! for it, f32. `tests/realistic_reassociate.rs` runs them again with `reassociate`.

#[path = "../common/mod.rs"]
mod common;

mod cases;

use matgrad::grad;

/// `_grad`'s value is the original function's, bit for bit.
const VALUE: common::Value = common::Value::Exact;

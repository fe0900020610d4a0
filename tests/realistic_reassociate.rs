//! The losses of `tests/realistic/` expanded with `reassociate` on.

mod common;

#[path = "realistic/cases.rs"]
mod cases;

use matgrad::__grad_reassociated as grad;

/// `reassociate` may compute the value in another order: equal to rounding.
const VALUE: common::Value = common::Value::Rounded;

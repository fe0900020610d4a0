//! The cases of `tests/seeds/` again, each annotated function expanded with
//! `reassociate` on whatever its attribute says (`matgrad::__grad_reassociated`,
//! imported as `grad`): the gradients must still agree with finite differences and
//! `_grad_into` with `_grad`, and the value with the original function's to rounding.

mod common;

#[path = "seeds/cases.rs"]
mod cases;

use matgrad::__grad_reassociated as grad;

/// `reassociate` may compute the value in another order: equal to rounding.
const VALUE: common::Value = common::Value::Rounded;

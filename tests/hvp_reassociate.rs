//! The cases of `tests/hvp/` again, each annotated function expanded with
//! `reassociate` on (`matgrad::__grad_reassociated`, imported as `grad`): chains of
//! products, traces of products and inverses used only in products (factorised,
//! solved) get their tangents too, and the HVPs and Hessians must still agree with
//! central differences of the gradient.

#[allow(unused_macros, unused_imports)]
mod common;

#[path = "hvp/cases.rs"]
mod cases;

use matgrad::__grad_reassociated as grad;

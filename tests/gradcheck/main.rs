//! Every rule of SPEC §3 and every runtime function of §4 against finite differences
//! (the cases are in `cases.rs`), under the default contract: `#[grad]` as users
//! write it, so each `_grad` value is the very bits of the original function's.
//! `tests/gradcheck_reassociate.rs` runs the same cases with `reassociate` forced on.

#[path = "../common/mod.rs"]
mod common;

mod cases;

use matgrad::grad;

/// `_grad`'s value is the original function's, bit for bit.
const VALUE: common::Value = common::Value::Exact;

//! Static sizes against finite differences (the cases are in `cases.rs`), under the
//! default contract: `#[grad]` as users write it, so each `_grad` value is the very
//! bits of the original function's. `tests/static_sizes_reassociate.rs` runs the
//! same cases with `reassociate` forced on.

#[path = "../common/mod.rs"]
mod common;

mod cases;

use matgrad::grad;

/// `_grad`'s value is the original function's, bit for bit.
const VALUE: common::Value = common::Value::Exact;

//! Static sizes against finite differences (the cases are in `cases.rs`), under the
//! default contract: `#[grad]` as users write it, so each `_grad` value is the very
//! bits of the original function's. `tests/static_sizes_reassociate.rs` runs the
//! same cases with `reassociate` forced on.

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

//! Kernels for the code that `#[grad]` generates, and the functions a user may call
//! inside an annotated body (re-exported by the `matgrad` crate).
//!
//! Everything here works on nalgebra's dynamically sized matrices in `f32` and `f64`
//! (see [`Real`]). The public vocabulary ([`sigmoid`], [`add_row`], [`ln_det`], …)
//! is usable in plain code too; the `__private` module holds the kernels the
//! generated code calls and is not a stable API.
//!
//! Matrix products run on the crate's own blocked kernel: the same bits as
//! matrixmultiply (so nalgebra's `a * b` is reproduced exactly), but with packing
//! buffers kept per thread, so that products allocate nothing in steady state.
//!
//! # Features
//!
//! - `parallel` (off by default): products of at least 2²¹ multiply-adds are split
//!   over rayon's threads, with the same bits. rayon's job queue then allocates a
//!   block about once every 63 products, so the zero-allocation guarantee of the
//!   generated `_grad_into` functions holds only without this feature.
#![deny(missing_docs)]

// One nalgebra, chosen by feature as argmin-math does (see Cargo.toml): 0.35 is the
// dependency named `nalgebra`, 0.34 is renamed and aliased here, so that every path
// in the crate says `nalgebra::` whichever it is.
#[cfg(all(feature = "nalgebra_v0_34", not(feature = "nalgebra_v0_35")))]
extern crate nalgebra_0_34 as nalgebra;
#[cfg(all(feature = "nalgebra_v0_34", feature = "nalgebra_v0_35"))]
compile_error!(
    "matgrad: features `nalgebra_v0_34` and `nalgebra_v0_35` are both enabled, and matgrad works on one nalgebra; \
     `nalgebra_latest` (0.35) is a default feature, so for 0.34 write \
     `matgrad = { version = \"0.1\", default-features = false, features = [\"nalgebra_v0_34\"] }`"
);
#[cfg(not(any(feature = "nalgebra_v0_34", feature = "nalgebra_v0_35")))]
compile_error!(
    "matgrad: no nalgebra version selected; enable one of the features `nalgebra_latest` (the default, 0.35), \
     `nalgebra_v0_35` or `nalgebra_v0_34`"
);

pub mod blas;
pub mod broadcast;
mod chain;
pub mod decomp;
pub mod elementwise;
mod fill;
mod fused;
mod gemm;
mod hessian;
mod jacobian;
mod kernel;
mod kron;
mod lines;
mod looped;
mod part;
mod real;
pub mod reduce;
mod solve;
mod view;
mod workspace;

#[doc(hidden)]
pub mod __private;

pub use blas::{gemm_nn, gemm_nt, gemm_tn, gemm_tt};
pub use broadcast::{add_col, add_row};
pub use decomp::ln_det;
pub use elementwise::{relu, sigmoid, softplus};
pub use real::Real;
pub use reduce::{log_sum_exp, softmax_cross_entropy};
pub use workspace::Workspace;

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

pub mod blas;
pub mod broadcast;
mod chain;
pub mod decomp;
pub mod elementwise;
mod fill;
mod fused;
mod gemm;
mod kernel;
mod kron;
mod lines;
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

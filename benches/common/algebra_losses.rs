//! The losses of issue 9's benchmarks (`benches/algebra.rs`), each twice: as a user
//! writes it with the default `#[grad]` (the value computed as written) and with
//! `#[grad(..., reassociate)]` (the value may be computed in another order). The
//! bodies are identical; only the attribute differs.
//!
//! `cargo run -p matgrad-core --example expand < benches/common/algebra_losses.rs`
//! prints what the macro writes for each.

use matgrad::{grad, ln_det};
use nalgebra::{DMatrix, DVector};

/// `tr(A X B)`.
#[grad(wrt = x)]
pub fn trace_axb(a: &DMatrix<f64>, x: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (a * x * b).trace()
}

/// `tr(A X B)`, value reassociated.
#[grad(wrt = x, reassociate)]
pub fn trace_axb_re(a: &DMatrix<f64>, x: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (a * x * b).trace()
}

/// `‖a b v‖²`.
#[grad(wrt = (a, b))]
pub fn abv(a: &DMatrix<f64>, b: &DMatrix<f64>, v: &DVector<f64>) -> f64 {
    (a * b * v).norm_squared()
}

/// `‖a b v‖²`, value reassociated.
#[grad(wrt = (a, b), reassociate)]
pub fn abv_re(a: &DMatrix<f64>, b: &DMatrix<f64>, v: &DVector<f64>) -> f64 {
    (a * b * v).norm_squared()
}

/// `ln |det X| − tr(S X)`.
#[grad(wrt = x)]
pub fn ln_det_trace(x: &DMatrix<f64>, s: &DMatrix<f64>) -> f64 {
    ln_det(x) - (s * x).trace()
}

/// `ln |det X| − tr(S X)`, value reassociated.
#[grad(wrt = x, reassociate)]
pub fn ln_det_trace_re(x: &DMatrix<f64>, s: &DMatrix<f64>) -> f64 {
    ln_det(x) - (s * x).trace()
}

/// `xᵀ a b x`.
#[grad(wrt = x)]
pub fn xabx(x: &DVector<f64>, a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (x.transpose() * a * b * x)[(0, 0)]
}

/// `xᵀ a b x`, value reassociated.
#[grad(wrt = x, reassociate)]
pub fn xabx_re(x: &DVector<f64>, a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (x.transpose() * a * b * x)[(0, 0)]
}

/// `Σ (a b c d)`.
#[grad(wrt = (a, b, c, d))]
pub fn chain4(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>, d: &DMatrix<f64>) -> f64 {
    (a * b * c * d).sum()
}

/// `Σ (a b c d)`, value reassociated.
#[grad(wrt = (a, b, c, d), reassociate)]
pub fn chain4_re(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>, d: &DMatrix<f64>) -> f64 {
    (a * b * c * d).sum()
}

/// The Gaussian negative log-likelihood `ln |det S| + vᵀ S⁻¹ v` (up to constants and
/// a factor ½).
#[grad(wrt = (s, v))]
pub fn gaussian_nll(s: &DMatrix<f64>, v: &DVector<f64>) -> f64 {
    ln_det(s) + (v.transpose() * s.clone().try_inverse().unwrap() * v)[(0, 0)]
}

/// `ln |det S| + vᵀ S⁻¹ v`, value reassociated: the inverse, used only in the product,
/// becomes one LU factorisation and a solve.
#[grad(wrt = (s, v), reassociate)]
pub fn gaussian_nll_re(s: &DMatrix<f64>, v: &DVector<f64>) -> f64 {
    ln_det(s) + (v.transpose() * s.clone().try_inverse().unwrap() * v)[(0, 0)]
}

//! The benchmark losses, as a user writes them, with the gradients `#[grad]` generates
//! beside them. Shared by `benches/workloads.rs` and the candle comparison in
//! `benches/candle/` (which checks candle's gradients against these).

use matgrad::{add_row, grad, ln_det, relu, softmax_cross_entropy, softplus};
use nalgebra::{DMatrix, DVector, RowDVector};

/// Two-layer network `‖tanh(X W1) W2 − Y‖²`.
#[grad(wrt = (w1, w2), hvp)]
pub fn two_layer(x: &DMatrix<f64>, w1: &DMatrix<f64>, w2: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    let h = (x * w1).map(|v| v.tanh());
    (h * w2 - y).norm_squared()
}

/// MLP classifier with biases, summed softmax cross-entropy.
#[grad(wrt = (w1, b1, w2, b2), hvp)]
pub fn mlp(
    x: &DMatrix<f64>,
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    b2: &RowDVector<f64>,
    y: &DMatrix<f64>,
) -> f64 {
    softmax_cross_entropy(&add_row(&(relu(&add_row(&(x * w1), b1)) * w2), b2), y)
}

/// Least squares `‖X w − y‖²`.
#[grad(wrt = w, hvp, hessian)]
pub fn least_squares(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 {
    (x * w - y).norm_squared()
}

/// Logistic regression `Σ softplus(−y ⊙ X w) + λ ‖w‖²`, labels ±1.
#[grad(wrt = w, hvp, hessian)]
pub fn logistic(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>, lambda: f64) -> f64 {
    softplus(&(-(x * w).component_mul(y))).sum() + lambda * w.norm_squared()
}

/// `tr(A X B)`.
#[grad(wrt = x, hvp)]
pub fn trace_axb(a: &DMatrix<f64>, x: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (a * x * b).trace()
}

/// `ln |det X| − tr(S X)`.
#[grad(wrt = x, hvp)]
pub fn ln_det_trace(x: &DMatrix<f64>, s: &DMatrix<f64>) -> f64 {
    ln_det(x) - (s * x).trace()
}

/// Dictionary learning `‖X − D R‖² + λ ‖R‖²`.
#[grad(wrt = (d, r), hvp)]
pub fn dictionary(x: &DMatrix<f64>, d: &DMatrix<f64>, r: &DMatrix<f64>, lambda: f64) -> f64 {
    (x - d * r).norm_squared() + lambda * r.norm_squared()
}

/// Low-rank factorisation `‖U Vᵀ − M‖² + λ (‖U‖² + ‖V‖²)`.
#[grad(wrt = (u, v), hvp)]
pub fn low_rank(u: &DMatrix<f64>, v: &DMatrix<f64>, m: &DMatrix<f64>, lambda: f64) -> f64 {
    (u * v.transpose() - m).norm_squared() + lambda * (u.norm_squared() + v.norm_squared())
}

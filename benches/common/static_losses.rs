//! The static-size benchmark losses (issue 8), with the gradients `#[grad]` generates
//! beside them, and the gradients an expert writes by hand with nalgebra's static
//! types. Shared by `benches/static_sizes.rs` and `tests/alloc.rs`.

use matgrad::{add_col, grad};
use nalgebra::{Matrix3, Matrix6, SMatrix, Vector3, Vector6};

/// Number of point pairs of the pose workload.
pub const POINTS: usize = 16;

/// Pose fitting `‖R P + t 1ᵀ − Q‖²` over 16 point pairs (the columns of `p`, `q`;
/// `#[grad]` reads sizes as integer literals).
#[grad(wrt = (r, t))]
pub fn pose(
    r: &Matrix3<f64>,
    t: &Vector3<f64>,
    p: &SMatrix<f64, 3, 16>,
    q: &SMatrix<f64, 3, 16>,
) -> f64 {
    (add_col(&(r * p), t) - q).norm_squared()
}

/// By hand: `E = R P + t 1ᵀ − Q`, `∂/∂R = 2 E Pᵀ`, `∂/∂t = 2 E 1`.
pub fn pose_hand(
    r: &Matrix3<f64>,
    t: &Vector3<f64>,
    p: &SMatrix<f64, 3, POINTS>,
    q: &SMatrix<f64, 3, POINTS>,
) -> (f64, Matrix3<f64>, Vector3<f64>) {
    let mut e = r * p - q;
    for mut c in e.column_iter_mut() {
        c += t;
    }
    let e2 = e * 2.0;
    (e.norm_squared(), e2 * p.transpose(), e2.column_sum())
}

/// The quadratic form `xᵀ A x`, 3×3.
#[grad(wrt = (x, a))]
pub fn quadratic3(x: &Vector3<f64>, a: &Matrix3<f64>) -> f64 {
    (x.transpose() * a * x)[(0, 0)]
}

/// The quadratic form `xᵀ A x`, 6×6.
#[grad(wrt = (x, a))]
pub fn quadratic6(x: &Vector6<f64>, a: &Matrix6<f64>) -> f64 {
    (x.transpose() * a * x)[(0, 0)]
}

/// By hand: `∂/∂x = (A + Aᵀ) x`, `∂/∂A = x xᵀ`.
pub fn quadratic_hand<const N: usize>(
    x: &SMatrix<f64, N, 1>,
    a: &SMatrix<f64, N, N>,
) -> (f64, SMatrix<f64, N, 1>, SMatrix<f64, N, N>) {
    let ax = a * x;
    (x.dot(&ax), ax + a.tr_mul(x), x * x.transpose())
}

/// A 6×6 layer `‖tanh(W x) − y‖²`.
#[grad(wrt = (w, x))]
pub fn layer6(w: &Matrix6<f64>, x: &Vector6<f64>, y: &Vector6<f64>) -> f64 {
    let a = (w * x).map(|v| v.tanh());
    (a - y).norm_squared()
}

/// By hand: `d = 2 (a − y) ⊙ (1 − a²)`, `∂/∂W = d xᵀ`, `∂/∂x = Wᵀ d`.
pub fn layer6_hand(
    w: &Matrix6<f64>,
    x: &Vector6<f64>,
    y: &Vector6<f64>,
) -> (f64, Matrix6<f64>, Vector6<f64>) {
    let a = (w * x).map(f64::tanh);
    let e = a - y;
    let d = e.zip_map(&a, |e, a| 2.0 * e * (1.0 - a * a));
    (e.norm_squared(), d * x.transpose(), w.tr_mul(&d))
}

/// `ln |det X|` of a 6×6 matrix.
#[grad(wrt = x)]
pub fn ln_det6(x: &Matrix6<f64>) -> f64 {
    matgrad::ln_det(x)
}

/// By hand: one LU gives both `ln |det X|` and `X⁻ᵀ`.
pub fn ln_det6_hand(x: &Matrix6<f64>) -> (f64, Matrix6<f64>) {
    let lu = x.lu();
    let ln = lu.u().diagonal().iter().map(|d| d.abs().ln()).sum();
    let inv = lu
        .try_inverse()
        .unwrap_or_else(|| Matrix6::from_element(f64::NAN));
    (ln, inv.transpose())
}

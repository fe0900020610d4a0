use matgrad::jacobian;
use nalgebra::{DMatrix, DVector};

/// Structured, decided at expansion: `J = diag(1 − tanh²(X w)) X`, one row scale
/// of `X` (40 tangent sweeps of `X e_k` in forward mode for 40 weights).
#[jacobian(wrt = w)]
pub fn dense(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> DVector<f64> {
    (x * w).map(|v| v.tanh()) - y
}

/// Structured: a linear residual's Jacobian is its matrix, `J = A`.
#[jacobian(wrt = x)]
pub fn linear(a: &DMatrix<f64>, x: &DVector<f64>, b: &DVector<f64>) -> DVector<f64> {
    a * x - b
}

/// Structured or reverse mode, chosen at run time: the sum `diag(cos(A x)) A + B`
/// costs two passes over `J`, which the symbols cannot weigh against the reverse
/// sweeps for all sizes.
#[jacobian(wrt = x)]
pub fn sum(a: &DMatrix<f64>, b: &DMatrix<f64>, x: &DVector<f64>) -> DVector<f64> {
    (a * x).map(|v| v.sin()) + b * x
}

/// Not structured (`A diag(tanh′(w))` has the tangent on the right of a row scale):
/// forward or reverse mode at run time; each forward sweep evaluates its last map
/// straight into column k of `J`.
#[jacobian(wrt = w)]
pub fn inner(w: &DVector<f64>, a: &DMatrix<f64>) -> DVector<f64> {
    (a * w.map(|v| v.tanh())).map(|v| v.sin())
}

//! `#[jacobian]` companions compile without a warning or a missing doc in a crate
//! that denies both, in each mode and on each backend, whatever the names:
//! parameters named like the generated code's locals and outputs (`s` the seed, `r`
//! the residuals, `ws`, `v_p` a direction, `jacobian_p`, `grad_p`).
#![deny(warnings, missing_docs)]

use matgrad::{differentiable, jacobian};
use nalgebra::{DMatrix, DVector, Matrix3, Vector3};

/// Names of the generated code as parameters; both modes, chosen at run time.
#[jacobian(wrt = (p, s))]
pub fn clash(
    p: &DVector<f64>,
    s: f64,
    r: &DVector<f64>,
    ws: &DVector<f64>,
    v_p: &DVector<f64>,
    jacobian_p: f64,
    grad_p: f64,
) -> DVector<f64> {
    r.map(|t| p[0] * (-p[1] * t).exp() * s) + ws * jacobian_p + v_p * grad_p
}

/// Structured (`diag(1 − tanh²(x w)) x` for `w`, a column per entry of `p`), with
/// names of the generated code as parameters.
#[jacobian(wrt = (w, p))]
pub fn structured(
    w: &DVector<f64>,
    p: &DVector<f64>,
    x: &DMatrix<f64>,
    r: &DVector<f64>,
    ws: f64,
) -> DVector<f64> {
    (x * w).map(|v| v.tanh()) * ws + r.map(|t| p[0] * (-p[1] * t).exp())
}

/// Static sizes, reverse mode.
#[jacobian(wrt = (m, t))]
pub fn transform(m: &Matrix3<f64>, t: &Vector3<f64>, x: &Vector3<f64>) -> Vector3<f64> {
    m * x + t
}

/// Static sizes, forward mode (a private function: its companions are used below).
#[jacobian(wrt = a)]
fn scaled(a: f64, x: &Vector3<f64>) -> Vector3<f64> {
    x.map(|v| (a * v).sin())
}

/// A helper.
#[differentiable]
fn model(t: &DVector<f64>, a: f64) -> DVector<f64> {
    t.map(|v| (a * v).sin())
}

/// A body calling a helper (through `#[grad]`'s continuation, reverse mode).
#[jacobian(wrt = a)]
pub fn with_helper(a: f64, t: &DVector<f64>) -> DVector<f64> {
    model(t, a) * 2.0
}

fn main() {
    let p = DVector::from_vec(vec![1.0, 0.5]);
    let d = DVector::from_vec(vec![0.1, 0.2, 0.3]);
    let (value, jp, js) = clash_jacobian(&p, 2.0, &d, &d, &d, 0.5, 0.25);
    assert_eq!(value, clash(&p, 2.0, &d, &d, &d, 0.5, 0.25));
    assert_eq!((jp.shape(), js.shape()), ((3, 2), (3, 1)));
    let mut ws = matgrad::Workspace::new();
    let (mut r, mut j1, mut j2) = (DVector::zeros(0), DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
    clash_jacobian_into(&p, 2.0, &d, &d, &d, 0.5, 0.25, &mut r, &mut j1, &mut j2, &mut ws);
    assert_eq!((r, j1, j2), (value, jp, js));

    let (m, t, x) = (Matrix3::identity(), Vector3::zeros(), Vector3::new(1.0, 2.0, 3.0));
    let (v, jm, jt) = transform_jacobian(&m, &t, &x);
    assert_eq!((v, jm[(0, 0)], jt), (x, 1.0, Matrix3::identity()));
    let (v, ja) = scaled_jacobian(0.5, &x);
    assert_eq!(v, scaled(0.5, &x));
    assert_eq!(ja[(1, 0)], 2.0 * (0.5f64 * 2.0).cos());
    let (v, ja) = with_helper_jacobian(0.5, &d);
    assert_eq!(v, with_helper(0.5, &d));
    assert_eq!(ja.shape(), (3, 1));
}

//! The generated companions compile without a warning or a missing doc in a crate
//! that denies both, for every kind of parameter and every family of operations.
#![deny(warnings, missing_docs)]

use matgrad::{add_row, grad, ln_det, relu, sigmoid, softmax_cross_entropy, softplus};
use nalgebra::{DMatrix, DVector, RowDVector};

/// Tanh layer with squared error.
#[grad(wrt = w)]
pub fn tanh_layer(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    let z = x * w;
    let a = z.map(|v| v.tanh());
    (a - y).norm_squared()
}

/// Two-layer classifier.
#[grad(wrt = (w1, b1, w2, b2))]
pub fn mlp(
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    b2: &RowDVector<f64>,
) -> f64 {
    let h = relu(&add_row(&(x * w1), b1));
    let z = add_row(&(h * w2), b2);
    softmax_cross_entropy(&z, y)
}

/// Logistic regression with its Hessian and Hessian-vector products.
#[grad(wrt = w, hvp, hessian)]
pub fn logistic(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 {
    softplus(&(x * w)).sum() - y.dot(&(x * w))
}

/// A private function asking only for its Hessian: the HVP helpers stay quiet.
#[grad(wrt = w, hessian)]
fn private_quadratic(w: &DVector<f64>) -> f64 {
    w.norm_squared() * w.sum()
}

/// Gaussian log-likelihood in the precision matrix.
#[grad(wrt = p)]
pub fn gaussian(p: &DMatrix<f64>, s: &DMatrix<f64>) -> f64 {
    ln_det(p) - (s * p).trace()
}

/// Quadratic form of one entry, with a vector parameter.
#[grad(wrt = (x, a))]
pub fn quadratic(x: &DVector<f64>, a: &DMatrix<f64>) -> f64 {
    (x.transpose() * a * x)[(0, 0)]
}

/// Scalars by value, a matrix by value, a closure capturing a scalar, `return`.
#[grad(wrt = (a, s))]
pub fn scalars(a: DMatrix<f64>, s: f64, t: f64) -> f64 {
    let b = a.map(|v| (v * s).sin() + t * v.powi(2));
    return b.mean() * s.exp();
}

/// Kronecker product, inverse and determinant.
#[grad(wrt = (a, b))]
pub fn kron(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let k = a.kronecker(b);
    let i = a.clone().try_inverse().expect("singular");
    k.norm() + i.sum() + b.determinant()
}

/// In `f32`, with a constant that is not a parameter.
#[grad(wrt = w)]
pub fn single(x: &DMatrix<f32>, w: &DMatrix<f32>) -> f32 {
    let z = sigmoid(&(x * w));
    z.sum() * std::f32::consts::PI
}

/// A `wrt` variable the value does not depend on: its gradient is zero.
#[grad(wrt = (w, _unused))]
pub fn ignores(w: &DMatrix<f64>, _unused: &DMatrix<f64>) -> f64 {
    w.sum()
}

fn main() {
    let x = DMatrix::from_fn(3, 2, |i, j| 0.1 * (i + 2 * j) as f64 + 0.2);
    let w = DMatrix::from_fn(2, 2, |i, j| if i == j { 1.0 } else { 0.1 });
    let y = DMatrix::from_element(3, 2, 0.5);
    let wv = DVector::from_element(2, 0.1);
    let yv = DVector::from_element(3, 0.5);
    let (_, _, h) = logistic_hessian(&x, &wv, &yv);
    let (_, _, hv) = logistic_hvp(&x, &wv, &yv, &wv);
    assert!((h * &wv - hv).norm() < 1e-12);
    assert_eq!(private_quadratic_hessian(&wv).2.shape(), (2, 2));
    let (v, dw) = tanh_layer_grad(&x, &w, &y);
    assert_eq!(v, tanh_layer(&x, &w, &y));
    assert_eq!(dw.shape(), (2, 2));

    let b = RowDVector::from_element(2, 0.1);
    let (v, _, db1, _, _) = mlp_grad(&x, &y, &w, &b, &w, &b);
    assert_eq!(v, mlp(&x, &y, &w, &b, &w, &b));
    assert_eq!(db1.shape(), (1, 2));

    let (v, _) = gaussian_grad(&w, &w);
    assert_eq!(v, gaussian(&w, &w));

    let xv = DVector::from_element(2, 1.0);
    let (v, _, _) = quadratic_grad(&xv, &w);
    assert_eq!(v, quadratic(&xv, &w));

    let (v, _, ds) = scalars_grad(w.clone(), 0.5, 2.0);
    assert_eq!(v, scalars(w.clone(), 0.5, 2.0));
    assert!(ds.is_finite());

    let (v, _, _) = kron_grad(&w, &w);
    assert_eq!(v, kron(&w, &w));

    let xf = x.map(|v| v as f32);
    let wf = w.map(|v| v as f32);
    let (v, _) = single_grad(&xf, &wf);
    assert_eq!(v, single(&xf, &wf));

    let (v, _, du) = ignores_grad(&w, &x);
    assert_eq!(v, ignores(&w, &x));
    assert_eq!(du, DMatrix::zeros(3, 2));
}

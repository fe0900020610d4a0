//! Loops with run-time trip counts (their hidden step functions, nested loops, a
//! helper called in a loop, an iterator sum; their tangents under `hvp` and
//! `hessian`) and a dense Hessian through a helper compile without a warning or a
//! missing doc in a crate that denies both.
#![deny(warnings, missing_docs)]

use matgrad::{differentiable, grad};
use nalgebra::{DMatrix, DVector};

/// One tanh step.
#[differentiable]
pub fn cell(w: &DMatrix<f64>, h: &DVector<f64>, x: &DVector<f64>) -> DVector<f64> {
    (w * h + x).map(|v| v.tanh())
}

/// A recurrent network over the columns of `xs`, its loss summed over the steps.
#[grad(wrt = (w, u))]
pub fn rnn(w: &DMatrix<f64>, u: &DMatrix<f64>, xs: &DMatrix<f64>, steps: usize) -> f64 {
    let mut h = DVector::zeros(w.nrows());
    let mut loss = 0.0;
    for t in 0..steps {
        let x = u * xs.column(t);
        h = cell(w, &h, &x);
        for _ in 0..t {
            loss += h.sum() * 1e-3;
        }
        loss += h.norm_squared();
    }
    loss + (0..xs.ncols()).map(|j| xs[(0, j)] * w[(0, 0)]).sum::<f64>()
}

/// The same network with its Hessian-vector products and the dense Hessian of `w`.
#[grad(wrt = w, hvp, hessian)]
pub fn rnn2(w: &DMatrix<f64>, xs: &DMatrix<f64>, steps: usize) -> f64 {
    let mut h = DVector::zeros(w.nrows());
    for t in 0..steps {
        h = cell(w, &h, &xs.column(t).into_owned());
    }
    h.norm_squared()
}

/// A least-squares loss through a helper: its dense Hessian from its structure.
#[grad(wrt = w, hessian)]
pub fn fit(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 {
    (linear(x, w) - y).norm_squared()
}

/// `x w`.
#[differentiable]
pub fn linear(x: &DMatrix<f64>, w: &DVector<f64>) -> DVector<f64> {
    x * w
}

fn main() {
    let _ = rnn2_hessian(&DMatrix::zeros(2, 2), &DMatrix::zeros(2, 3), 3);
    let _ = fit_hessian(&DMatrix::zeros(3, 2), &DVector::zeros(2), &DVector::zeros(3));
    let w = DMatrix::from_element(2, 2, 0.1);
    let u = DMatrix::from_element(2, 3, 0.2);
    let xs = DMatrix::from_element(3, 4, 0.5);
    let _ = rnn(&w, &u, &xs, 4);
    let _ = rnn_grad(&w, &u, &xs, 4);
}

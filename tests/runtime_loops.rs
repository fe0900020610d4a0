//! `for` loops whose trip count is known only at run time (SPEC §9): not unrolled,
//! differentiated by a reverse sweep over the saved iterations. Each gradient is
//! checked against central differences of the original function.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

use matgrad::grad;
use nalgebra::{DMatrix, DVector};

/// A tanh RNN over the columns of `xs`, the loss summed over the steps.
#[grad(wrt = (a, b))]
fn rnn(a: &DMatrix<f64>, b: &DMatrix<f64>, xs: &DMatrix<f64>, h0: &DVector<f64>) -> f64 {
    let mut h = h0.clone();
    let mut loss = 0.0;
    for t in 0..xs.ncols() {
        h = (a * &h + b * xs.column(t)).map(f64::tanh);
        loss += h.norm_squared();
    }
    loss
}

#[test]
fn rnn_runs() {
    let a = DMatrix::from_fn(3, 3, |i, j| 0.1 * (i as f64 - j as f64) + 0.05);
    let b = DMatrix::from_fn(3, 2, |i, j| 0.2 * (i + j) as f64 - 0.1);
    let xs = DMatrix::from_fn(2, 5, |i, j| ((i * 5 + j) as f64).sin());
    let h0 = DVector::from_element(3, 0.1);
    let (v, ga, gb) = rnn_grad(&a, &b, &xs, &h0);
    assert!((v - rnn(&a, &b, &xs, &h0)).abs() < 1e-12);
    let eps = 1e-6;
    for k in 0..9 {
        let mut ap = a.clone();
        ap[k] += eps;
        let mut am = a.clone();
        am[k] -= eps;
        let fd = (rnn(&ap, &b, &xs, &h0) - rnn(&am, &b, &xs, &h0)) / (2.0 * eps);
        assert!((fd - ga[k]).abs() < 1e-7, "a[{k}]: {fd} vs {}", ga[k]);
    }
    for k in 0..6 {
        let mut bp = b.clone();
        bp[k] += eps;
        let mut bm = b.clone();
        bm[k] -= eps;
        let fd = (rnn(&a, &bp, &xs, &h0) - rnn(&a, &bm, &xs, &h0)) / (2.0 * eps);
        assert!((fd - gb[k]).abs() < 1e-7, "b[{k}]: {fd} vs {}", gb[k]);
    }
}

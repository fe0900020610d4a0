use matgrad::{differentiable, grad};
use nalgebra::{DMatrix, DVector};

#[differentiable]
fn unroll(w: &DMatrix<f64>, xs: &DMatrix<f64>) -> DVector<f64> {
    let mut h = DVector::zeros(w.nrows());
    for t in 0..xs.ncols() {
        h = (w * &h + xs.column(t)).map(|v| v.tanh());
    }
    h
}

#[grad(wrt = w)]
fn loss(w: &DMatrix<f64>, xs: &DMatrix<f64>) -> f64 {
    unroll(w, xs).norm_squared()
}

fn main() {}

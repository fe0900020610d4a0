use matgrad::{differentiable, grad};
use nalgebra::DMatrix;

#[differentiable]
fn power(x: &DMatrix<f64>, k: usize) -> DMatrix<f64> {
    if k == 0 { x.clone() } else { power(x, k - 1) * x }
}

#[grad(wrt = w)]
fn loss(w: &DMatrix<f64>) -> f64 {
    power(w, 2).sum()
}

fn main() {}

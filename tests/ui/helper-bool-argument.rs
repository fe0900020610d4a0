// A helper's `bool` parameter takes a `bool` parameter of the calling function (a
// run-time flag), not a value computed in the body.
use matgrad::{differentiable, grad};
use nalgebra::DMatrix;

#[differentiable]
fn robust_loss(r: &DMatrix<f64>, robust: bool) -> f64 {
    r.map(|v| if robust { (1.0 + v * v).ln() } else { v * v }).sum()
}

#[grad(wrt = w)]
fn loss(w: &DMatrix<f64>, x: &DMatrix<f64>) -> f64 {
    robust_loss(&(x * w), true)
}

fn main() {}

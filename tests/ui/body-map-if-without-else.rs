use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = w)]
fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    (x * w).map(|v| if v > 0.0 { v } else if v > -1.0 { 0.0 }).sum()
}

fn main() {}

use matgrad::grad;
use nalgebra::{DVector, Matrix3};

#[grad(wrt = a)]
fn loss(a: &Matrix3<f64>, x: &DVector<f64>) -> f64 {
    (a * x).norm_squared()
}

fn main() {}

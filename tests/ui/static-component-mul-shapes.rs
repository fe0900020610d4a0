use matgrad::grad;
use nalgebra::{Matrix2x3, Matrix3x2};

#[grad(wrt = a)]
fn loss(a: &Matrix2x3<f64>, b: &Matrix3x2<f64>) -> f64 {
    a.component_mul(&b).sum()
}

fn main() {}

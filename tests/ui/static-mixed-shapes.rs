use matgrad::grad;
use nalgebra::{DMatrix, Matrix3, Vector2};

#[grad(wrt = a)]
fn loss(x: &DMatrix<f64>, a: &Matrix3<f64>, v: &Vector2<f64>) -> f64 {
    (x * a * v).norm_squared()
}

fn main() {}

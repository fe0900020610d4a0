use matgrad::grad;
use nalgebra::{Matrix3, Vector2};

#[grad(wrt = a)]
fn loss(a: &Matrix3<f64>, x: &Vector2<f64>) -> f64 {
    (a * x).norm_squared()
}

fn main() {}

use matgrad::grad;
use nalgebra::{Vector2, Vector3};

#[grad(wrt = a)]
fn loss(a: &Vector3<f64>, b: &Vector2<f64>) -> f64 {
    (a - b).norm_squared()
}

fn main() {}

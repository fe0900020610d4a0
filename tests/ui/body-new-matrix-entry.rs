use matgrad::grad;
use nalgebra::{Vector2, Vector3};

#[grad(wrt = a)]
fn loss(a: &Vector3<f64>, b: f64) -> f64 {
    Vector2::new(b, a).norm_squared()
}

fn main() {}

use matgrad::grad;
use nalgebra::{Matrix3, Vector3};

#[grad(wrt = a)]
fn loss(a: &Matrix3<f64>, h0: &Vector3<f64>, steps: usize) -> f64 {
    let mut h = *h0;
    for _ in 0..steps {
        h = (a * h).map(|v| v.tanh());
    }
    h.norm_squared()
}

fn main() {}

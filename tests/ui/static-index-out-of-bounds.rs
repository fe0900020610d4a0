use matgrad::grad;
use nalgebra::Vector3;

#[grad(wrt = a)]
fn loss(a: &Vector3<f64>) -> f64 {
    a[(3, 0)] * a[(0, 0)]
}

fn main() {}

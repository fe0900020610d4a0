use matgrad::grad;
use nalgebra::Matrix3;

#[grad(wrt = a)]
fn loss(a: &Matrix3<f64>) -> f64 {
    a.view((2, 0), (2, 2)).norm_squared()
}

fn main() {}

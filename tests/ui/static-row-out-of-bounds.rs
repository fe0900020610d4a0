use matgrad::grad;
use nalgebra::Matrix2x3;

#[grad(wrt = a)]
fn loss(a: &Matrix2x3<f64>) -> f64 {
    a.row(2).norm_squared()
}

fn main() {}

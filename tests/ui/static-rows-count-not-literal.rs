use matgrad::grad;
use nalgebra::Matrix3;

#[grad(wrt = a)]
fn loss(a: &Matrix3<f64>) -> f64 {
    a.rows(0, a.nrows() - 1).norm_squared()
}

fn main() {}

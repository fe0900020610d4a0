use matgrad::grad;
use nalgebra::Matrix2x3;

#[grad(wrt = a)]
fn loss(a: &Matrix2x3<f64>) -> f64 {
    a.columns(a.ncols() - 1, 4).norm_squared()
}

fn main() {}

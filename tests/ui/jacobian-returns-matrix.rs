use matgrad::jacobian;
use nalgebra::DMatrix;

#[jacobian(wrt = x)]
fn residual(x: &DMatrix<f64>) -> DMatrix<f64> {
    x * 2.0
}

fn main() {}

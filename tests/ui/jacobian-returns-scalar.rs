use matgrad::jacobian;
use nalgebra::DMatrix;

#[jacobian(wrt = x)]
fn residual(x: &DMatrix<f64>) -> f64 {
    x.sum()
}

fn main() {}

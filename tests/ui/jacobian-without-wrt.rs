use matgrad::jacobian;
use nalgebra::DVector;

#[jacobian]
fn residual(x: &DVector<f64>) -> DVector<f64> {
    x * 2.0
}

fn main() {}

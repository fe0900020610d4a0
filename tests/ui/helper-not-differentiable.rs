use matgrad::grad;
use nalgebra::DMatrix;

fn layer(x: &DMatrix<f64>, w: &DMatrix<f64>) -> DMatrix<f64> {
    x * w
}

#[grad(wrt = w)]
fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    layer(x, w).norm_squared()
}

fn main() {}

use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = w)]
fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    (x * w).norm_squared() / (x.nrows() as f32) as f64
}

fn main() {}

use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = (w, k))]
fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>, k: usize) -> f64 {
    (x * w).column(k).norm_squared()
}

fn main() {}

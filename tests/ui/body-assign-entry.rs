use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = w)]
fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let mut z = x * w;
    z[(0, 0)] = 1.0;
    z.sum()
}

fn main() {}

use matgrad::grad;
use nalgebra::DMatrix;

const LAST: usize = 2;

#[grad(wrt = w)]
fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let z = x * w;
    z.column(LAST).norm_squared()
}

fn main() {}

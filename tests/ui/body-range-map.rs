use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = z)]
fn loss(z: &DMatrix<f64>) -> f64 {
    (0..z.nrows()).map(|i| z[(i, 0)]).sum()
}

fn main() {}

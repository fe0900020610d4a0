use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = s)]
fn loss(s: &DMatrix<f64>) -> f64 {
    (s - DMatrix::identity(s.nrows())).norm_squared()
}

fn main() {}

use matgrad::grad;
use nalgebra::{DMatrix, RowDVector};

#[grad(wrt = r)]
fn loss(r: &RowDVector<f64>) -> f64 {
    DMatrix::from_diagonal(r).norm_squared()
}

fn main() {}

use matgrad::grad;
use nalgebra::{DMatrix, RealField};

#[grad(wrt = w)]
fn loss<T: RealField + Copy>(x: &DMatrix<T>, w: &DMatrix<T>) -> T {
    (x * w).norm_squared() / (x.nrows() as f64)
}

fn main() {}

use matgrad::grad;
use nalgebra::{DMatrix, RealField};

#[grad(wrt = w)]
fn loss<T: RealField + Copy, U: RealField + Copy>(x: &DMatrix<T>, w: &DMatrix<U>) -> T {
    x.norm_squared() + w.norm_squared()
}

fn main() {}

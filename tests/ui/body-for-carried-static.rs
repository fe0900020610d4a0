use matgrad::grad;
use nalgebra::{DMatrix, Matrix2};

#[grad(wrt = w)]
fn loss(w: &DMatrix<f64>) -> f64 {
    let mut m = Matrix2::identity();
    for t in 0..w.ncols() {
        m = m * (w[(0, t)] * 0.5);
    }
    m.sum()
}

fn main() {}

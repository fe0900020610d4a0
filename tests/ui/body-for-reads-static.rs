use matgrad::grad;
use nalgebra::{DMatrix, Vector2};

#[grad(wrt = w)]
fn loss(w: &DMatrix<f64>) -> f64 {
    let v = Vector2::new(1.0, 2.0);
    let mut total = 0.0;
    for t in 0..w.ncols() {
        total += w[(0, t)] * v.sum();
    }
    total
}

fn main() {}

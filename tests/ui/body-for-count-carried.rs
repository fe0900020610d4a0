use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = w)]
fn loss(w: &DMatrix<f64>) -> f64 {
    let mut k = 0;
    let mut total = 0.0;
    for t in 0..w.ncols() {
        k += t;
        total += w[(0, t)];
    }
    total * k as f64
}

fn main() {}

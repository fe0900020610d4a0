use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = w)]
fn loss(w: &DMatrix<f64>) -> f64 {
    for t in 0..w.ncols() {
        let _ = w.column(t).sum();
    }
    w.sum()
}

fn main() {}

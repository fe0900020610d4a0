use matgrad::grad;
use nalgebra::{DMatrix, DVector};

#[grad(wrt = w)]
fn loss(w: &DMatrix<f64>, xs: &DMatrix<f64>) -> f64 {
    let mut h = DVector::zeros(w.nrows());
    for t in 0..xs.ncols() {
        h = (w * &h + xs.column(t)).normalize();
    }
    h.sum()
}

fn main() {}

use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = w)]
fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let mut s = 0.0;
    for t in 0..x.ncols() {
        s += (x.column(t).transpose() * w).sum();
    }
    s
}

fn main() {}

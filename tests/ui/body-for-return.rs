use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = w)]
fn loss(w: &DMatrix<f64>) -> f64 {
    let mut total = 0.0;
    for t in 0..w.ncols() {
        total += w[(0, t)];
        return total;
    }
    total
}

fn main() {}

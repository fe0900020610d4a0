use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = w)]
fn loss(w: &DMatrix<f64>, flag: bool) -> f64 {
    if flag {
        w.sum()
    } else {
        w.norm_squared()
    }
}

fn main() {}

use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = (w, flag))]
fn loss(w: &DMatrix<f64>, flag: bool) -> f64 {
    w.map(|v| if flag { v } else { -v }).sum()
}

fn main() {}

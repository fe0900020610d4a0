use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = w, hvp = true)]
fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    (x * w).sum()
}

fn main() {
    let x = DMatrix::<f64>::identity(2, 2);
    let _ = loss(&x, &x);
}

use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = w)]
fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    // A tuple of values binds (`let (a, b) = (x.sum(), w.sum());`); a tuple-valued
    // expression does not.
    let (rows, cols) = x.shape();
    (x * w).sum() * rows as f64 * cols as f64
}

fn main() {
    let x = DMatrix::<f64>::identity(2, 2);
    let w = DMatrix::<f64>::identity(2, 2);
    let _ = loss(&x, &w);
    let _ = loss_grad(&x, &w);
}

use matgrad::grad;
use nalgebra::DMatrix;

/// The user's own `sigmoid`: matgrad cannot differentiate it as its own.
fn sigmoid(m: &DMatrix<f64>) -> DMatrix<f64> {
    m.map(|v| 0.5 * (v * 0.5).tanh() + 0.5)
}

#[grad(wrt = w)]
fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let z = x * w;
    sigmoid(&z).sum()
}

fn main() {
    let x = DMatrix::<f64>::identity(2, 2);
    let w = DMatrix::<f64>::identity(2, 2);
    let _ = loss(&x, &w);
    let _ = loss_grad(&x, &w);
}

use matgrad::{differentiable, grad};
use nalgebra::DMatrix;

#[differentiable]
fn layer(x: &DMatrix<f64>, w: &DMatrix<f64>) -> DMatrix<f64> {
    (x * w).map(|v| v.tanh())
}

#[grad(wrt = (x, w), hessian)]
fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    layer(x, w).norm_squared()
}

fn main() {
    let x = DMatrix::<f64>::identity(2, 2);
    let _ = loss_grad(&x, &x);
}

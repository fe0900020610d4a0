use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = (a, b), hessian)]
fn loss(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (a * b).map(|v| v.tanh()).sum()
}

fn main() {
    let a = DMatrix::<f64>::identity(2, 2);
    let b = DMatrix::<f64>::identity(2, 2);
    let _ = loss(&a, &b);
    let _ = loss_grad(&a, &b);
}

use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = w)]
fn loss(x: &DMatrix<i32>, w: &DMatrix<f64>) -> f64 {
    w.sum() * f64::from(x.sum())
}

fn main() {
    let x = DMatrix::<i32>::identity(2, 2);
    let w = DMatrix::<f64>::identity(2, 2);
    let _ = loss(&x, &w);
    let _ = loss_grad(&x, &w);
}

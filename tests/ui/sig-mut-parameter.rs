use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = w)]
fn loss(x: &DMatrix<f64>, mut w: DMatrix<f64>) -> f64 {
    w *= 2.0;
    (x * w).sum()
}

fn main() {
    let x = DMatrix::<f64>::identity(2, 2);
    let w = DMatrix::<f64>::identity(2, 2);
    let _ = loss(&x, w.clone());
    let _ = loss_grad(&x, w);
}

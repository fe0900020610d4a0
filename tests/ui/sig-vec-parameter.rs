use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = w)]
fn loss(x: &DMatrix<f64>, w: Vec<f64>) -> f64 {
    x.sum() * w[0]
}

fn main() {
    let x = DMatrix::<f64>::identity(2, 2);
    let _ = loss(&x, vec![1.0]);
    let _ = loss_grad(&x, vec![1.0]);
}

use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = w)]
fn loss(x: &DMatrix<f32>, w: &DMatrix<f64>) -> f64 {
    x.sum() as f64 * w.sum()
}

fn main() {
    let x = DMatrix::<f32>::identity(2, 2);
    let w = DMatrix::<f64>::identity(2, 2);
    let _ = loss(&x, &w);
    let _ = loss_grad(&x, &w);
}

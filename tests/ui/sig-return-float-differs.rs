use matgrad::grad;
use nalgebra::DMatrix;

// Every parameter is `f32`, the result `f64`: one mistake, reported at the result.
#[grad(wrt = w)]
fn loss(x: &DMatrix<f32>, w: &DMatrix<f32>) -> f64 {
    f64::from((x * w).sum())
}

fn main() {
    let x = DMatrix::<f32>::identity(2, 2);
    let w = DMatrix::<f32>::identity(2, 2);
    let _ = loss(&x, &w);
    let _ = loss_grad(&x, &w);
}

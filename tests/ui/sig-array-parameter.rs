use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = w)]
fn loss(x: &DMatrix<f64>, w: [f64; 3]) -> f64 {
    x.sum() * w[0]
}

fn main() {
    let x = DMatrix::<f64>::identity(2, 2);
    let _ = loss(&x, [1.0; 3]);
    let _ = loss_grad(&x, [1.0; 3]);
}

use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = w)]
fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let mut z = x * w;
    z.normalize().sum()
}

fn main() {
    let x = DMatrix::<f64>::identity(2, 2);
    let w = DMatrix::<f64>::identity(2, 2);
    let _ = loss(&x, &w);
    let _ = loss_grad(&x, &w);
}

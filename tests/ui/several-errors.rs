use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = w)]
fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let mut z = x * w;
    z[(0, 0)] = 0.0;
    let s = if z.sum() > 0.0 { 1.0 } else { -1.0 };
    w.normalize().sum() * s
}

fn main() {
    let x = DMatrix::<f64>::identity(2, 2);
    let w = DMatrix::<f64>::identity(2, 2);
    let _ = loss(&x, &w);
    let _ = loss_grad(&x, &w);
}

use matgrad::grad;
use nalgebra::DMatrix;

// Two mistakes, two errors: the `if`, and `normalize` (unknown whatever `a` is).
#[grad(wrt = w)]
fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let a = if x.sum() > 0.0 { x * w } else { w * x };
    a.normalize().sum()
}

fn main() {
    let x = DMatrix::<f64>::identity(2, 2);
    let w = DMatrix::<f64>::identity(2, 2);
    let _ = loss(&x, &w);
    let _ = loss_grad(&x, &w);
}

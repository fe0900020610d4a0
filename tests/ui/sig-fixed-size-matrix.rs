use matgrad::grad;
use nalgebra::DMatrix;
use nalgebra::Matrix3;

#[grad(wrt = w)]
fn loss(x: &DMatrix<f64>, w: &Matrix3<f64>) -> f64 {
    x.sum() * w.sum()
}

fn main() {
    let x = DMatrix::<f64>::identity(2, 2);
    let w = Matrix3::<f64>::identity();
    let _ = loss(&x, &w);
    let _ = loss_grad(&x, &w);
}

use matgrad::grad;
use nalgebra::DMatrix;
use nalgebra::RealField;

#[grad(wrt = w)]
fn loss<T: RealField + Copy>(x: &DMatrix<T>, w: &DMatrix<T>) -> T {
    (x * w).sum()
}

fn main() {
    let x = DMatrix::<f64>::identity(2, 2);
    let w = DMatrix::<f64>::identity(2, 2);
    let _ = loss(&x, &w);
    let _ = loss_grad(&x, &w);
}

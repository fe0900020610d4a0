use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = w)]
fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let z = x * w;
    // `z` is a value of the body: its shape is not a count the companions can compute.
    z[(z.nrows() - 1, 0)]
}

fn main() {
    let x = DMatrix::<f64>::identity(2, 2);
    let w = DMatrix::<f64>::identity(2, 2);
    let _ = loss(&x, &w);
    let _ = loss_grad(&x, &w);
}

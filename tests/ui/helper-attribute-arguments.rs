use matgrad::differentiable;
use nalgebra::DMatrix;

#[differentiable(inline)]
fn double(x: &DMatrix<f64>) -> DMatrix<f64> {
    x * 2.0
}

fn main() {
    let _ = double(&DMatrix::zeros(1, 1));
}

use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = w)]
fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let z = x * w;
    // `z` is a value of the body, not a parameter: write `w.ncols() - 1`.
    z.column(z.ncols() - 1).norm_squared()
}

fn main() {}

use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = w)]
fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let z = x * w;
    // `z` is a value of the body, not a parameter: write `x.nrows() - 1`, `w.ncols()`.
    z.row(z.nrows() - 1).norm_squared() + z.columns(0, z.ncols()).sum()
}

fn main() {}

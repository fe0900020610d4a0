use matgrad::{custom_adjoint, grad};
use nalgebra::{DMatrix, DVector};

#[custom_adjoint(cube_adjoint)]
fn cube(x: f64) -> f64 {
    x * x * x
}

fn cube_adjoint(x: f64, g: f64) -> f64 {
    3.0 * x * x * g
}

#[grad(wrt = w, hvp)]
fn loss(w: &DVector<f64>, xs: &DMatrix<f64>) -> f64 {
    let mut h = w.clone();
    for t in 0..xs.ncols() {
        h = h.map(cube) + xs.column(t);
    }
    h.sum()
}

fn main() {}

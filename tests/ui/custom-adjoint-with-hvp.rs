use matgrad::{custom_adjoint, grad};
use nalgebra::DMatrix;

#[custom_adjoint(cube_adjoint)]
fn cube(x: f64) -> f64 {
    x * x * x
}

fn cube_adjoint(x: f64, g: f64) -> f64 {
    3.0 * x * x * g
}

#[grad(wrt = w, hvp)]
fn loss(w: &DMatrix<f64>) -> f64 {
    w.map(cube).sum()
}

fn main() {}

use matgrad::{custom_adjoint, grad};
use nalgebra::DMatrix;

#[custom_adjoint(double_adjoint)]
fn double(a: DMatrix<f64>) -> DMatrix<f64> {
    a * 2.0
}

fn double_adjoint(_a: DMatrix<f64>, g: &DMatrix<f64>) -> DMatrix<f64> {
    g * 2.0
}

#[grad(wrt = w)]
fn loss(w: &DMatrix<f64>) -> f64 {
    double(w.clone()).sum()
}

fn main() {}

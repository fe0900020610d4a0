use matgrad::{custom_adjoint, grad};
use nalgebra::Matrix2;

#[custom_adjoint(double_adjoint)]
fn double(a: &Matrix2<f64>) -> Matrix2<f64> {
    a * 2.0
}

fn double_adjoint(_a: &Matrix2<f64>, g: &Matrix2<f64>) -> Matrix2<f64> {
    g * 2.0
}

#[grad(wrt = w)]
fn loss(w: &Matrix2<f64>) -> f64 {
    double(w).sum()
}

fn main() {}

use matgrad::{custom_adjoint, grad};
use nalgebra::DMatrix;

#[custom_adjoint(solve_adjoint)]
fn solve(a: &DMatrix<f64>) -> DMatrix<f64> {
    a.clone()
}

fn solve_adjoint(_a: &DMatrix<f64>, g: &DMatrix<f64>) -> DMatrix<f64> {
    g.clone()
}

#[grad(wrt = a)]
fn loss(a: &DMatrix<f64>) -> f64 {
    solve(a).sum()
}

fn main() {}

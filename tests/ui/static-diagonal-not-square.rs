use matgrad::grad;
use nalgebra::SMatrix;

#[grad(wrt = a)]
fn loss(a: &SMatrix<f64, 2, 3>) -> f64 {
    a.diagonal().sum()
}

fn main() {}

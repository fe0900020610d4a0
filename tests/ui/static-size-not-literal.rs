use matgrad::grad;
use nalgebra::SMatrix;

const N: usize = 3;

#[grad(wrt = a)]
fn loss(a: &SMatrix<f64, N, N>) -> f64 {
    a.norm_squared()
}

fn main() {}

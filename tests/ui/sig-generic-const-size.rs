use matgrad::grad;
use nalgebra::SMatrix;

#[grad(wrt = w)]
fn loss<const N: usize>(w: &SMatrix<f64, N, N>) -> f64 {
    w.norm_squared()
}

fn main() {}

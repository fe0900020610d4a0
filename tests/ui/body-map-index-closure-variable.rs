use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = z)]
fn loss(z: &DMatrix<f64>, k: &DMatrix<f64>) -> f64 {
    // An entry of the body captured by the closure is fine; one indexed by the
    // closure's own variable is not.
    let a = z.map(|v| v * k[(0, 0)]).sum();
    a + z.map(|v| k[(0, v as usize)]).sum()
}

fn main() {}

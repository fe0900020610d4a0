use matgrad::grad;
use nalgebra::DMatrix;

// nalgebra's `map` passes each entry by value (`FnMut(T) -> T2`): `*v` is rustc's
// one error, and matgrad adds none.
#[grad(wrt = w)]
fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let z = x * w;
    z.map(|v| *v * 2.0).sum()
}

fn main() {
    let x = DMatrix::<f64>::identity(2, 2);
    let w = DMatrix::<f64>::identity(2, 2);
    let _ = loss(&x, &w);
    let _ = loss_grad(&x, &w);
}

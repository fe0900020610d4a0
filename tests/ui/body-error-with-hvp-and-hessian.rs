// A rejected function with `hvp` and `hessian` still gets their signatures (with
// unreachable bodies): the calls below add nothing to the one error in the body.
use matgrad::grad;
use nalgebra::{DMatrix, DVector};

#[grad(wrt = w, hvp, hessian)]
fn loss(x: &DMatrix<f64>, w: &DVector<f64>) -> f64 {
    (x * w).frobnicate()
}

fn main() {
    let x = DMatrix::<f64>::identity(2, 2);
    let w = DVector::<f64>::zeros(2);
    let _: (f64, DVector<f64>, DVector<f64>) = loss_hvp(&x, &w, &w);
    let mut ws = matgrad::Workspace::new();
    let (mut g, mut h) = (DVector::zeros(0), DVector::zeros(0));
    let _: f64 = loss_hvp_into(&x, &w, &w, &mut g, &mut h, &mut ws);
    let _: (f64, DVector<f64>, DMatrix<f64>) = loss_hessian(&x, &w);
}

use matgrad::grad;
use nalgebra::DMatrix;

// Stand-ins found only when `#[grad]` emits no companions: then the typed calls in
// `main` fail. (Since rust-lang/rust#149484, rustc reports no unresolved name in a
// module with a `compile_error!`, so a missing companion would otherwise go unseen.)
mod absent {
    pub fn loss_grad() {}
    pub fn loss_grad_into() {}
}
#[allow(unused_imports)]
use absent::*;

#[grad(wrt = w)]
fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let z = x * w;
    z.normalize().sum()
}

fn main() {
    let x = DMatrix::<f64>::identity(2, 2);
    let w = DMatrix::<f64>::identity(2, 2);
    let _: f64 = loss(&x, &w);
    let _: (f64, DMatrix<f64>) = loss_grad(&x, &w);
    let mut dw = DMatrix::<f64>::zeros(2, 2);
    let mut ws = matgrad::Workspace::<f64>::new();
    let _: f64 = loss_grad_into(&x, &w, &mut dw, &mut ws);
}

use matgrad::grad;
use nalgebra::DMatrix;

// Stand-ins found only when `#[grad]` emits no companions (see fallback-companions.rs):
// the names in `#[grad(w)]` are read despite the slip, so the companions are declared.
mod absent {
    pub fn loss_grad() {}
    pub fn loss_grad_into() {}
}
#[allow(unused_imports)]
use absent::*;

#[grad(w)]
fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    (x * w).sum()
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

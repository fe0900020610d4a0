use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = w)]
fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let z = x * w;
    z.normalize().sum()
}

/// A caller of the companions: it sees their real signatures, so the body's one
/// mistake is the only error.
fn train(x: &DMatrix<f64>, w: &mut DMatrix<f64>) -> f64 {
    let (value, dw) = loss_grad(x, w);
    *w -= dw.scale(0.1);
    let mut grad = DMatrix::zeros(2, 2);
    let mut ws = matgrad::Workspace::new();
    value + loss_grad_into(x, w, &mut grad, &mut ws) + grad.norm()
}

fn main() {
    let x = DMatrix::<f64>::identity(2, 2);
    let mut w = DMatrix::<f64>::identity(2, 2);
    let _ = loss(&x, &w);
    let _ = train(&x, &mut w);
}

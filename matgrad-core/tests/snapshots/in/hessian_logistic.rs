// The dense Hessian of ridge logistic regression, built from its structure:
// Xᵀ diag(σ(x w) ⊙ (1 − σ(x w))) X + 2λI, two kernels after the gradient's passes.
#[grad(wrt = w, hessian)]
fn ridge_logistic(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>, lambda: f64) -> f64 {
    softplus(&(x * w)).sum() - y.dot(&(x * w)) + lambda * w.norm_squared()
}

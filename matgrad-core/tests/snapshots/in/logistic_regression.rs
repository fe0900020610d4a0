#[grad(wrt = (w, b))]
fn loss(x: &DMatrix<f64>, s: &DVector<f64>, w: &DVector<f64>, b: f64, lambda: f64) -> f64 {
    let margin = (x * w).add_scalar(b).component_mul(s);
    softplus(&(-margin)).sum() + lambda * w.norm_squared()
}

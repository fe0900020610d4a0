#[grad(wrt = p)]
fn log_likelihood(p: &DMatrix<f64>, s: &DMatrix<f64>) -> f64 {
    ln_det(p) - (s * p).trace()
}

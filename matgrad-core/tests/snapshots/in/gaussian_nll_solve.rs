/// The Gaussian negative log-likelihood: under `reassociate` the inverse, used only in
/// the product, becomes an LU factorisation and a solve.
#[grad(wrt = (s, v), reassociate)]
fn gaussian_nll(s: &DMatrix<f64>, v: &DVector<f64>) -> f64 {
    ln_det(s) + (v.transpose() * s.clone().try_inverse().unwrap() * v)[(0, 0)]
}

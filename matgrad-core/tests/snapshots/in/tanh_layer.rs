#[grad(wrt = w)]
pub fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    let z = x * w;
    let a = z.map(|v| v.tanh());
    (a - y).norm_squared()
}

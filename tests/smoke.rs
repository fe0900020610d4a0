// The nalgebra matgrad is built with: the dependency `nalgebra` (0.35, the default)
// or, under `--no-default-features --features nalgebra_v0_34`, the renamed 0.34.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

use matgrad::grad;
use nalgebra::DMatrix;

#[grad(wrt = w)]
pub fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    let z = x * w;
    let a = z.map(|v| v.tanh());
    (a - y).norm_squared()
}

#[test]
fn smoke() {
    let x = DMatrix::from_fn(4, 3, |i, j| (i as f64 - j as f64) / 4.0);
    let w = DMatrix::from_fn(3, 2, |i, j| 0.1 * (i + j) as f64);
    let y = DMatrix::from_element(4, 2, 0.5);
    let (value, dw) = loss_grad(&x, &w, &y);
    assert_eq!(value, loss(&x, &w, &y));
    let a = (&x * &w).map(|v| v.tanh());
    let expected = x.transpose() * (2.0 * (&a - &y)).component_mul(&a.map(|v| 1.0 - v * v));
    assert!((dw - expected).norm() < 1e-12);
}

use matgrad::jacobian;
use nalgebra::DVector;

/// The exponential fit of issue 18: three parameters, m residuals. The two sweeps
/// do not compare for all sizes (3 tangent sweeps of O(m) against m reverse sweeps
/// of O(m) when `p` has 3 entries, the converse when it has more than m), but the
/// structured form is no dearer than either: each entry `p[k]` read as a scalar
/// gives column k of `J`, its coefficient (`exp(−b t)`, …) written once.
#[jacobian(wrt = p)]
pub fn exp_fit(p: &DVector<f64>, t: &DVector<f64>, y: &DVector<f64>) -> DVector<f64> {
    let (a, b, c) = (p[0], p[1], p[2]);
    t.map(|v| a * (-b * v).exp() + c) - y
}

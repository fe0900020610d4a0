use matgrad::jacobian;
use nalgebra::{Matrix2, Matrix3, SMatrix, Vector3, Vector6};

/// Forward mode, decided at expansion: one variable entry, six residuals.
#[jacobian(wrt = theta)]
pub fn rotate(theta: f64, p: &SMatrix<f64, 2, 3>) -> Vector6<f64> {
    let (c, s) = (theta.cos(), theta.sin());
    let q = Matrix2::new(c, -s, s, c) * p;
    Vector6::new(q[(0, 0)], q[(1, 0)], q[(0, 1)], q[(1, 1)], q[(0, 2)], q[(1, 2)])
}

/// Reverse mode, decided at expansion: twelve variable entries, three residuals.
#[jacobian(wrt = (r, t))]
pub fn transform(r: &Matrix3<f64>, t: &Vector3<f64>, p: &Vector3<f64>) -> Vector3<f64> {
    r * p + t
}

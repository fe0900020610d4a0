use matgrad::grad;
use nalgebra::{Matrix3, Vector3};

/// Static sizes: a pose-fitting residual ‖R p + t − q‖² and xᵀAx, on stack values.
#[grad(wrt = (r, t))]
pub fn pose(r: &Matrix3<f64>, t: &Vector3<f64>, p: &Vector3<f64>, q: &Vector3<f64>) -> f64 {
    let e = r * p + t - q;
    e.norm_squared()
}

#[grad(wrt = (x, a))]
pub fn quadratic(x: &Vector3<f64>, a: &Matrix3<f64>) -> f64 {
    (x.transpose() * a * x)[(0, 0)]
}

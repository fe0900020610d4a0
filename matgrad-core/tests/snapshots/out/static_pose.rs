/// Static sizes: a pose-fitting residual ‖R p + t − q‖² and xᵀAx, on stack values.
pub fn pose(
    r: &Matrix3<f64>,
    t: &Vector3<f64>,
    p: &Vector3<f64>,
    q: &Vector3<f64>,
) -> f64 {
    let e = r * p + t - q;
    e.norm_squared()
}
/// Value and gradient of [`pose`] with respect to `r`, `t`, derived by `#[grad]`. Every matrix has a static size: the code works on stack values with nalgebra's static kernels and allocates nothing.
///
/// # Derived gradients
///
/// - `∂f/∂r = 2 e pᵀ`
/// - `∂f/∂t = 2 e`
///
/// where
///
/// - `e = r p + t − q`
///
/// Each gradient has the shape of its variable: entry (i, j) is ∂f/∂X_ij.
///
/// In LaTeX:
///
/// ```text
/// \frac{\partial f}{\partial r} = 2 e p^\top
/// \frac{\partial f}{\partial t} = 2 e
/// ```
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unused_parens,
    unused_variables,
    unused_braces,
    non_snake_case
)]
pub fn pose_grad(
    r: &Matrix3<f64>,
    t: &Vector3<f64>,
    p: &Vector3<f64>,
    q: &Vector3<f64>,
) -> (f64, Matrix3<f64>, Vector3<f64>) {
    let __mg_v0 = *r;
    let __mg_v1 = *t;
    let __mg_v2 = *p;
    let __mg_v3 = *q;
    let __mg_v4 = __mg_v0 * __mg_v2;
    let __mg_v5 = __mg_v4 + __mg_v1;
    let __mg_v6 = __mg_v5 - __mg_v3;
    let __mg_v7 = __mg_v6.norm_squared();
    let __mg_g7: f64 = 1f64;
    let __mg_g6 = (__mg_v6) * (2f64 * __mg_g7);
    let __mg_g5 = __mg_g6;
    let __mg_g4 = __mg_g5;
    let __mg_g1 = __mg_g5;
    let __mg_g0 = __mg_g4 * __mg_v2.transpose();
    (__mg_v7, __mg_g0, __mg_g1)
}
/// [`pose_grad`] writing the gradients into `grad_*`. Returns the value of [`pose`]. Static sizes need no buffers: `ws` is not used; it is there so that the signature is the same as for dynamic sizes.
///
/// # Derived gradients
///
/// - `∂f/∂r = 2 e pᵀ`
/// - `∂f/∂t = 2 e`
///
/// where
///
/// - `e = r p + t − q`
///
/// Each gradient has the shape of its variable: entry (i, j) is ∂f/∂X_ij.
///
/// In LaTeX:
///
/// ```text
/// \frac{\partial f}{\partial r} = 2 e p^\top
/// \frac{\partial f}{\partial t} = 2 e
/// ```
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unused_parens,
    unused_variables,
    non_snake_case
)]
pub fn pose_grad_into(
    r: &Matrix3<f64>,
    t: &Vector3<f64>,
    p: &Vector3<f64>,
    q: &Vector3<f64>,
    grad_r: &mut Matrix3<f64>,
    grad_t: &mut Vector3<f64>,
    ws: &mut ::matgrad::Workspace<f64>,
) -> f64 {
    let (__mg_value, __mg_r0, __mg_r1) = pose_grad(r, t, p, q);
    *grad_r = __mg_r0;
    *grad_t = __mg_r1;
    __mg_value
}
pub fn quadratic(x: &Vector3<f64>, a: &Matrix3<f64>) -> f64 {
    (x.transpose() * a * x)[(0, 0)]
}
/// Value and gradient of [`quadratic`] with respect to `x`, `a`, derived by `#[grad]`. Every matrix has a static size: the code works on stack values with nalgebra's static kernels and allocates nothing.
///
/// # Derived gradients
///
/// - `∂f/∂x = (a + aᵀ) x`
/// - `∂f/∂a = x xᵀ`
///
/// Each gradient has the shape of its variable: entry (i, j) is ∂f/∂X_ij.
///
/// In LaTeX:
///
/// ```text
/// \frac{\partial f}{\partial x} = \left(a + a^\top\right) x
/// \frac{\partial f}{\partial a} = x x^\top
/// ```
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unused_parens,
    unused_variables,
    unused_braces,
    non_snake_case
)]
pub fn quadratic_grad(
    x: &Vector3<f64>,
    a: &Matrix3<f64>,
) -> (f64, Vector3<f64>, Matrix3<f64>) {
    let __mg_v0 = *x;
    let __mg_v1 = *a;
    let __mg_v2 = __mg_v0.transpose();
    let __mg_v3 = __mg_v2 * __mg_v1;
    let __mg_v4 = __mg_v3 * __mg_v0;
    let __mg_v5 = __mg_v4[(0usize, 0usize)];
    let __mg_g5: f64 = 1f64;
    let __mg_g4 = {
        let mut __mg_e = ::matgrad::__private::SMatrix::<f64, 1usize, 1usize>::zeros();
        __mg_e[(0usize, 0usize)] = __mg_g5;
        __mg_e
    };
    let __mg_g3 = __mg_v0.transpose() * __mg_g4[(0, 0)];
    let __mg_g2 = (__mg_v1 * __mg_g3.transpose()).transpose();
    let __mg_g1 = __mg_v2.tr_mul(&__mg_g3);
    let __mg_g0 = (__mg_v3.transpose() * __mg_g4[(0, 0)]) + (__mg_g2.transpose());
    (__mg_v5, __mg_g0, __mg_g1)
}
/// [`quadratic_grad`] writing the gradients into `grad_*`. Returns the value of [`quadratic`]. Static sizes need no buffers: `ws` is not used; it is there so that the signature is the same as for dynamic sizes.
///
/// # Derived gradients
///
/// - `∂f/∂x = (a + aᵀ) x`
/// - `∂f/∂a = x xᵀ`
///
/// Each gradient has the shape of its variable: entry (i, j) is ∂f/∂X_ij.
///
/// In LaTeX:
///
/// ```text
/// \frac{\partial f}{\partial x} = \left(a + a^\top\right) x
/// \frac{\partial f}{\partial a} = x x^\top
/// ```
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unused_parens,
    unused_variables,
    non_snake_case
)]
pub fn quadratic_grad_into(
    x: &Vector3<f64>,
    a: &Matrix3<f64>,
    grad_x: &mut Vector3<f64>,
    grad_a: &mut Matrix3<f64>,
    ws: &mut ::matgrad::Workspace<f64>,
) -> f64 {
    let (__mg_value, __mg_r0, __mg_r1) = quadratic_grad(x, a);
    *grad_x = __mg_r0;
    *grad_a = __mg_r1;
    __mg_value
}

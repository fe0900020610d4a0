/// Forward mode, decided at expansion: one variable entry, six residuals.
pub fn rotate(theta: f64, p: &SMatrix<f64, 2, 3>) -> Vector6<f64> {
    let (c, s) = (theta.cos(), theta.sin());
    let q = Matrix2::new(c, -s, s, c) * p;
    Vector6::new(q[(0, 0)], q[(1, 0)], q[(0, 1)], q[(1, 1)], q[(0, 2)], q[(1, 2)])
}
/// The value of [`rotate`] and its Jacobian with respect to `theta`, derived by `#[jacobian]`: `J[(i, k)] = ∂r_i / ∂vec(x)_k`, one row per residual, the variable's entries in column-major order.
///
/// # Jacobian of `rotate` with respect to `theta`: forward mode
///
/// Forward mode, one tangent sweep per entry of the variables (column k of each Jacobian is the residuals' tangent along the unit direction e_k), chosen by the cost model over reverse mode, one reverse sweep per residual (row i of each Jacobian is the gradient of ⟨rotate, s_⟩ at the seed s_ = e_i), as never dearer for any sizes: forward `68`, reverse `259` multiply-adds (the values once, then the sweeps; `x.r`, `x.c` the rows and columns of `x`).
///
/// Forward: the tangent of `rotate` along the direction of each variable:
///
/// - `J_theta v_theta = new6x1((new2x2(−sin(theta) v_theta, −cos(theta) v_theta, cos(theta) v_theta, −sin(theta) v_theta) p)₀₀, (new2x2(−sin(theta) v_theta, −cos(theta) v_theta, cos(theta) v_theta, −sin(theta) v_theta) p)₁₀, (new2x2(−sin(theta) v_theta, −cos(theta) v_theta, cos(theta) v_theta, −sin(theta) v_theta) p)₀₁, (new2x2(−sin(theta) v_theta, −cos(theta) v_theta, cos(theta) v_theta, −sin(theta) v_theta) p)₁₁, (new2x2(−sin(theta) v_theta, −cos(theta) v_theta, cos(theta) v_theta, −sin(theta) v_theta) p)₀₂, (new2x2(−sin(theta) v_theta, −cos(theta) v_theta, cos(theta) v_theta, −sin(theta) v_theta) p)₁₂)`
///
/// where
///
/// - `c = cos(theta)`
/// - `s = sin(theta)`
/// - `q = new2x2(c, −s, s, c) p`
///
/// Entry `(i, k)` of the Jacobian of `x` is the derivative of entry i of `rotate` with respect to entry k of `x`, in column-major order.
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unused_mut,
    unused_parens,
    unused_variables,
    non_snake_case
)]
pub fn rotate_jacobian(
    theta: f64,
    p: &SMatrix<f64, 2, 3>,
) -> (Vector6<f64>, ::matgrad::__private::SMatrix<f64, 6usize, 1usize>) {
    let mut r: Vector6<f64> = ::core::default::Default::default();
    let mut jacobian_theta: ::matgrad::__private::SMatrix<f64, 6usize, 1usize> = ::core::default::Default::default();
    let mut ws = ::matgrad::Workspace::new();
    rotate_jacobian_into(theta, p, &mut r, &mut jacobian_theta, &mut ws);
    (r, jacobian_theta)
}
/// [`rotate_jacobian`] writing the residuals into `r` and the Jacobians into `jacobian_*`. Static sizes need no buffers: `ws` is not used; it is there so that the signature is the same as for dynamic sizes.
///
/// # Jacobian of `rotate` with respect to `theta`: forward mode
///
/// Forward mode, one tangent sweep per entry of the variables (column k of each Jacobian is the residuals' tangent along the unit direction e_k), chosen by the cost model over reverse mode, one reverse sweep per residual (row i of each Jacobian is the gradient of ⟨rotate, s_⟩ at the seed s_ = e_i), as never dearer for any sizes: forward `68`, reverse `259` multiply-adds (the values once, then the sweeps; `x.r`, `x.c` the rows and columns of `x`).
///
/// Forward: the tangent of `rotate` along the direction of each variable:
///
/// - `J_theta v_theta = new6x1((new2x2(−sin(theta) v_theta, −cos(theta) v_theta, cos(theta) v_theta, −sin(theta) v_theta) p)₀₀, (new2x2(−sin(theta) v_theta, −cos(theta) v_theta, cos(theta) v_theta, −sin(theta) v_theta) p)₁₀, (new2x2(−sin(theta) v_theta, −cos(theta) v_theta, cos(theta) v_theta, −sin(theta) v_theta) p)₀₁, (new2x2(−sin(theta) v_theta, −cos(theta) v_theta, cos(theta) v_theta, −sin(theta) v_theta) p)₁₁, (new2x2(−sin(theta) v_theta, −cos(theta) v_theta, cos(theta) v_theta, −sin(theta) v_theta) p)₀₂, (new2x2(−sin(theta) v_theta, −cos(theta) v_theta, cos(theta) v_theta, −sin(theta) v_theta) p)₁₂)`
///
/// where
///
/// - `c = cos(theta)`
/// - `s = sin(theta)`
/// - `q = new2x2(c, −s, s, c) p`
///
/// Entry `(i, k)` of the Jacobian of `x` is the derivative of entry i of `rotate` with respect to entry k of `x`, in column-major order.
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unused_mut,
    unused_parens,
    unused_variables,
    unused_braces,
    non_snake_case,
    clippy::too_many_arguments
)]
pub fn rotate_jacobian_into(
    theta: f64,
    p: &SMatrix<f64, 2, 3>,
    r: &mut Vector6<f64>,
    jacobian_theta: &mut ::matgrad::__private::SMatrix<f64, 6usize, 1usize>,
    ws: &mut ::matgrad::Workspace<f64>,
) {
    #[allow(deprecated)]
    let _ = rotate;
    let __mg_v0 = theta;
    let __mg_v1 = *p;
    let __mg_v4 = __mg_v0.cos();
    let __mg_v5 = __mg_v0.sin();
    let __mg_v6 = -__mg_v5;
    let __mg_v7 = ::matgrad::__private::SMatrix::<
        f64,
        2usize,
        2usize,
    >::new(__mg_v4, __mg_v6, __mg_v5, __mg_v4);
    let __mg_v8 = __mg_v7 * __mg_v1;
    let __mg_v9 = __mg_v8[(0usize, 0usize)];
    let __mg_v10 = __mg_v8[(1usize, 0usize)];
    let __mg_v11 = __mg_v8[(0usize, 1usize)];
    let __mg_v12 = __mg_v8[(1usize, 1usize)];
    let __mg_v13 = __mg_v8[(0usize, 2usize)];
    let __mg_v14 = __mg_v8[(1usize, 2usize)];
    let __mg_v15 = ::matgrad::__private::SMatrix::<
        f64,
        6usize,
        1usize,
    >::new(__mg_v9, __mg_v10, __mg_v11, __mg_v12, __mg_v13, __mg_v14);
    *r = __mg_v15;
    {
        let v_theta: f64 = 1f64;
        let __mg_v3 = v_theta;
        let __mg_v17 = -(__mg_v0.sin() * __mg_v3);
        let __mg_v18 = __mg_v0.cos() * __mg_v3;
        let __mg_v19 = -__mg_v18;
        let __mg_v20 = ::matgrad::__private::SMatrix::<
            f64,
            2usize,
            2usize,
        >::new(__mg_v17, __mg_v19, __mg_v18, __mg_v17);
        let __mg_v21 = __mg_v20 * __mg_v1;
        let __mg_v22 = __mg_v21[(0usize, 0usize)];
        let __mg_v23 = __mg_v21[(1usize, 0usize)];
        let __mg_v24 = __mg_v21[(0usize, 1usize)];
        let __mg_v25 = __mg_v21[(1usize, 1usize)];
        let __mg_v26 = __mg_v21[(0usize, 2usize)];
        let __mg_v27 = __mg_v21[(1usize, 2usize)];
        let __mg_v28 = ::matgrad::__private::SMatrix::<
            f64,
            6usize,
            1usize,
        >::new(__mg_v22, __mg_v23, __mg_v24, __mg_v25, __mg_v26, __mg_v27);
        jacobian_theta.set_column(0, &__mg_v28);
    }
}
/// Reverse mode, decided at expansion: twelve variable entries, three residuals.
pub fn transform(r: &Matrix3<f64>, t: &Vector3<f64>, p: &Vector3<f64>) -> Vector3<f64> {
    r * p + t
}
/// The value of [`transform`] and its Jacobian with respect to `r`, `t`, derived by `#[jacobian]`: `J[(i, k)] = ∂r_i / ∂vec(x)_k`, one row per residual, the variable's entries in column-major order.
///
/// # Jacobian of `transform` with respect to `r`, `t`: reverse mode
///
/// Reverse mode, one reverse sweep per residual (row i of each Jacobian is the gradient of ⟨transform, s⟩ at the seed s = e_i), chosen by the cost model over forward mode, one tangent sweep per entry of the variables (column k of each Jacobian is the residuals' tangent along the unit direction e_k), as never dearer for any sizes: forward `129`, reverse `93` multiply-adds (the values once, then the sweeps; `x.r`, `x.c` the rows and columns of `x`).
///
/// Reverse: the gradient of `⟨transform, s⟩` with respect to each variable (shaped like it):
///
/// - `J_rᵀ s = s pᵀ`
/// - `J_tᵀ s = s`
///
/// Entry `(i, k)` of the Jacobian of `x` is the derivative of entry i of `transform` with respect to entry k of `x`, in column-major order.
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unused_mut,
    unused_parens,
    unused_variables,
    non_snake_case
)]
pub fn transform_jacobian(
    r: &Matrix3<f64>,
    t: &Vector3<f64>,
    p: &Vector3<f64>,
) -> (
    Vector3<f64>,
    ::matgrad::__private::SMatrix<f64, 3usize, 9usize>,
    ::matgrad::__private::SMatrix<f64, 3usize, 3usize>,
) {
    let mut r: Vector3<f64> = ::core::default::Default::default();
    let mut jacobian_r: ::matgrad::__private::SMatrix<f64, 3usize, 9usize> = ::core::default::Default::default();
    let mut jacobian_t: ::matgrad::__private::SMatrix<f64, 3usize, 3usize> = ::core::default::Default::default();
    let mut ws = ::matgrad::Workspace::new();
    transform_jacobian_into(r, t, p, &mut r, &mut jacobian_r, &mut jacobian_t, &mut ws);
    (r, jacobian_r, jacobian_t)
}
/// [`transform_jacobian`] writing the residuals into `r` and the Jacobians into `jacobian_*`. Static sizes need no buffers: `ws` is not used; it is there so that the signature is the same as for dynamic sizes.
///
/// # Jacobian of `transform` with respect to `r`, `t`: reverse mode
///
/// Reverse mode, one reverse sweep per residual (row i of each Jacobian is the gradient of ⟨transform, s⟩ at the seed s = e_i), chosen by the cost model over forward mode, one tangent sweep per entry of the variables (column k of each Jacobian is the residuals' tangent along the unit direction e_k), as never dearer for any sizes: forward `129`, reverse `93` multiply-adds (the values once, then the sweeps; `x.r`, `x.c` the rows and columns of `x`).
///
/// Reverse: the gradient of `⟨transform, s⟩` with respect to each variable (shaped like it):
///
/// - `J_rᵀ s = s pᵀ`
/// - `J_tᵀ s = s`
///
/// Entry `(i, k)` of the Jacobian of `x` is the derivative of entry i of `transform` with respect to entry k of `x`, in column-major order.
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unused_mut,
    unused_parens,
    unused_variables,
    unused_braces,
    non_snake_case,
    clippy::too_many_arguments
)]
pub fn transform_jacobian_into(
    r: &Matrix3<f64>,
    t: &Vector3<f64>,
    p: &Vector3<f64>,
    r: &mut Vector3<f64>,
    jacobian_r: &mut ::matgrad::__private::SMatrix<f64, 3usize, 9usize>,
    jacobian_t: &mut ::matgrad::__private::SMatrix<f64, 3usize, 3usize>,
    ws: &mut ::matgrad::Workspace<f64>,
) {
    #[allow(deprecated)]
    let _ = transform;
    let __mg_v0 = *r;
    let __mg_v1 = *t;
    let __mg_v2 = *p;
    let __mg_v6 = __mg_v0 * __mg_v2;
    let __mg_v7 = __mg_v6 + __mg_v1;
    *r = __mg_v7;
    for __mg_i in 0..3usize {
        let mut __mg_seed = <Vector3<f64>>::zeros();
        __mg_seed[__mg_i] = 1f64;
        let s = &__mg_seed;
        let __mg_v3 = *s;
        let __mg_g8: f64 = 1f64;
        let __mg_g7 = (__mg_v3) * __mg_g8;
        let __mg_g6 = __mg_g7;
        let __mg_g1 = __mg_g7;
        let __mg_g0 = __mg_g6 * __mg_v2.transpose();
        for (__mg_k, __mg_x) in __mg_g0.iter().enumerate() {
            jacobian_r[(__mg_i, __mg_k)] = *__mg_x;
        }
        for (__mg_k, __mg_x) in __mg_g1.iter().enumerate() {
            jacobian_t[(__mg_i, __mg_k)] = *__mg_x;
        }
    }
}

fn kron_ls(
    a: &SMatrix<f64, 3, 2>,
    x: &SMatrix<f64, 2, 2>,
    b: &SMatrix<f64, 2, 3>,
    c: &SMatrix<f64, 3, 3>,
) -> f64 {
    (a * x * b - c).norm_squared()
}
/// Value and gradient of [`kron_ls`] with respect to `x`, derived by `#[grad]`. Every matrix has a static size: the code works on stack values with nalgebra's static kernels and allocates nothing.
///
/// # Derived gradients
///
/// - `∂f/∂x = 2 aᵀ (a x b − c) bᵀ`
///
/// Each gradient has the shape of its variable: entry (i, j) is ∂f/∂X_ij.
///
/// In LaTeX:
///
/// ```text
/// \frac{\partial f}{\partial x} = 2 a^\top \left(a x b - c\right) b^\top
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
fn kron_ls_grad(
    a: &SMatrix<f64, 3, 2>,
    x: &SMatrix<f64, 2, 2>,
    b: &SMatrix<f64, 2, 3>,
    c: &SMatrix<f64, 3, 3>,
) -> (f64, SMatrix<f64, 2, 2>) {
    let __mg_v0 = *a;
    let __mg_v1 = *x;
    let __mg_v2 = *b;
    let __mg_v3 = *c;
    let __mg_v4 = __mg_v0 * __mg_v1;
    let __mg_v5 = __mg_v4 * __mg_v2;
    let __mg_v6 = __mg_v5 - __mg_v3;
    let __mg_v7 = __mg_v6.norm_squared();
    let __mg_g7: f64 = 1f64;
    let __mg_g6 = (__mg_v6) * (2f64 * __mg_g7);
    let __mg_g5 = __mg_g6;
    let __mg_g4 = __mg_g5 * __mg_v2.transpose();
    let __mg_g1 = __mg_v0.tr_mul(&__mg_g4);
    (__mg_v7, __mg_g1)
}
/// [`kron_ls_grad`] writing the gradients into `grad_*`. Returns the value of [`kron_ls`]. Static sizes need no buffers: `ws` is not used; it is there so that the signature is the same as for dynamic sizes.
///
/// # Derived gradients
///
/// - `∂f/∂x = 2 aᵀ (a x b − c) bᵀ`
///
/// Each gradient has the shape of its variable: entry (i, j) is ∂f/∂X_ij.
///
/// In LaTeX:
///
/// ```text
/// \frac{\partial f}{\partial x} = 2 a^\top \left(a x b - c\right) b^\top
/// ```
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unused_parens,
    unused_variables,
    non_snake_case
)]
fn kron_ls_grad_into(
    a: &SMatrix<f64, 3, 2>,
    x: &SMatrix<f64, 2, 2>,
    b: &SMatrix<f64, 2, 3>,
    c: &SMatrix<f64, 3, 3>,
    grad_x: &mut SMatrix<f64, 2, 2>,
    ws: &mut ::matgrad::Workspace<f64>,
) -> f64 {
    let (__mg_value, __mg_r0) = kron_ls_grad(a, x, b, c);
    *grad_x = __mg_r0;
    __mg_value
}
/// Value, gradient and Hessian of [`kron_ls`] with respect to `x`, derived by `#[grad]`: `H[(i, j)] = ∂²f / ∂vec(x)_i ∂vec(x)_j`, 4×4, over the 4 entries of `x` in column-major order. Built from its structure (the terms below, one product each, on the values of the forward pass; no Hessian-vector product), exact to rounding and exactly symmetric.
///
/// # Derived gradient and Hessian
///
/// - `∂f/∂x = 2 aᵀ (a x b − c) bᵀ`
/// - `∇²f = 2 (b bᵀ) ⊗ (aᵀ a)`
///
/// Cost model: this structure takes 40 multiply-adds, against about 336 for n Hessian-vector products (a.r, a.c: rows and columns of a).
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unused_parens,
    unused_variables,
    unused_mut,
    non_snake_case
)]
fn kron_ls_hessian(
    a: &SMatrix<f64, 3, 2>,
    x: &SMatrix<f64, 2, 2>,
    b: &SMatrix<f64, 2, 3>,
    c: &SMatrix<f64, 3, 3>,
) -> (f64, SMatrix<f64, 2, 2>, ::matgrad::__private::SMatrix<f64, 4usize, 4usize>) {
    #[allow(deprecated)]
    let _ = kron_ls;
    let __mg_v0 = *a;
    let __mg_v1 = *x;
    let __mg_v2 = *b;
    let __mg_v3 = *c;
    let __mg_v4 = __mg_v0 * __mg_v1;
    let __mg_v5 = __mg_v4 * __mg_v2;
    let __mg_v6 = __mg_v5 - __mg_v3;
    let __mg_v7 = __mg_v6.norm_squared();
    let __mg_g7: f64 = 1f64;
    let __mg_g6 = (__mg_v6) * (2f64 * __mg_g7);
    let __mg_g5 = __mg_g6;
    let __mg_g4 = __mg_g5 * __mg_v2.transpose();
    let __mg_g1 = __mg_v0.tr_mul(&__mg_g4);
    let mut __mg_h: ::matgrad::__private::SMatrix<f64, 4usize, 4usize> = {
        let __mg_h: ::matgrad::__private::SMatrix<f64, 4usize, 4usize> = ({
            let __mg_x = ((__mg_v0)).transpose() * ((__mg_v0));
            let __mg_y = ((__mg_v2)) * ((__mg_v2)).transpose();
            __mg_y.kronecker(&__mg_x) * 2f64
        });
        __mg_h
    };
    let __mg_n: usize = 4usize;
    for __mg_j in 0..__mg_n {
        for __mg_i in 0..__mg_j {
            let __mg_m = (__mg_h[(__mg_i, __mg_j)] + __mg_h[(__mg_j, __mg_i)])
                / (1f64 + 1f64);
            __mg_h[(__mg_i, __mg_j)] = __mg_m;
            __mg_h[(__mg_j, __mg_i)] = __mg_m;
        }
    }
    (__mg_v7, __mg_g1, __mg_h)
}

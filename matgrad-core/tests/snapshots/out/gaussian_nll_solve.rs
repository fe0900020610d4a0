/// The Gaussian negative log-likelihood: under `reassociate` the inverse, used only in
/// the product, becomes an LU factorisation and a solve.
fn gaussian_nll(s: &DMatrix<f64>, v: &DVector<f64>) -> f64 {
    ln_det(s) + (v.transpose() * s.clone().try_inverse().unwrap() * v)[(0, 0)]
}
/// Value and gradient of [`gaussian_nll`] with respect to `s`, `v`, derived by `#[grad]`. Its intermediates stay in a per-thread workspace between calls ([`gaussian_nll_grad_into`] takes yours).
///
/// # Derived gradients
///
/// - `∂f/∂s = −s⁻ᵀ v vᵀ s⁻ᵀ + s⁻ᵀ`
/// - `∂f/∂v = (s⁻¹ + s⁻ᵀ) v`
///
/// Each gradient has the shape of its variable: entry (i, j) is ∂f/∂X_ij.
///
/// In LaTeX:
///
/// ```text
/// \frac{\partial f}{\partial s} = -s^{-\top} v v^\top s^{-\top} + s^{-\top}
/// \frac{\partial f}{\partial v} = \left(s^{-1} + s^{-\top}\right) v
/// ```
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unused_parens,
    unused_variables,
    non_snake_case
)]
fn gaussian_nll_grad(
    s: &DMatrix<f64>,
    v: &DVector<f64>,
) -> (f64, DMatrix<f64>, DVector<f64>) {
    ::std::thread_local! {
        static __MATGRAD_WORKSPACE : ::core::cell::RefCell < ::matgrad::Workspace < f64
        >> = const { ::core::cell::RefCell::new(::matgrad::Workspace::new()) };
    }
    let mut grad_s: DMatrix<f64> = ::core::default::Default::default();
    let mut grad_v: DVector<f64> = ::core::default::Default::default();
    let __mg_value = ::matgrad::__private::with_workspace(
        &__MATGRAD_WORKSPACE,
        |ws| { gaussian_nll_grad_into(s, v, &mut grad_s, &mut grad_v, ws) },
    );
    (__mg_value, grad_s, grad_v)
}
/// [`gaussian_nll_grad`] writing the gradients into `grad_*` (resized when needed) and reusing the buffers of `ws`: after the first call with given shapes it allocates nothing. Returns the value of [`gaussian_nll`].
///
/// # Derived gradients
///
/// - `∂f/∂s = −s⁻ᵀ v vᵀ s⁻ᵀ + s⁻ᵀ`
/// - `∂f/∂v = (s⁻¹ + s⁻ᵀ) v`
///
/// Each gradient has the shape of its variable: entry (i, j) is ∂f/∂X_ij.
///
/// In LaTeX:
///
/// ```text
/// \frac{\partial f}{\partial s} = -s^{-\top} v v^\top s^{-\top} + s^{-\top}
/// \frac{\partial f}{\partial v} = \left(s^{-1} + s^{-\top}\right) v
/// ```
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unused_parens,
    unused_variables,
    unused_mut,
    non_snake_case,
    dead_code
)]
fn gaussian_nll_grad_into(
    s: &DMatrix<f64>,
    v: &DVector<f64>,
    grad_s: &mut DMatrix<f64>,
    grad_v: &mut DVector<f64>,
    ws: &mut ::matgrad::Workspace<f64>,
) -> f64 {
    #[allow(deprecated)]
    let _ = gaussian_nll;
    let mut __mg_aux2 = ws.take(0usize);
    let mut __mg_auxw2 = ws.take(1usize);
    let __mg_v2: f64 = ::matgrad::__private::ln_det_inverse_to(
        &mut __mg_aux2,
        ::matgrad::__private::view(s),
        &mut __mg_auxw2,
        "ln_det(s)",
    );
    let mut __mg_v3 = ws.take(2usize);
    ::matgrad::__private::transpose_to(&mut __mg_v3, ::matgrad::__private::view(v));
    let mut __mg_aux4 = ws.take(3usize);
    let mut __mg_auxw4 = ws.take(4usize);
    let mut __mg_v4 = ws.take(5usize);
    ::matgrad::__private::factor_to(
        &mut __mg_v4,
        &mut __mg_aux4,
        ::matgrad::__private::view(s),
        "s.clone().try_inverse().unwrap()",
        ::core::option::Option::None,
    );
    let mut __mg_v5 = ws.take(6usize);
    ::matgrad::__private::factor_solve_to(
        &mut __mg_v5,
        ::matgrad::__private::view(&__mg_v4),
        ::matgrad::__private::view(&__mg_aux4),
        ::matgrad::__private::view(v),
        "v.transpose() * s.clone().try_inverse().unwrap() * v",
    );
    let mut __mg_v6 = ws.take(7usize);
    ::matgrad::__private::mul_to(
        &mut __mg_v6,
        ::matgrad::__private::view(&__mg_v3),
        ::matgrad::__private::view(&__mg_v5),
        "v.transpose() * s.clone().try_inverse().unwrap() * v",
    );
    let __mg_v7: f64 = ::matgrad::__private::index(
        ::matgrad::__private::view(&__mg_v6),
        0usize,
        0usize,
        "(v.transpose() * s.clone().try_inverse().unwrap() * v)[(0, 0)]",
    );
    let __mg_v8: f64 = __mg_v2 + __mg_v7;
    let __mg_value: f64 = __mg_v8;
    let __mg_g8: f64 = 1f64;
    let __mg_g7: f64 = __mg_g8;
    let mut __mg_g6 = ws.take(8usize);
    ::matgrad::__private::index_adjoint_to(
        &mut __mg_g6,
        false,
        __mg_g7,
        0usize,
        0usize,
        ::matgrad::__private::view(&__mg_v6).nrows(),
        ::matgrad::__private::view(&__mg_v6).ncols(),
    );
    let mut __mg_g5 = ws.take(9usize);
    ::matgrad::__private::gemm_to(
        &mut __mg_g5,
        false,
        1f64,
        ::matgrad::__private::view(&__mg_v3),
        true,
        ::matgrad::__private::view(&__mg_g6),
        false,
    );
    let mut __mg_g4 = ws.take(10usize);
    let mut __mg_w11 = ws.take(11usize);
    ::matgrad::__private::factor_solve_adjoint_x_to(
        &mut __mg_g4,
        false,
        ::matgrad::__private::view(&__mg_v4),
        ::matgrad::__private::view(&__mg_aux4),
        ::matgrad::__private::view(&__mg_g5),
        ::matgrad::__private::view(&__mg_v5),
        &mut __mg_w11,
    );
    let __mg_g2: f64 = __mg_g8;
    let mut __mg_g1 = ::matgrad::__private::GradBuf::take_matrix(grad_v);
    let mut __mg_w12 = ws.take(12usize);
    ::matgrad::__private::factor_solve_adjoint_b_to(
        &mut __mg_g1,
        false,
        ::matgrad::__private::view(&__mg_v4),
        ::matgrad::__private::view(&__mg_aux4),
        ::matgrad::__private::view(&__mg_g5),
        &mut __mg_w12,
    );
    ::matgrad::__private::gemm_to(
        &mut __mg_g1,
        true,
        1f64,
        ::matgrad::__private::view(&__mg_v5),
        false,
        ::matgrad::__private::view(&__mg_g6),
        true,
    );
    let mut __mg_g0 = ::matgrad::__private::GradBuf::take_matrix(grad_s);
    ::matgrad::__private::zip_n_to(
        &mut __mg_g0,
        false,
        ::matgrad::__private::view(s).nrows(),
        ::matgrad::__private::view(s).ncols(),
        [__mg_g4.as_slice()],
        |[__mg_a0]| __mg_a0,
    );
    ::matgrad::__private::axpy_to(
        &mut __mg_g0,
        true,
        __mg_g2,
        ::matgrad::__private::view(&__mg_aux2),
        true,
    );
    ::matgrad::__private::GradBuf::put_matrix(grad_s, __mg_g0);
    ::matgrad::__private::GradBuf::put_matrix(grad_v, __mg_g1);
    ws.put(0usize, __mg_aux2);
    ws.put(1usize, __mg_auxw2);
    ws.put(2usize, __mg_v3);
    ws.put(3usize, __mg_aux4);
    ws.put(4usize, __mg_auxw4);
    ws.put(5usize, __mg_v4);
    ws.put(6usize, __mg_v5);
    ws.put(7usize, __mg_v6);
    ws.put(8usize, __mg_g6);
    ws.put(9usize, __mg_g5);
    ws.put(10usize, __mg_g4);
    ws.put(11usize, __mg_w11);
    ws.put(12usize, __mg_w12);
    __mg_value
}
const _: () = {
    #[allow(
        dead_code,
        let_underscore_drop,
        unused_results,
        unused_qualifications,
        clippy::all,
        clippy::pedantic,
        clippy::nursery,
        clippy::restriction
    )]
    fn __mg_resolve() {
        let _ = ln_det(::matgrad::__resolve::ln_det());
    }
};

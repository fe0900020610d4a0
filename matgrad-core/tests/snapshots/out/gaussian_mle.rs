fn log_likelihood(p: &DMatrix<f64>, s: &DMatrix<f64>) -> f64 {
    ln_det(p) - (s * p).trace()
}
/// Value and gradient of [`log_likelihood`] with respect to `p`, derived by `#[grad]`. Its intermediates stay in a per-thread workspace between calls ([`log_likelihood_grad_into`] takes yours).
///
/// # Derived gradients
///
/// - `∂f/∂p = −sᵀ + p⁻ᵀ`
///
/// Each gradient has the shape of its variable: entry (i, j) is ∂f/∂X_ij.
///
/// In LaTeX:
///
/// ```text
/// \frac{\partial f}{\partial p} = -s^\top + p^{-\top}
/// ```
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unused_parens,
    unused_variables,
    non_snake_case
)]
fn log_likelihood_grad(p: &DMatrix<f64>, s: &DMatrix<f64>) -> (f64, DMatrix<f64>) {
    ::std::thread_local! {
        static __MATGRAD_WORKSPACE : ::core::cell::RefCell < ::matgrad::Workspace < f64
        >> = const { ::core::cell::RefCell::new(::matgrad::Workspace::new()) };
    }
    let mut grad_p: DMatrix<f64> = ::core::default::Default::default();
    let __mg_value = ::matgrad::__private::with_workspace(
        &__MATGRAD_WORKSPACE,
        |ws| { log_likelihood_grad_into(p, s, &mut grad_p, ws) },
    );
    (__mg_value, grad_p)
}
/// [`log_likelihood_grad`] writing the gradients into `grad_*` (resized when needed) and reusing the buffers of `ws`: after the first call with given shapes it allocates nothing. Returns the value of [`log_likelihood`].
///
/// # Derived gradients
///
/// - `∂f/∂p = −sᵀ + p⁻ᵀ`
///
/// Each gradient has the shape of its variable: entry (i, j) is ∂f/∂X_ij.
///
/// In LaTeX:
///
/// ```text
/// \frac{\partial f}{\partial p} = -s^\top + p^{-\top}
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
fn log_likelihood_grad_into(
    p: &DMatrix<f64>,
    s: &DMatrix<f64>,
    grad_p: &mut DMatrix<f64>,
    ws: &mut ::matgrad::Workspace<f64>,
) -> f64 {
    #[allow(deprecated)]
    let _ = log_likelihood;
    let mut __mg_aux2 = ws.take(0usize);
    let mut __mg_auxw2 = ws.take(1usize);
    let __mg_v2: f64 = ::matgrad::__private::ln_det_inverse_to(
        &mut __mg_aux2,
        ::matgrad::__private::view(p),
        &mut __mg_auxw2,
        "ln_det(p)",
    );
    let __mg_v3: f64 = ::matgrad::__private::trace_of_product(
        ::matgrad::__private::view(s),
        ::matgrad::__private::view(p),
        "(s * p).trace()",
    );
    let __mg_v4: f64 = __mg_v2 - __mg_v3;
    let __mg_value: f64 = __mg_v4;
    let __mg_g4: f64 = 1f64;
    let __mg_g3: f64 = -__mg_g4;
    let __mg_g2: f64 = __mg_g4;
    let mut __mg_g0 = ::matgrad::__private::GradBuf::take_matrix(grad_p);
    ::matgrad::__private::axpy_to(
        &mut __mg_g0,
        false,
        __mg_g3,
        ::matgrad::__private::view(s),
        true,
    );
    ::matgrad::__private::axpy_to(
        &mut __mg_g0,
        true,
        __mg_g2,
        ::matgrad::__private::view(&__mg_aux2),
        true,
    );
    ::matgrad::__private::GradBuf::put_matrix(grad_p, __mg_g0);
    ws.put(0usize, __mg_aux2);
    ws.put(1usize, __mg_auxw2);
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

fn loss(
    x: &DMatrix<f64>,
    s: &DVector<f64>,
    w: &DVector<f64>,
    b: f64,
    lambda: f64,
) -> f64 {
    let margin = (x * w).add_scalar(b).component_mul(s);
    softplus(&(-margin)).sum() + lambda * w.norm_squared()
}
/// Value and gradient of [`loss`] with respect to `w`, `b`, derived by `#[grad]`. Its intermediates stay in a per-thread workspace between calls ([`loss_grad_into`] takes yours).
///
/// # Derived gradients
///
/// - `∂f/∂w = 2 lambda w + xᵀ (−σ(−margin) ⊙ s)`
/// - `∂f/∂b = Σ (−σ(−margin) ⊙ s)`
///
/// where
///
/// - `margin = (x w + b) ⊙ s`
///
/// Each gradient has the shape of its variable: entry (i, j) is ∂f/∂X_ij.
///
/// In LaTeX:
///
/// ```text
/// \frac{\partial f}{\partial w} = 2 \mathit{lambda} w + x^\top \left(-\sigma\left(-\mathit{margin}\right) \odot s\right)
/// \frac{\partial f}{\partial b} = \sum \left(-\sigma\left(-\mathit{margin}\right) \odot s\right)
/// ```
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unused_parens,
    unused_variables,
    non_snake_case
)]
fn loss_grad(
    x: &DMatrix<f64>,
    s: &DVector<f64>,
    w: &DVector<f64>,
    b: f64,
    lambda: f64,
) -> (f64, DVector<f64>, f64) {
    ::std::thread_local! {
        static __MATGRAD_WORKSPACE : ::core::cell::RefCell < ::matgrad::Workspace < f64
        >> = const { ::core::cell::RefCell::new(::matgrad::Workspace::new()) };
    }
    let mut grad_w: DVector<f64> = ::core::default::Default::default();
    let mut grad_b: f64 = ::core::default::Default::default();
    let __mg_value = ::matgrad::__private::with_workspace(
        &__MATGRAD_WORKSPACE,
        |ws| { loss_grad_into(x, s, w, b, lambda, &mut grad_w, &mut grad_b, ws) },
    );
    (__mg_value, grad_w, grad_b)
}
/// [`loss_grad`] writing the gradients into `grad_*` (resized when needed) and reusing the buffers of `ws`: after the first call with given shapes it allocates nothing. Returns the value of [`loss`].
///
/// # Derived gradients
///
/// - `∂f/∂w = 2 lambda w + xᵀ (−σ(−margin) ⊙ s)`
/// - `∂f/∂b = Σ (−σ(−margin) ⊙ s)`
///
/// where
///
/// - `margin = (x w + b) ⊙ s`
///
/// Each gradient has the shape of its variable: entry (i, j) is ∂f/∂X_ij.
///
/// In LaTeX:
///
/// ```text
/// \frac{\partial f}{\partial w} = 2 \mathit{lambda} w + x^\top \left(-\sigma\left(-\mathit{margin}\right) \odot s\right)
/// \frac{\partial f}{\partial b} = \sum \left(-\sigma\left(-\mathit{margin}\right) \odot s\right)
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
fn loss_grad_into(
    x: &DMatrix<f64>,
    s: &DVector<f64>,
    w: &DVector<f64>,
    b: f64,
    lambda: f64,
    grad_w: &mut DVector<f64>,
    grad_b: &mut f64,
    ws: &mut ::matgrad::Workspace<f64>,
) -> f64 {
    #[allow(deprecated)]
    let _ = loss;
    let mut __mg_v5 = ws.take(0usize);
    ::matgrad::__private::mul_to(
        &mut __mg_v5,
        ::matgrad::__private::view(x),
        ::matgrad::__private::view(w),
        "x * w",
    );
    let mut __mg_v6 = ws.take(1usize);
    ::matgrad::__private::add_scalar_to(
        &mut __mg_v6,
        ::matgrad::__private::view(&__mg_v5),
        b,
    );
    let mut __mg_v7 = ws.take(2usize);
    ::matgrad::__private::component_mul_to(
        &mut __mg_v7,
        ::matgrad::__private::view(&__mg_v6),
        ::matgrad::__private::view(s),
        "(x * w).add_scalar(b).component_mul(s)",
    );
    let mut __mg_v8 = ws.take(3usize);
    ::matgrad::__private::neg_to(&mut __mg_v8, ::matgrad::__private::view(&__mg_v7));
    let mut __mg_v9 = ws.take(4usize);
    ::matgrad::__private::softplus_to(
        &mut __mg_v9,
        ::matgrad::__private::view(&__mg_v8),
    );
    let __mg_v10: f64 = ::matgrad::__private::view(&__mg_v9).sum();
    let __mg_v11: f64 = ::matgrad::__private::view(w).norm_squared();
    let __mg_v12: f64 = lambda * __mg_v11;
    let __mg_v13: f64 = __mg_v10 + __mg_v12;
    let __mg_value: f64 = __mg_v13;
    let __mg_g13: f64 = 1f64;
    let __mg_g12: f64 = __mg_g13;
    let __mg_g11: f64 = __mg_g12 * lambda;
    let __mg_g10: f64 = __mg_g13;
    let mut __mg_g6 = ws.take(5usize);
    ::matgrad::__private::zip_n_to(
        &mut __mg_g6,
        false,
        ::matgrad::__private::view(&__mg_v6).nrows(),
        ::matgrad::__private::view(&__mg_v6).ncols(),
        [__mg_v8.as_slice(), s.as_slice()],
        |[__mg_a0, __mg_a1]| {
            -(__mg_g10 * ::matgrad::__private::sigmoid_scalar(__mg_a0) * __mg_a1)
        },
    );
    let __mg_g3: f64 = ::matgrad::__private::view(&__mg_g6).sum();
    let mut __mg_g2 = ::matgrad::__private::GradBuf::take_matrix(grad_w);
    ::matgrad::__private::zip_n_to(
        &mut __mg_g2,
        false,
        ::matgrad::__private::view(w).nrows(),
        ::matgrad::__private::view(w).ncols(),
        [w.as_slice()],
        |[__mg_a0]| 2f64 * __mg_g11 * __mg_a0,
    );
    ::matgrad::__private::gemm_to(
        &mut __mg_g2,
        true,
        1f64,
        ::matgrad::__private::view(x),
        true,
        ::matgrad::__private::view(&__mg_g6),
        false,
    );
    ::matgrad::__private::GradBuf::put_matrix(grad_w, __mg_g2);
    *grad_b = __mg_g3;
    ws.put(0usize, __mg_v5);
    ws.put(1usize, __mg_v6);
    ws.put(2usize, __mg_v7);
    ws.put(3usize, __mg_v8);
    ws.put(4usize, __mg_v9);
    ws.put(5usize, __mg_g6);
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
        let _ = softplus(::matgrad::__resolve::softplus());
    }
};

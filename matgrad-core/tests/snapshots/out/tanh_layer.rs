pub fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    let z = x * w;
    let a = z.map(|v| v.tanh());
    (a - y).norm_squared()
}
/// Value and gradient of [`loss`] with respect to `w`, derived by `#[grad]`. Its intermediates stay in a per-thread workspace between calls ([`loss_grad_into`] takes yours).
///
/// # Derived gradients
///
/// - `∂f/∂w = xᵀ (2 (a − y) ⊙ (1 − a²))`
///
/// where
///
/// - `z = x w`
/// - `a = tanh(z)`
///
/// Each gradient has the shape of its variable: entry (i, j) is ∂f/∂X_ij.
///
/// In LaTeX:
///
/// ```text
/// \frac{\partial f}{\partial w} = x^\top \left(2 \left(a - y\right) \odot \left(1 - a^{2}\right)\right)
/// ```
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unused_parens,
    unused_variables,
    non_snake_case
)]
pub fn loss_grad(
    x: &DMatrix<f64>,
    w: &DMatrix<f64>,
    y: &DMatrix<f64>,
) -> (f64, DMatrix<f64>) {
    ::std::thread_local! {
        static __MATGRAD_WORKSPACE : ::core::cell::RefCell < ::matgrad::Workspace < f64
        >> = const { ::core::cell::RefCell::new(::matgrad::Workspace::new()) };
    }
    let mut grad_w: DMatrix<f64> = ::core::default::Default::default();
    let __mg_value = ::matgrad::__private::with_workspace(
        &__MATGRAD_WORKSPACE,
        |ws| { loss_grad_into(x, w, y, &mut grad_w, ws) },
    );
    (__mg_value, grad_w)
}
/// [`loss_grad`] writing the gradients into `grad_*` (resized when needed) and reusing the buffers of `ws`: after the first call with given shapes it allocates nothing. Returns the value of [`loss`].
///
/// # Derived gradients
///
/// - `∂f/∂w = xᵀ (2 (a − y) ⊙ (1 − a²))`
///
/// where
///
/// - `z = x w`
/// - `a = tanh(z)`
///
/// Each gradient has the shape of its variable: entry (i, j) is ∂f/∂X_ij.
///
/// In LaTeX:
///
/// ```text
/// \frac{\partial f}{\partial w} = x^\top \left(2 \left(a - y\right) \odot \left(1 - a^{2}\right)\right)
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
pub fn loss_grad_into(
    x: &DMatrix<f64>,
    w: &DMatrix<f64>,
    y: &DMatrix<f64>,
    grad_w: &mut DMatrix<f64>,
    ws: &mut ::matgrad::Workspace<f64>,
) -> f64 {
    #[allow(deprecated)]
    let _ = loss;
    let mut __mg_v3 = ws.take(0usize);
    ::matgrad::__private::mul_to(
        &mut __mg_v3,
        ::matgrad::__private::view(x),
        ::matgrad::__private::view(w),
        "x * w",
    );
    let mut __mg_v4 = ws.take(1usize);
    ::matgrad::__private::map_to(
        &mut __mg_v4,
        ::matgrad::__private::view(&__mg_v3),
        |__mg_x| __mg_x.tanh(),
    );
    let mut __mg_v5 = ws.take(2usize);
    ::matgrad::__private::sub_to(
        &mut __mg_v5,
        ::matgrad::__private::view(&__mg_v4),
        ::matgrad::__private::view(y),
        "a - y",
    );
    let __mg_v6: f64 = ::matgrad::__private::view(&__mg_v5).norm_squared();
    let __mg_value: f64 = __mg_v6;
    let __mg_g6: f64 = 1f64;
    let mut __mg_g3 = ws.take(3usize);
    ::matgrad::__private::zip_n_to(
        &mut __mg_g3,
        false,
        ::matgrad::__private::view(&__mg_v3).nrows(),
        ::matgrad::__private::view(&__mg_v3).ncols(),
        [__mg_v5.as_slice(), __mg_v4.as_slice()],
        |[__mg_a0, __mg_a1]| 2f64 * __mg_g6 * __mg_a0 * (1f64 - __mg_a1 * __mg_a1),
    );
    let mut __mg_g1 = ::matgrad::__private::GradBuf::take_matrix(grad_w);
    ::matgrad::__private::gemm_to(
        &mut __mg_g1,
        false,
        1f64,
        ::matgrad::__private::view(x),
        true,
        ::matgrad::__private::view(&__mg_g3),
        false,
    );
    ::matgrad::__private::GradBuf::put_matrix(grad_w, __mg_g1);
    ws.put(0usize, __mg_v3);
    ws.put(1usize, __mg_v4);
    ws.put(2usize, __mg_v5);
    ws.put(3usize, __mg_g3);
    __mg_value
}

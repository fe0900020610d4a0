fn quad(x: &DVector<f64>, a: &DMatrix<f64>) -> f64 {
    (x.transpose() * a * x)[(0, 0)]
}
/// Value and gradient of [`quad`] with respect to `x`, derived by `#[grad]`. Its intermediates stay in a per-thread workspace between calls ([`quad_grad_into`] takes yours).
///
/// # Derived gradients
///
/// - `∂f/∂x = (a + aᵀ) x`
///
/// Each gradient has the shape of its variable: entry (i, j) is ∂f/∂X_ij.
///
/// In LaTeX:
///
/// ```text
/// \frac{\partial f}{\partial x} = \left(a + a^\top\right) x
/// ```
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unused_parens,
    unused_variables,
    non_snake_case
)]
fn quad_grad(x: &DVector<f64>, a: &DMatrix<f64>) -> (f64, DVector<f64>) {
    ::std::thread_local! {
        static __MATGRAD_WORKSPACE : ::core::cell::RefCell < ::matgrad::Workspace < f64
        >> = const { ::core::cell::RefCell::new(::matgrad::Workspace::new()) };
    }
    let mut grad_x: DVector<f64> = ::core::default::Default::default();
    let __mg_value = ::matgrad::__private::with_workspace(
        &__MATGRAD_WORKSPACE,
        |ws| { quad_grad_into(x, a, &mut grad_x, ws) },
    );
    (__mg_value, grad_x)
}
/// [`quad_grad`] writing the gradients into `grad_*` (resized when needed) and reusing the buffers of `ws`: after the first call with given shapes it allocates nothing. Returns the value of [`quad`].
///
/// # Derived gradients
///
/// - `∂f/∂x = (a + aᵀ) x`
///
/// Each gradient has the shape of its variable: entry (i, j) is ∂f/∂X_ij.
///
/// In LaTeX:
///
/// ```text
/// \frac{\partial f}{\partial x} = \left(a + a^\top\right) x
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
fn quad_grad_into(
    x: &DVector<f64>,
    a: &DMatrix<f64>,
    grad_x: &mut DVector<f64>,
    ws: &mut ::matgrad::Workspace<f64>,
) -> f64 {
    #[allow(deprecated)]
    let _ = quad;
    let mut __mg_v2 = ws.take(0usize);
    ::matgrad::__private::transpose_to(&mut __mg_v2, ::matgrad::__private::view(x));
    let mut __mg_v3 = ws.take(1usize);
    ::matgrad::__private::mul_to(
        &mut __mg_v3,
        ::matgrad::__private::view(&__mg_v2),
        ::matgrad::__private::view(a),
        "x.transpose() * a",
    );
    let mut __mg_v4 = ws.take(2usize);
    ::matgrad::__private::mul_to(
        &mut __mg_v4,
        ::matgrad::__private::view(&__mg_v3),
        ::matgrad::__private::view(x),
        "x.transpose() * a * x",
    );
    let __mg_v5: f64 = ::matgrad::__private::index(
        ::matgrad::__private::view(&__mg_v4),
        0usize,
        0usize,
        "(x.transpose() * a * x)[(0, 0)]",
    );
    let __mg_value: f64 = __mg_v5;
    let __mg_g5: f64 = 1f64;
    let mut __mg_g4 = ws.take(3usize);
    ::matgrad::__private::index_adjoint_to(
        &mut __mg_g4,
        false,
        __mg_g5,
        0usize,
        0usize,
        ::matgrad::__private::view(&__mg_v4).nrows(),
        ::matgrad::__private::view(&__mg_v4).ncols(),
    );
    let mut __mg_g3 = ws.take(4usize);
    let __mg_chain3: bool = {
        let (mut __mg_chained, mut __mg_stored) = (
            0usize,
            ::matgrad::__private::product_cost(
                ::matgrad::__private::view(&__mg_g4),
                false,
                ::matgrad::__private::view(x),
                true,
            ),
        );
        let (__mg_c, __mg_s) = ::matgrad::__private::mul3_costs(
            ::matgrad::__private::view(&__mg_g4),
            false,
            ::matgrad::__private::view(x),
            true,
            ::matgrad::__private::view(a),
            true,
            true,
        );
        __mg_chained += __mg_c;
        __mg_stored += __mg_s;
        __mg_chained < __mg_stored
    };
    if !__mg_chain3 {
        ::matgrad::__private::gemm_to(
            &mut __mg_g3,
            false,
            1f64,
            ::matgrad::__private::view(&__mg_g4),
            false,
            ::matgrad::__private::view(x),
            true,
        );
    }
    let mut __mg_g2 = ws.take(5usize);
    let mut __mg_w6 = ws.take(6usize);
    if __mg_chain3 {
        ::matgrad::__private::mul3_to(
            &mut __mg_g2,
            false,
            1f64,
            ::matgrad::__private::view(&__mg_g4),
            false,
            ::matgrad::__private::view(x),
            true,
            ::matgrad::__private::view(a),
            true,
            &mut __mg_w6,
        );
    } else {
        ::matgrad::__private::gemm_to(
            &mut __mg_g2,
            false,
            1f64,
            ::matgrad::__private::view(&__mg_g3),
            false,
            ::matgrad::__private::view(a),
            true,
        );
    }
    let mut __mg_g0 = ::matgrad::__private::GradBuf::take_matrix(grad_x);
    ::matgrad::__private::gemm_to(
        &mut __mg_g0,
        false,
        1f64,
        ::matgrad::__private::view(&__mg_v3),
        true,
        ::matgrad::__private::view(&__mg_g4),
        false,
    );
    ::matgrad::__private::axpy_to(
        &mut __mg_g0,
        true,
        1f64,
        ::matgrad::__private::view(&__mg_g2),
        true,
    );
    ::matgrad::__private::GradBuf::put_matrix(grad_x, __mg_g0);
    ws.put(0usize, __mg_v2);
    ws.put(1usize, __mg_v3);
    ws.put(2usize, __mg_v4);
    ws.put(3usize, __mg_g4);
    ws.put(4usize, __mg_g3);
    ws.put(5usize, __mg_g2);
    ws.put(6usize, __mg_w6);
    __mg_value
}

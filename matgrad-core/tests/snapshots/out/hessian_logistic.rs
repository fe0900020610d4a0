fn ridge_logistic(
    x: &DMatrix<f64>,
    w: &DVector<f64>,
    y: &DVector<f64>,
    lambda: f64,
) -> f64 {
    softplus(&(x * w)).sum() - y.dot(&(x * w)) + lambda * w.norm_squared()
}
/// Value and gradient of [`ridge_logistic`] with respect to `w`, derived by `#[grad]`. Its intermediates stay in a per-thread workspace between calls ([`ridge_logistic_grad_into`] takes yours).
///
/// # Derived gradients
///
/// - `∂f/∂w = 2 lambda w − xᵀ y + xᵀ σ(x w)`
///
/// Each gradient has the shape of its variable: entry (i, j) is ∂f/∂X_ij.
///
/// In LaTeX:
///
/// ```text
/// \frac{\partial f}{\partial w} = 2 \mathit{lambda} w - x^\top y + x^\top \sigma\left(x w\right)
/// ```
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unused_parens,
    unused_variables,
    non_snake_case
)]
fn ridge_logistic_grad(
    x: &DMatrix<f64>,
    w: &DVector<f64>,
    y: &DVector<f64>,
    lambda: f64,
) -> (f64, DVector<f64>) {
    ::std::thread_local! {
        static __MATGRAD_WORKSPACE : ::core::cell::RefCell < ::matgrad::Workspace < f64
        >> = const { ::core::cell::RefCell::new(::matgrad::Workspace::new()) };
    }
    let mut grad_w: DVector<f64> = ::core::default::Default::default();
    let __mg_value = ::matgrad::__private::with_workspace(
        &__MATGRAD_WORKSPACE,
        |ws| { ridge_logistic_grad_into(x, w, y, lambda, &mut grad_w, ws) },
    );
    (__mg_value, grad_w)
}
/// [`ridge_logistic_grad`] writing the gradients into `grad_*` (resized when needed) and reusing the buffers of `ws`: after the first call with given shapes it allocates nothing. Returns the value of [`ridge_logistic`].
///
/// # Derived gradients
///
/// - `∂f/∂w = 2 lambda w − xᵀ y + xᵀ σ(x w)`
///
/// Each gradient has the shape of its variable: entry (i, j) is ∂f/∂X_ij.
///
/// In LaTeX:
///
/// ```text
/// \frac{\partial f}{\partial w} = 2 \mathit{lambda} w - x^\top y + x^\top \sigma\left(x w\right)
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
fn ridge_logistic_grad_into(
    x: &DMatrix<f64>,
    w: &DVector<f64>,
    y: &DVector<f64>,
    lambda: f64,
    grad_w: &mut DVector<f64>,
    ws: &mut ::matgrad::Workspace<f64>,
) -> f64 {
    #[allow(deprecated)]
    let _ = ridge_logistic;
    let mut __mg_v4 = ws.take(0usize);
    ::matgrad::__private::mul_to(
        &mut __mg_v4,
        ::matgrad::__private::view(x),
        ::matgrad::__private::view(w),
        "x * w",
    );
    let mut __mg_v5 = ws.take(1usize);
    ::matgrad::__private::softplus_to(
        &mut __mg_v5,
        ::matgrad::__private::view(&__mg_v4),
    );
    let __mg_v6: f64 = ::matgrad::__private::view(&__mg_v5).sum();
    let mut __mg_v7 = ws.take(2usize);
    ::matgrad::__private::mul_to(
        &mut __mg_v7,
        ::matgrad::__private::view(x),
        ::matgrad::__private::view(w),
        "x * w",
    );
    let __mg_v8: f64 = ::matgrad::__private::dot(
        ::matgrad::__private::view(y),
        ::matgrad::__private::view(&__mg_v7),
        "y.dot(&(x * w))",
    );
    let __mg_v9: f64 = __mg_v6 - __mg_v8;
    let __mg_v10: f64 = ::matgrad::__private::view(w).norm_squared();
    let __mg_v11: f64 = lambda * __mg_v10;
    let __mg_v12: f64 = __mg_v9 + __mg_v11;
    let __mg_value: f64 = __mg_v12;
    let __mg_g12: f64 = 1f64;
    let __mg_g11: f64 = __mg_g12;
    let __mg_g10: f64 = __mg_g11 * lambda;
    let __mg_g9: f64 = __mg_g12;
    let __mg_g8: f64 = -__mg_g9;
    let __mg_g6: f64 = __mg_g9;
    let mut __mg_g4 = ws.take(3usize);
    ::matgrad::__private::zip_n_to(
        &mut __mg_g4,
        false,
        ::matgrad::__private::view(&__mg_v4).nrows(),
        ::matgrad::__private::view(&__mg_v4).ncols(),
        [__mg_v4.as_slice()],
        |[__mg_a0]| __mg_g6 * ::matgrad::__private::sigmoid_scalar(__mg_a0),
    );
    let mut __mg_g1 = ::matgrad::__private::GradBuf::take_matrix(grad_w);
    ::matgrad::__private::zip_n_to(
        &mut __mg_g1,
        false,
        ::matgrad::__private::view(w).nrows(),
        ::matgrad::__private::view(w).ncols(),
        [w.as_slice()],
        |[__mg_a0]| 2f64 * __mg_g10 * __mg_a0,
    );
    ::matgrad::__private::gemm_to(
        &mut __mg_g1,
        true,
        __mg_g8,
        ::matgrad::__private::view(x),
        true,
        ::matgrad::__private::view(y),
        false,
    );
    ::matgrad::__private::gemm_to(
        &mut __mg_g1,
        true,
        1f64,
        ::matgrad::__private::view(x),
        true,
        ::matgrad::__private::view(&__mg_g4),
        false,
    );
    ::matgrad::__private::GradBuf::put_matrix(grad_w, __mg_g1);
    ws.put(0usize, __mg_v4);
    ws.put(1usize, __mg_v5);
    ws.put(2usize, __mg_v7);
    ws.put(3usize, __mg_g4);
    __mg_value
}
/// Value, gradient and Hessian of [`ridge_logistic`] with respect to `w`, derived by `#[grad]`: `H[(i, j)] = ∂²f / ∂vec(w)_i ∂vec(w)_j`, n×n for the n entries of `w`, in column-major order. Built from its structure (the terms below, one product each, on the values of the forward pass; no Hessian-vector product), exact to rounding and exactly symmetric.
///
/// # Derived gradient and Hessian
///
/// - `∂f/∂w = 2 lambda w − xᵀ y + xᵀ σ(x w)`
/// - `∇²f = xᵀ diag(σ(x w) ⊙ (1 − σ(x w))) x + 2 lambda I`
///
/// Cost model: this structure takes x.c x.c x.r + x.c x.c + x.c x.r + x.r multiply-adds, against about 4 x.c x.c x.r + 3 x.c x.c + 6 x.c x.r + 8 x.c for n Hessian-vector products (a.r, a.c: rows and columns of a).
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unused_parens,
    unused_variables,
    unused_mut,
    non_snake_case
)]
fn ridge_logistic_hessian(
    x: &DMatrix<f64>,
    w: &DVector<f64>,
    y: &DVector<f64>,
    lambda: f64,
) -> (f64, DVector<f64>, ::matgrad::__private::DMatrix<f64>) {
    #[allow(deprecated)]
    let _ = ridge_logistic;
    ::std::thread_local! {
        static __MATGRAD_WORKSPACE : ::core::cell::RefCell < ::matgrad::Workspace < f64
        >> = const { ::core::cell::RefCell::new(::matgrad::Workspace::new()) };
    }
    let mut __mg_g: DVector<f64> = ::core::default::Default::default();
    let mut __mg_hd: ::matgrad::__private::DMatrix<f64> = ::matgrad::__private::DMatrix::zeros(
        0,
        0,
    );
    let __mg_value: f64 = ::matgrad::__private::with_workspace(
        &__MATGRAD_WORKSPACE,
        |ws| {
            let grad_w = &mut __mg_g;
            let mut __mg_v4 = ws.take(0usize);
            ::matgrad::__private::mul_to(
                &mut __mg_v4,
                ::matgrad::__private::view(x),
                ::matgrad::__private::view(w),
                "x * w",
            );
            let mut __mg_v5 = ws.take(1usize);
            ::matgrad::__private::softplus_to(
                &mut __mg_v5,
                ::matgrad::__private::view(&__mg_v4),
            );
            let __mg_v6: f64 = ::matgrad::__private::view(&__mg_v5).sum();
            let mut __mg_v7 = ws.take(2usize);
            ::matgrad::__private::mul_to(
                &mut __mg_v7,
                ::matgrad::__private::view(x),
                ::matgrad::__private::view(w),
                "x * w",
            );
            let __mg_v8: f64 = ::matgrad::__private::dot(
                ::matgrad::__private::view(y),
                ::matgrad::__private::view(&__mg_v7),
                "y.dot(&(x * w))",
            );
            let __mg_v9: f64 = __mg_v6 - __mg_v8;
            let __mg_v10: f64 = ::matgrad::__private::view(w).norm_squared();
            let __mg_v11: f64 = lambda * __mg_v10;
            let __mg_v12: f64 = __mg_v9 + __mg_v11;
            let __mg_value: f64 = __mg_v12;
            let __mg_g12: f64 = 1f64;
            let __mg_g11: f64 = __mg_g12;
            let __mg_g10: f64 = __mg_g11 * lambda;
            let __mg_g9: f64 = __mg_g12;
            let __mg_g8: f64 = -__mg_g9;
            let __mg_g6: f64 = __mg_g9;
            let mut __mg_g4 = ws.take(3usize);
            ::matgrad::__private::zip_n_to(
                &mut __mg_g4,
                false,
                ::matgrad::__private::view(&__mg_v4).nrows(),
                ::matgrad::__private::view(&__mg_v4).ncols(),
                [__mg_v4.as_slice()],
                |[__mg_a0]| __mg_g6 * ::matgrad::__private::sigmoid_scalar(__mg_a0),
            );
            let mut __mg_g1 = ::matgrad::__private::GradBuf::take_matrix(grad_w);
            ::matgrad::__private::zip_n_to(
                &mut __mg_g1,
                false,
                ::matgrad::__private::view(w).nrows(),
                ::matgrad::__private::view(w).ncols(),
                [w.as_slice()],
                |[__mg_a0]| 2f64 * __mg_g10 * __mg_a0,
            );
            ::matgrad::__private::gemm_to(
                &mut __mg_g1,
                true,
                __mg_g8,
                ::matgrad::__private::view(x),
                true,
                ::matgrad::__private::view(y),
                false,
            );
            ::matgrad::__private::gemm_to(
                &mut __mg_g1,
                true,
                1f64,
                ::matgrad::__private::view(x),
                true,
                ::matgrad::__private::view(&__mg_g4),
                false,
            );
            ::matgrad::__private::GradBuf::put_matrix(grad_w, __mg_g1);
            let (__mg_p, __mg_q) = (
                ::matgrad::__private::view(w).nrows(),
                ::matgrad::__private::view(w).ncols(),
            );
            let mut __mg_w4 = ws.take(4usize);
            ::matgrad::__private::zip_n_to(
                &mut __mg_w4,
                false,
                ::matgrad::__private::view(&__mg_v4).nrows(),
                ::matgrad::__private::view(&__mg_v4).ncols(),
                [__mg_v4.as_slice()],
                |[__mg_a0]| {
                    ::matgrad::__private::sigmoid_scalar(__mg_a0)
                        * (1f64 - ::matgrad::__private::sigmoid_scalar(__mg_a0))
                },
            );
            let mut __mg_w5 = ws.take(5usize);
            let mut __mg_w6 = ws.take(6usize);
            ::matgrad::__private::kron_gram_to(
                &mut __mg_hd,
                false,
                1f64,
                ::core::option::Option::Some((::matgrad::__private::view(x), false)),
                ::core::option::Option::None,
                ::core::option::Option::Some(::matgrad::__private::view(&__mg_w4)),
                (__mg_p, __mg_q),
                &mut __mg_w5,
                &mut __mg_w6,
            );
            let mut __mg_w7 = ws.take(7usize);
            let mut __mg_w8 = ws.take(8usize);
            ::matgrad::__private::kron_gram_to(
                &mut __mg_hd,
                true,
                2f64 * lambda,
                ::core::option::Option::None,
                ::core::option::Option::None,
                ::core::option::Option::None,
                (__mg_p, __mg_q),
                &mut __mg_w7,
                &mut __mg_w8,
            );
            ws.put(0usize, __mg_v4);
            ws.put(1usize, __mg_v5);
            ws.put(2usize, __mg_v7);
            ws.put(3usize, __mg_g4);
            ws.put(4usize, __mg_w4);
            ws.put(5usize, __mg_w5);
            ws.put(6usize, __mg_w6);
            ws.put(7usize, __mg_w7);
            ws.put(8usize, __mg_w8);
            __mg_value
        },
    );
    let __mg_h: ::matgrad::__private::DMatrix<f64> = __mg_hd;
    (__mg_value, __mg_g, __mg_h)
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

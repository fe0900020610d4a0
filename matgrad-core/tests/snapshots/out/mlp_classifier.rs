pub fn loss(
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    b2: &RowDVector<f64>,
) -> f64 {
    let h = relu(&add_row(&(x * w1), b1));
    let z = add_row(&(h * w2), b2);
    softmax_cross_entropy(&z, y)
}
/// Value and gradient of [`loss`] with respect to `w1`, `b1`, `w2`, `b2`, derived by `#[grad]`. Its intermediates stay in a per-thread workspace between calls ([`loss_grad_into`] takes yours).
///
/// # Derived gradients
///
/// - `∂f/∂w1 = xᵀ ((diag(y 𝟙) softmax(z) − y) w2ᵀ ⊙ [x w1 + 𝟙 b1 > 0])`
/// - `∂f/∂b1 = 𝟙ᵀ ((diag(y 𝟙) softmax(z) − y) w2ᵀ ⊙ [x w1 + 𝟙 b1 > 0])`
/// - `∂f/∂w2 = hᵀ (diag(y 𝟙) softmax(z) − y)`
/// - `∂f/∂b2 = 𝟙ᵀ (diag(y 𝟙) softmax(z) − y)`
///
/// where
///
/// - `h = relu(x w1 + 𝟙 b1)`
/// - `z = h w2 + 𝟙 b2`
///
/// Each gradient has the shape of its variable: entry (i, j) is ∂f/∂X_ij.
///
/// In LaTeX:
///
/// ```text
/// \frac{\partial f}{\partial w1} = x^\top \left(\left(\operatorname{diag}\left(y \mathbf{1}\right) \operatorname{softmax}\left(z\right) - y\right) \mathit{w2}^\top \odot [x \mathit{w1} + \mathbf{1} \mathit{b1} > 0]\right)
/// \frac{\partial f}{\partial b1} = \mathbf{1}^\top \left(\left(\operatorname{diag}\left(y \mathbf{1}\right) \operatorname{softmax}\left(z\right) - y\right) \mathit{w2}^\top \odot [x \mathit{w1} + \mathbf{1} \mathit{b1} > 0]\right)
/// \frac{\partial f}{\partial w2} = h^\top \left(\operatorname{diag}\left(y \mathbf{1}\right) \operatorname{softmax}\left(z\right) - y\right)
/// \frac{\partial f}{\partial b2} = \mathbf{1}^\top \left(\operatorname{diag}\left(y \mathbf{1}\right) \operatorname{softmax}\left(z\right) - y\right)
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
    y: &DMatrix<f64>,
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    b2: &RowDVector<f64>,
) -> (f64, DMatrix<f64>, RowDVector<f64>, DMatrix<f64>, RowDVector<f64>) {
    ::std::thread_local! {
        static __MATGRAD_WORKSPACE : ::core::cell::RefCell < ::matgrad::Workspace < f64
        >> = const { ::core::cell::RefCell::new(::matgrad::Workspace::new()) };
    }
    let mut grad_w1: DMatrix<f64> = ::core::default::Default::default();
    let mut grad_b1: RowDVector<f64> = ::core::default::Default::default();
    let mut grad_w2: DMatrix<f64> = ::core::default::Default::default();
    let mut grad_b2: RowDVector<f64> = ::core::default::Default::default();
    let __mg_value = ::matgrad::__private::with_workspace(
        &__MATGRAD_WORKSPACE,
        |ws| {
            loss_grad_into(
                x,
                y,
                w1,
                b1,
                w2,
                b2,
                &mut grad_w1,
                &mut grad_b1,
                &mut grad_w2,
                &mut grad_b2,
                ws,
            )
        },
    );
    (__mg_value, grad_w1, grad_b1, grad_w2, grad_b2)
}
/// [`loss_grad`] writing the gradients into `grad_*` (resized when needed) and reusing the buffers of `ws`: after the first call with given shapes it allocates nothing. Returns the value of [`loss`].
///
/// # Derived gradients
///
/// - `∂f/∂w1 = xᵀ ((diag(y 𝟙) softmax(z) − y) w2ᵀ ⊙ [x w1 + 𝟙 b1 > 0])`
/// - `∂f/∂b1 = 𝟙ᵀ ((diag(y 𝟙) softmax(z) − y) w2ᵀ ⊙ [x w1 + 𝟙 b1 > 0])`
/// - `∂f/∂w2 = hᵀ (diag(y 𝟙) softmax(z) − y)`
/// - `∂f/∂b2 = 𝟙ᵀ (diag(y 𝟙) softmax(z) − y)`
///
/// where
///
/// - `h = relu(x w1 + 𝟙 b1)`
/// - `z = h w2 + 𝟙 b2`
///
/// Each gradient has the shape of its variable: entry (i, j) is ∂f/∂X_ij.
///
/// In LaTeX:
///
/// ```text
/// \frac{\partial f}{\partial w1} = x^\top \left(\left(\operatorname{diag}\left(y \mathbf{1}\right) \operatorname{softmax}\left(z\right) - y\right) \mathit{w2}^\top \odot [x \mathit{w1} + \mathbf{1} \mathit{b1} > 0]\right)
/// \frac{\partial f}{\partial b1} = \mathbf{1}^\top \left(\left(\operatorname{diag}\left(y \mathbf{1}\right) \operatorname{softmax}\left(z\right) - y\right) \mathit{w2}^\top \odot [x \mathit{w1} + \mathbf{1} \mathit{b1} > 0]\right)
/// \frac{\partial f}{\partial w2} = h^\top \left(\operatorname{diag}\left(y \mathbf{1}\right) \operatorname{softmax}\left(z\right) - y\right)
/// \frac{\partial f}{\partial b2} = \mathbf{1}^\top \left(\operatorname{diag}\left(y \mathbf{1}\right) \operatorname{softmax}\left(z\right) - y\right)
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
    y: &DMatrix<f64>,
    w1: &DMatrix<f64>,
    b1: &RowDVector<f64>,
    w2: &DMatrix<f64>,
    b2: &RowDVector<f64>,
    grad_w1: &mut DMatrix<f64>,
    grad_b1: &mut RowDVector<f64>,
    grad_w2: &mut DMatrix<f64>,
    grad_b2: &mut RowDVector<f64>,
    ws: &mut ::matgrad::Workspace<f64>,
) -> f64 {
    #[allow(deprecated)]
    let _ = loss;
    let mut __mg_v6 = ws.take(0usize);
    let mut __mg_v7 = ws.take(1usize);
    ::matgrad::__private::mul_add_row_to(
        &mut __mg_v7,
        &mut __mg_v6,
        ::matgrad::__private::view(x),
        ::matgrad::__private::view(w1),
        ::matgrad::__private::view(b1),
        "x * w1",
        "add_row(&(x * w1), b1)",
    );
    let mut __mg_v8 = ws.take(2usize);
    ::matgrad::__private::relu_to(&mut __mg_v8, ::matgrad::__private::view(&__mg_v7));
    let mut __mg_v9 = ws.take(3usize);
    let mut __mg_v10 = ws.take(4usize);
    ::matgrad::__private::mul_add_row_to(
        &mut __mg_v10,
        &mut __mg_v9,
        ::matgrad::__private::view(&__mg_v8),
        ::matgrad::__private::view(w2),
        ::matgrad::__private::view(b2),
        "h * w2",
        "add_row(&(h * w2), b2)",
    );
    let mut __mg_aux11 = ws.take(5usize);
    let mut __mg_auxw11 = ws.take(6usize);
    let __mg_v11: f64 = ::matgrad::__private::softmax_cross_entropy_with_adjoint(
        &mut __mg_aux11,
        ::matgrad::__private::view(&__mg_v10),
        ::matgrad::__private::view(y),
        "softmax_cross_entropy(&z, y)",
    );
    let __mg_value: f64 = __mg_v11;
    let __mg_g11: f64 = 1f64;
    let mut __mg_g10 = ws.take(7usize);
    ::matgrad::__private::zip_n_to(
        &mut __mg_g10,
        false,
        ::matgrad::__private::view(&__mg_v10).nrows(),
        ::matgrad::__private::view(&__mg_v10).ncols(),
        [__mg_aux11.as_slice()],
        |[__mg_a0]| __mg_g11 * __mg_a0,
    );
    let mut __mg_g8 = ws.take(8usize);
    ::matgrad::__private::gemm_to(
        &mut __mg_g8,
        false,
        1f64,
        ::matgrad::__private::view(&__mg_g10),
        false,
        ::matgrad::__private::view(w2),
        true,
    );
    let mut __mg_g7 = ws.take(9usize);
    ::matgrad::__private::zip_n_to(
        &mut __mg_g7,
        false,
        ::matgrad::__private::view(&__mg_v7).nrows(),
        ::matgrad::__private::view(&__mg_v7).ncols(),
        [__mg_g8.as_slice(), __mg_v7.as_slice()],
        |[__mg_a0, __mg_a1]| __mg_a0 * ::matgrad::__private::relu_step(__mg_a1),
    );
    let mut __mg_g5 = ::matgrad::__private::GradBuf::take_matrix(grad_b2);
    ::matgrad::__private::row_sum_to(
        &mut __mg_g5,
        false,
        ::matgrad::__private::view(&__mg_g10),
    );
    let mut __mg_g4 = ::matgrad::__private::GradBuf::take_matrix(grad_w2);
    ::matgrad::__private::gemm_to(
        &mut __mg_g4,
        false,
        1f64,
        ::matgrad::__private::view(&__mg_v8),
        true,
        ::matgrad::__private::view(&__mg_g10),
        false,
    );
    let mut __mg_g3 = ::matgrad::__private::GradBuf::take_matrix(grad_b1);
    ::matgrad::__private::row_sum_to(
        &mut __mg_g3,
        false,
        ::matgrad::__private::view(&__mg_g7),
    );
    let mut __mg_g2 = ::matgrad::__private::GradBuf::take_matrix(grad_w1);
    ::matgrad::__private::gemm_to(
        &mut __mg_g2,
        false,
        1f64,
        ::matgrad::__private::view(x),
        true,
        ::matgrad::__private::view(&__mg_g7),
        false,
    );
    ::matgrad::__private::GradBuf::put_matrix(grad_w1, __mg_g2);
    ::matgrad::__private::GradBuf::put_matrix(grad_b1, __mg_g3);
    ::matgrad::__private::GradBuf::put_matrix(grad_w2, __mg_g4);
    ::matgrad::__private::GradBuf::put_matrix(grad_b2, __mg_g5);
    ws.put(0usize, __mg_v6);
    ws.put(1usize, __mg_v7);
    ws.put(2usize, __mg_v8);
    ws.put(3usize, __mg_v9);
    ws.put(4usize, __mg_v10);
    ws.put(5usize, __mg_aux11);
    ws.put(6usize, __mg_auxw11);
    ws.put(7usize, __mg_g10);
    ws.put(8usize, __mg_g8);
    ws.put(9usize, __mg_g7);
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
        let _ = relu(::matgrad::__resolve::relu());
        let _ = add_row(
            ::matgrad::__resolve::add_row(),
            ::matgrad::__resolve::add_row(),
        );
        let _ = softmax_cross_entropy(
            ::matgrad::__resolve::softmax_cross_entropy(),
            ::matgrad::__resolve::softmax_cross_entropy(),
        );
    }
};

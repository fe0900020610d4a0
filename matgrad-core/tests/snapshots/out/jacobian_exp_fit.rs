/// The exponential fit of issue 18: three parameters, m residuals. The two sweeps
/// do not compare for all sizes (3 tangent sweeps of O(m) against m reverse sweeps
/// of O(m) when `p` has 3 entries, the converse when it has more than m), but the
/// structured form is no dearer than either: each entry `p[k]` read as a scalar
/// gives column k of `J`, its coefficient (`exp(−b t)`, …) written once.
pub fn exp_fit(p: &DVector<f64>, t: &DVector<f64>, y: &DVector<f64>) -> DVector<f64> {
    let (a, b, c) = (p[0], p[1], p[2]);
    t.map(|v| a * (-b * v).exp() + c) - y
}
/// The value of [`exp_fit`] and its Jacobian with respect to `p`, derived by `#[jacobian]`: `J[(i, k)] = ∂r_i / ∂vec(x)_k`, one row per residual, the variable's entries in column-major order.
///
/// # Jacobian of `exp_fit` with respect to `p`: structured, formed directly
///
/// Structured, each Jacobian formed directly from the structure of the residuals' tangent (a matrix `A` of `A x`, a row scale `diag(c)` of an entrywise map, a column `c e_kᵀ` of an entry `x[k]`: one pass over `J` per term), chosen by the cost model over forward mode, one tangent sweep per entry of the variables (column k of each Jacobian is the residuals' tangent along the unit direction e_k), and reverse mode, one reverse sweep per residual (row i of each Jacobian is the gradient of ⟨exp_fit, s⟩ at the seed s = e_i), as never dearer for any sizes: structured `5 t.r + 3`, forward `4 p.r t.r + 3 p.r + 4 t.r + 3`, reverse `p.r t.r + 4 t.r t.r + 5 t.r + 3` multiply-adds (the values once, then the sweeps; `x.r`, `x.c` the rows and columns of `x`).
///
/// The Jacobians (`diag(c)` scales row i by `cᵢ`, `e_k` is the k-th unit vector):
///
/// - `J_p = exp(−b t) e₀ᵀ + (−a (exp(−b t) ⊙ t)) e₁ᵀ + 𝟙 e₂ᵀ`
///
/// where
///
/// - `a = p₀₀`
/// - `b = p₁₀`
/// - `c = p₂₀`
///
/// Entry `(i, k)` of the Jacobian of `x` is the derivative of entry i of `exp_fit` with respect to entry k of `x`, in column-major order.
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unused_mut,
    unused_parens,
    unused_variables,
    non_snake_case
)]
pub fn exp_fit_jacobian(
    p: &DVector<f64>,
    t: &DVector<f64>,
    y: &DVector<f64>,
) -> (DVector<f64>, ::matgrad::__private::DMatrix<f64>) {
    let mut r: DVector<f64> = ::core::default::Default::default();
    let mut jacobian_p: ::matgrad::__private::DMatrix<f64> = ::core::default::Default::default();
    ::std::thread_local! {
        static __MATGRAD_WORKSPACE : ::core::cell::RefCell < ::matgrad::Workspace < f64
        >> = const { ::core::cell::RefCell::new(::matgrad::Workspace::new()) };
    }
    ::matgrad::__private::with_workspace(
        &__MATGRAD_WORKSPACE,
        |ws| {
            exp_fit_jacobian_into(p, t, y, &mut r, &mut jacobian_p, ws);
        },
    );
    (r, jacobian_p)
}
/// [`exp_fit_jacobian`] writing the residuals into `r` and the Jacobians into `jacobian_*` (resized when needed), reusing the buffers of `ws`: after the first call with given shapes it allocates nothing.
///
/// # Jacobian of `exp_fit` with respect to `p`: structured, formed directly
///
/// Structured, each Jacobian formed directly from the structure of the residuals' tangent (a matrix `A` of `A x`, a row scale `diag(c)` of an entrywise map, a column `c e_kᵀ` of an entry `x[k]`: one pass over `J` per term), chosen by the cost model over forward mode, one tangent sweep per entry of the variables (column k of each Jacobian is the residuals' tangent along the unit direction e_k), and reverse mode, one reverse sweep per residual (row i of each Jacobian is the gradient of ⟨exp_fit, s⟩ at the seed s = e_i), as never dearer for any sizes: structured `5 t.r + 3`, forward `4 p.r t.r + 3 p.r + 4 t.r + 3`, reverse `p.r t.r + 4 t.r t.r + 5 t.r + 3` multiply-adds (the values once, then the sweeps; `x.r`, `x.c` the rows and columns of `x`).
///
/// The Jacobians (`diag(c)` scales row i by `cᵢ`, `e_k` is the k-th unit vector):
///
/// - `J_p = exp(−b t) e₀ᵀ + (−a (exp(−b t) ⊙ t)) e₁ᵀ + 𝟙 e₂ᵀ`
///
/// where
///
/// - `a = p₀₀`
/// - `b = p₁₀`
/// - `c = p₂₀`
///
/// Entry `(i, k)` of the Jacobian of `x` is the derivative of entry i of `exp_fit` with respect to entry k of `x`, in column-major order.
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
pub fn exp_fit_jacobian_into(
    p: &DVector<f64>,
    t: &DVector<f64>,
    y: &DVector<f64>,
    r: &mut DVector<f64>,
    jacobian_p: &mut ::matgrad::__private::DMatrix<f64>,
    ws: &mut ::matgrad::Workspace<f64>,
) {
    #[allow(deprecated)]
    let _ = exp_fit;
    let __mg_v5: f64 = ::matgrad::__private::index(
        ::matgrad::__private::view(p),
        0usize,
        0usize,
        "p[0]",
    );
    let __mg_v6: f64 = ::matgrad::__private::index(
        ::matgrad::__private::view(p),
        1usize,
        0usize,
        "p[1]",
    );
    let __mg_v7: f64 = ::matgrad::__private::index(
        ::matgrad::__private::view(p),
        2usize,
        0usize,
        "p[2]",
    );
    let mut __mg_v8 = ws.take(0usize);
    ::matgrad::__private::map_to(
        &mut __mg_v8,
        ::matgrad::__private::view(t),
        |__mg_x| __mg_v5 * (-__mg_v6 * __mg_x).exp() + __mg_v7,
    );
    let mut __mg_v9 = ws.take(1usize);
    ::matgrad::__private::sub_to(
        &mut __mg_v9,
        ::matgrad::__private::view(&__mg_v8),
        ::matgrad::__private::view(y),
        "t.map(| v | a *(- b * v).exp() + c) - y",
    );
    let __mg_m: usize = ::matgrad::__private::view(&__mg_v9).nrows();
    if r.len() != __mg_m {
        *r = <DVector<f64>>::zeros(__mg_m);
    }
    r.copy_from(&::matgrad::__private::view(&__mg_v9).column(0));
    if jacobian_p.shape() != (__mg_m, ::matgrad::__private::view(p).len()) {
        *jacobian_p = ::matgrad::__private::DMatrix::zeros(
            __mg_m,
            ::matgrad::__private::view(p).len(),
        );
    }
    ::matgrad::__private::jac_zero_columns_except(jacobian_p, &[0usize, 1usize, 2usize]);
    ::matgrad::__private::jac_column_map_to(
        jacobian_p,
        false,
        0usize,
        1f64,
        ::matgrad::__private::view(t),
        |__mg_x| (-(__mg_v6 * __mg_x)).exp(),
        "t.map(| v | a *(- b * v).exp() + c) - y",
    );
    ::matgrad::__private::jac_column_map_to(
        jacobian_p,
        false,
        1usize,
        1f64,
        ::matgrad::__private::view(t),
        |__mg_x| -(__mg_v5 * ((-(__mg_v6 * __mg_x)).exp() * __mg_x)),
        "t.map(| v | a *(- b * v).exp() + c) - y",
    );
    ::matgrad::__private::jac_column_to(
        jacobian_p,
        false,
        2usize,
        1f64,
        ::core::option::Option::None,
        "t.map(| v | a *(- b * v).exp() + c) - y",
    );
    ws.put(0usize, __mg_v8);
    ws.put(1usize, __mg_v9);
}

/// The exponential fit of issue 18: three parameters, m residuals. The costs do not
/// compare for all sizes (3 tangent sweeps of O(m) against m reverse sweeps of O(m)
/// when `p` has 3 entries, the converse when it has more than m): both modes are
/// written, and each call runs the cheaper at its shapes.
pub fn exp_fit(p: &DVector<f64>, t: &DVector<f64>, y: &DVector<f64>) -> DVector<f64> {
    let (a, b, c) = (p[0], p[1], p[2]);
    t.map(|v| a * (-b * v).exp() + c) - y
}
/// The value of [`exp_fit`] and its Jacobian with respect to `p`, derived by `#[jacobian]`: `J[(i, k)] = ∂r_i / ∂vec(x)_k`, one row per residual, the variable's entries in column-major order.
///
/// # Jacobian of `exp_fit` with respect to `p`: forward or reverse mode, chosen at run time
///
/// Forward mode, one tangent sweep per entry of the variables (column k of each Jacobian is the residuals' tangent along the unit direction e_k), or reverse mode, one reverse sweep per residual (row i of each Jacobian is the gradient of ⟨exp_fit, s⟩ at the seed s = e_i), whichever the cost model finds cheaper at each call's shapes (neither is for all sizes): forward `4 p.r t.r + 3 p.r + 4 t.r + 3`, reverse `p.r t.r + 4 t.r t.r + 5 t.r + 3` multiply-adds (the values once, then the sweeps; `x.r`, `x.c` the rows and columns of `x`).
///
/// Forward: the tangent of `exp_fit` along the direction of each variable:
///
/// - `J_p v_p = v_p₀₀ exp(−b t) − v_p₁₀ a (exp(−b t) ⊙ t) + v_p₂₀`
///
/// Reverse: the gradient of `⟨exp_fit, s⟩` with respect to each variable (shaped like it):
///
/// - `J_pᵀ s = Σ s E20 + Σ (−(s ⊙ a (exp(−b t) ⊙ t))) E10 + Σ (s ⊙ exp(−b t)) E00`
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
/// # Jacobian of `exp_fit` with respect to `p`: forward or reverse mode, chosen at run time
///
/// Forward mode, one tangent sweep per entry of the variables (column k of each Jacobian is the residuals' tangent along the unit direction e_k), or reverse mode, one reverse sweep per residual (row i of each Jacobian is the gradient of ⟨exp_fit, s⟩ at the seed s = e_i), whichever the cost model finds cheaper at each call's shapes (neither is for all sizes): forward `4 p.r t.r + 3 p.r + 4 t.r + 3`, reverse `p.r t.r + 4 t.r t.r + 5 t.r + 3` multiply-adds (the values once, then the sweeps; `x.r`, `x.c` the rows and columns of `x`).
///
/// Forward: the tangent of `exp_fit` along the direction of each variable:
///
/// - `J_p v_p = v_p₀₀ exp(−b t) − v_p₁₀ a (exp(−b t) ⊙ t) + v_p₂₀`
///
/// Reverse: the gradient of `⟨exp_fit, s⟩` with respect to each variable (shaped like it):
///
/// - `J_pᵀ s = Σ s E20 + Σ (−(s ⊙ a (exp(−b t) ⊙ t))) E10 + Σ (s ⊙ exp(−b t)) E00`
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
    let mut __mg_v14 = ws.take(2usize);
    ::matgrad::__private::map_to(
        &mut __mg_v14,
        ::matgrad::__private::view(t),
        |__mg_x| (-(__mg_v6 * __mg_x)).exp(),
    );
    let mut __mg_v16 = ws.take(3usize);
    ::matgrad::__private::map_to(
        &mut __mg_v16,
        ::matgrad::__private::view(t),
        |__mg_x| -(__mg_v5 * ((-(__mg_v6 * __mg_x)).exp() * __mg_x)),
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
    if ((3f64 + 3f64 * (::matgrad::__private::view(p).nrows() as f64)
        + 4f64 * (::matgrad::__private::view(p).nrows() as f64)
            * (::matgrad::__private::view(t).nrows() as f64)
        + 4f64 * (::matgrad::__private::view(t).nrows() as f64)))
        <= ((3f64
            + (::matgrad::__private::view(p).nrows() as f64)
                * (::matgrad::__private::view(t).nrows() as f64)
            + 5f64 * (::matgrad::__private::view(t).nrows() as f64)
            + 4f64 * (::matgrad::__private::view(t).nrows() as f64)
                * (::matgrad::__private::view(t).nrows() as f64)))
    {
        let mut __mg_dir0: DVector<f64> = ::core::default::Default::default();
        {
            let __mg_kept = ws.take_extra(2usize);
            if __mg_kept.shape() == ::matgrad::__private::view(p).shape() {
                ::matgrad::__private::GradBuf::put_matrix(&mut __mg_dir0, __mg_kept);
                __mg_dir0.fill(0f64);
            } else {
                __mg_dir0 = p.map(|_| 0f64);
            }
        }
        for __mg_k in 0..__mg_dir0.len() {
            __mg_dir0[__mg_k] = 1f64;
            {
                let v_p = &__mg_dir0;
                let __mg_v11: f64 = ::matgrad::__private::index(
                    ::matgrad::__private::view(v_p),
                    0usize,
                    0usize,
                    "p[0]",
                );
                let __mg_v12: f64 = ::matgrad::__private::index(
                    ::matgrad::__private::view(v_p),
                    1usize,
                    0usize,
                    "p[1]",
                );
                let __mg_v13: f64 = ::matgrad::__private::index(
                    ::matgrad::__private::view(v_p),
                    2usize,
                    0usize,
                    "p[2]",
                );
                let mut __mg_v15 = ws.take(4usize);
                ::matgrad::__private::map_to(
                    &mut __mg_v15,
                    ::matgrad::__private::view(&__mg_v14),
                    |__mg_x| __mg_x * __mg_v11,
                );
                let mut __mg_v17 = ws.take(5usize);
                ::matgrad::__private::zip_map_to(
                    &mut __mg_v17,
                    false,
                    ::matgrad::__private::view(&__mg_v15),
                    ::matgrad::__private::view(&__mg_v16),
                    |__mg_a0, __mg_a1| __mg_a0 + __mg_a1 * __mg_v12,
                );
                let mut __mg_v18 = ws.take(6usize);
                ::matgrad::__private::map_to(
                    &mut __mg_v18,
                    ::matgrad::__private::view(&__mg_v17),
                    |__mg_x| __mg_x + __mg_v13,
                );
                jacobian_p
                    .column_mut(__mg_k)
                    .copy_from(&::matgrad::__private::view(&__mg_v18).column(0));
                ws.put(4usize, __mg_v15);
                ws.put(5usize, __mg_v17);
                ws.put(6usize, __mg_v18);
            }
            __mg_dir0[__mg_k] = 0f64;
        }
        ws.put_extra(2usize, ::matgrad::__private::GradBuf::take_matrix(&mut __mg_dir0));
    } else {
        let mut __mg_seed: DVector<f64> = ::core::default::Default::default();
        {
            let __mg_kept = ws.take_extra(0);
            if __mg_kept.nrows() == __mg_m && __mg_kept.ncols() == 1 {
                ::matgrad::__private::GradBuf::put_matrix(&mut __mg_seed, __mg_kept);
                __mg_seed.fill(0f64);
            } else {
                __mg_seed = <DVector<f64>>::zeros(__mg_m);
            }
        }
        let mut __mg_grad0: DVector<f64> = ::core::default::Default::default();
        {
            let __mg_kept = ws.take_extra(1usize);
            if !__mg_kept.is_empty() {
                ::matgrad::__private::GradBuf::put_matrix(&mut __mg_grad0, __mg_kept);
            }
        }
        for __mg_i in 0..__mg_m {
            __mg_seed[__mg_i] = 1f64;
            {
                let s = &__mg_seed;
                let grad_p = &mut __mg_grad0;
                let __mg_g10: f64 = 1f64;
                let mut __mg_g8 = ws.take(7usize);
                ::matgrad::__private::zip_n_to(
                    &mut __mg_g8,
                    false,
                    ::matgrad::__private::view(&__mg_v8).nrows(),
                    ::matgrad::__private::view(&__mg_v8).ncols(),
                    [s.as_slice()],
                    |[__mg_a0]| __mg_g10 * __mg_a0,
                );
                let __mg_g7: f64 = ::matgrad::__private::zip_map_sum(
                    ::matgrad::__private::view(&__mg_g8),
                    ::matgrad::__private::view(t),
                    |__mg_a0, __mg_a1| __mg_a0,
                );
                let __mg_g6: f64 = ::matgrad::__private::zip_map_sum(
                    ::matgrad::__private::view(&__mg_g8),
                    ::matgrad::__private::view(t),
                    |__mg_a0, __mg_a1| {
                        -(__mg_a0 * (__mg_v5 * ((-__mg_v6 * __mg_a1).exp() * __mg_a1)))
                    },
                );
                let __mg_g5: f64 = ::matgrad::__private::zip_map_sum(
                    ::matgrad::__private::view(&__mg_g8),
                    ::matgrad::__private::view(t),
                    |__mg_a0, __mg_a1| __mg_a0 * (-__mg_v6 * __mg_a1).exp(),
                );
                let mut __mg_g0 = ::matgrad::__private::GradBuf::take_matrix(grad_p);
                ::matgrad::__private::index_adjoint_to(
                    &mut __mg_g0,
                    false,
                    __mg_g7,
                    2usize,
                    0usize,
                    ::matgrad::__private::view(p).nrows(),
                    ::matgrad::__private::view(p).ncols(),
                );
                ::matgrad::__private::index_adjoint_to(
                    &mut __mg_g0,
                    true,
                    __mg_g6,
                    1usize,
                    0usize,
                    ::matgrad::__private::view(p).nrows(),
                    ::matgrad::__private::view(p).ncols(),
                );
                ::matgrad::__private::index_adjoint_to(
                    &mut __mg_g0,
                    true,
                    __mg_g5,
                    0usize,
                    0usize,
                    ::matgrad::__private::view(p).nrows(),
                    ::matgrad::__private::view(p).ncols(),
                );
                ::matgrad::__private::GradBuf::put_matrix(grad_p, __mg_g0);
                ws.put(7usize, __mg_g8);
            }
            __mg_seed[__mg_i] = 0f64;
            for (__mg_k, __mg_x) in ::matgrad::__private::view(&__mg_grad0)
                .iter()
                .enumerate()
            {
                jacobian_p[(__mg_i, __mg_k)] = *__mg_x;
            }
        }
        ws.put_extra(0, ::matgrad::__private::GradBuf::take_matrix(&mut __mg_seed));
        ws.put_extra(
            1usize,
            ::matgrad::__private::GradBuf::take_matrix(&mut __mg_grad0),
        );
    }
    ws.put(0usize, __mg_v8);
    ws.put(1usize, __mg_v9);
    ws.put(2usize, __mg_v14);
    ws.put(3usize, __mg_v16);
}

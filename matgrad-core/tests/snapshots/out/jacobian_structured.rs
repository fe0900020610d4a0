/// Structured, decided at expansion: `J = diag(1 − tanh²(X w)) X`, one row scale
/// of `X` (40 tangent sweeps of `X e_k` in forward mode for 40 weights).
pub fn dense(w: &DVector<f64>, x: &DMatrix<f64>, y: &DVector<f64>) -> DVector<f64> {
    (x * w).map(|v| v.tanh()) - y
}
/// The value of [`dense`] and its Jacobian with respect to `w`, derived by `#[jacobian]`: `J[(i, k)] = ∂r_i / ∂vec(x)_k`, one row per residual, the variable's entries in column-major order.
///
/// # Jacobian of `dense` with respect to `w`: structured, formed directly
///
/// Structured, each Jacobian formed directly from the structure of the residuals' tangent (a matrix `A` of `A x`, a row scale `diag(c)` of an entrywise map, a column `c e_kᵀ` of an entry `x[k]`: one pass over `J` per term), chosen by the cost model over forward mode, one tangent sweep per entry of the variables (column k of each Jacobian is the residuals' tangent along the unit direction e_k), and reverse mode, one reverse sweep per residual (row i of each Jacobian is the gradient of ⟨dense, s⟩ at the seed s = e_i), as never dearer for any sizes: structured `w.r x.r + x.c x.r + 3 x.r`, forward `3 w.r x.r + x.c x.r + 2 x.r`, reverse `x.c x.r x.r + w.r x.r + x.c x.r + 2 x.r x.r + 2 x.r` multiply-adds (the values once, then the sweeps; `x.r`, `x.c` the rows and columns of `x`).
///
/// The Jacobians (`diag(c)` scales row i by `cᵢ`, `e_k` is the k-th unit vector):
///
/// - `J_w = diag(1 − tanh(x w)²) x`
///
/// Entry `(i, k)` of the Jacobian of `x` is the derivative of entry i of `dense` with respect to entry k of `x`, in column-major order.
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unused_mut,
    unused_parens,
    unused_variables,
    non_snake_case
)]
pub fn dense_jacobian(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
) -> (DVector<f64>, ::matgrad::__private::DMatrix<f64>) {
    let mut r: DVector<f64> = ::core::default::Default::default();
    let mut jacobian_w: ::matgrad::__private::DMatrix<f64> = ::core::default::Default::default();
    ::std::thread_local! {
        static __MATGRAD_WORKSPACE : ::core::cell::RefCell < ::matgrad::Workspace < f64
        >> = const { ::core::cell::RefCell::new(::matgrad::Workspace::new()) };
    }
    ::matgrad::__private::with_workspace(
        &__MATGRAD_WORKSPACE,
        |ws| {
            dense_jacobian_into(w, x, y, &mut r, &mut jacobian_w, ws);
        },
    );
    (r, jacobian_w)
}
/// [`dense_jacobian`] writing the residuals into `r` and the Jacobians into `jacobian_*` (resized when needed), reusing the buffers of `ws`: after the first call with given shapes it allocates nothing.
///
/// # Jacobian of `dense` with respect to `w`: structured, formed directly
///
/// Structured, each Jacobian formed directly from the structure of the residuals' tangent (a matrix `A` of `A x`, a row scale `diag(c)` of an entrywise map, a column `c e_kᵀ` of an entry `x[k]`: one pass over `J` per term), chosen by the cost model over forward mode, one tangent sweep per entry of the variables (column k of each Jacobian is the residuals' tangent along the unit direction e_k), and reverse mode, one reverse sweep per residual (row i of each Jacobian is the gradient of ⟨dense, s⟩ at the seed s = e_i), as never dearer for any sizes: structured `w.r x.r + x.c x.r + 3 x.r`, forward `3 w.r x.r + x.c x.r + 2 x.r`, reverse `x.c x.r x.r + w.r x.r + x.c x.r + 2 x.r x.r + 2 x.r` multiply-adds (the values once, then the sweeps; `x.r`, `x.c` the rows and columns of `x`).
///
/// The Jacobians (`diag(c)` scales row i by `cᵢ`, `e_k` is the k-th unit vector):
///
/// - `J_w = diag(1 − tanh(x w)²) x`
///
/// Entry `(i, k)` of the Jacobian of `x` is the derivative of entry i of `dense` with respect to entry k of `x`, in column-major order.
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
pub fn dense_jacobian_into(
    w: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DVector<f64>,
    r: &mut DVector<f64>,
    jacobian_w: &mut ::matgrad::__private::DMatrix<f64>,
    ws: &mut ::matgrad::Workspace<f64>,
) {
    #[allow(deprecated)]
    let _ = dense;
    let mut __mg_v5 = ws.take(0usize);
    ::matgrad::__private::mul_to(
        &mut __mg_v5,
        ::matgrad::__private::view(x),
        ::matgrad::__private::view(w),
        "x * w",
    );
    let mut __mg_v6 = ws.take(1usize);
    ::matgrad::__private::map_to(
        &mut __mg_v6,
        ::matgrad::__private::view(&__mg_v5),
        |__mg_x| __mg_x.tanh(),
    );
    let mut __mg_v7 = ws.take(2usize);
    ::matgrad::__private::sub_to(
        &mut __mg_v7,
        ::matgrad::__private::view(&__mg_v6),
        ::matgrad::__private::view(y),
        "(x * w).map(| v | v.tanh()) - y",
    );
    let mut __mg_v11 = ws.take(3usize);
    ::matgrad::__private::map_to(
        &mut __mg_v11,
        ::matgrad::__private::view(&__mg_v6),
        |__mg_x| 1f64 - __mg_x * __mg_x,
    );
    let __mg_m: usize = ::matgrad::__private::view(&__mg_v7).nrows();
    if r.len() != __mg_m {
        *r = <DVector<f64>>::zeros(__mg_m);
    }
    r.copy_from(&::matgrad::__private::view(&__mg_v7).column(0));
    if jacobian_w.shape() != (__mg_m, ::matgrad::__private::view(w).len()) {
        *jacobian_w = ::matgrad::__private::DMatrix::zeros(
            __mg_m,
            ::matgrad::__private::view(w).len(),
        );
    }
    ::matgrad::__private::jac_rows_to(
        jacobian_w,
        false,
        1f64,
        ::core::option::Option::Some(::matgrad::__private::view(&__mg_v11)),
        ::matgrad::__private::view(x),
        "(x * w).map(| v | v.tanh()) - y",
    );
    ws.put(0usize, __mg_v5);
    ws.put(1usize, __mg_v6);
    ws.put(2usize, __mg_v7);
    ws.put(3usize, __mg_v11);
}
/// Structured: a linear residual's Jacobian is its matrix, `J = A`.
pub fn linear(a: &DMatrix<f64>, x: &DVector<f64>, b: &DVector<f64>) -> DVector<f64> {
    a * x - b
}
/// The value of [`linear`] and its Jacobian with respect to `x`, derived by `#[jacobian]`: `J[(i, k)] = ∂r_i / ∂vec(x)_k`, one row per residual, the variable's entries in column-major order.
///
/// # Jacobian of `linear` with respect to `x`: structured, formed directly
///
/// Structured, each Jacobian formed directly from the structure of the residuals' tangent (a matrix `A` of `A x`, a row scale `diag(c)` of an entrywise map, a column `c e_kᵀ` of an entry `x[k]`: one pass over `J` per term), chosen by the cost model over forward mode, one tangent sweep per entry of the variables (column k of each Jacobian is the residuals' tangent along the unit direction e_k), and reverse mode, one reverse sweep per residual (row i of each Jacobian is the gradient of ⟨linear, s⟩ at the seed s = e_i), as never dearer for any sizes: structured `a.c a.r + a.r x.r + a.r`, forward `a.c a.r + 2 a.r x.r + a.r`, reverse `a.c a.r a.r + a.c a.r + a.r a.r + a.r x.r + a.r` multiply-adds (the values once, then the sweeps; `x.r`, `x.c` the rows and columns of `x`).
///
/// The Jacobians (`diag(c)` scales row i by `cᵢ`, `e_k` is the k-th unit vector):
///
/// - `J_x = a`
///
/// Entry `(i, k)` of the Jacobian of `x` is the derivative of entry i of `linear` with respect to entry k of `x`, in column-major order.
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unused_mut,
    unused_parens,
    unused_variables,
    non_snake_case
)]
pub fn linear_jacobian(
    a: &DMatrix<f64>,
    x: &DVector<f64>,
    b: &DVector<f64>,
) -> (DVector<f64>, ::matgrad::__private::DMatrix<f64>) {
    let mut r: DVector<f64> = ::core::default::Default::default();
    let mut jacobian_x: ::matgrad::__private::DMatrix<f64> = ::core::default::Default::default();
    ::std::thread_local! {
        static __MATGRAD_WORKSPACE : ::core::cell::RefCell < ::matgrad::Workspace < f64
        >> = const { ::core::cell::RefCell::new(::matgrad::Workspace::new()) };
    }
    ::matgrad::__private::with_workspace(
        &__MATGRAD_WORKSPACE,
        |ws| {
            linear_jacobian_into(a, x, b, &mut r, &mut jacobian_x, ws);
        },
    );
    (r, jacobian_x)
}
/// [`linear_jacobian`] writing the residuals into `r` and the Jacobians into `jacobian_*` (resized when needed), reusing the buffers of `ws`: after the first call with given shapes it allocates nothing.
///
/// # Jacobian of `linear` with respect to `x`: structured, formed directly
///
/// Structured, each Jacobian formed directly from the structure of the residuals' tangent (a matrix `A` of `A x`, a row scale `diag(c)` of an entrywise map, a column `c e_kᵀ` of an entry `x[k]`: one pass over `J` per term), chosen by the cost model over forward mode, one tangent sweep per entry of the variables (column k of each Jacobian is the residuals' tangent along the unit direction e_k), and reverse mode, one reverse sweep per residual (row i of each Jacobian is the gradient of ⟨linear, s⟩ at the seed s = e_i), as never dearer for any sizes: structured `a.c a.r + a.r x.r + a.r`, forward `a.c a.r + 2 a.r x.r + a.r`, reverse `a.c a.r a.r + a.c a.r + a.r a.r + a.r x.r + a.r` multiply-adds (the values once, then the sweeps; `x.r`, `x.c` the rows and columns of `x`).
///
/// The Jacobians (`diag(c)` scales row i by `cᵢ`, `e_k` is the k-th unit vector):
///
/// - `J_x = a`
///
/// Entry `(i, k)` of the Jacobian of `x` is the derivative of entry i of `linear` with respect to entry k of `x`, in column-major order.
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
pub fn linear_jacobian_into(
    a: &DMatrix<f64>,
    x: &DVector<f64>,
    b: &DVector<f64>,
    r: &mut DVector<f64>,
    jacobian_x: &mut ::matgrad::__private::DMatrix<f64>,
    ws: &mut ::matgrad::Workspace<f64>,
) {
    #[allow(deprecated)]
    let _ = linear;
    let mut __mg_v5 = ws.take(0usize);
    let mut __mg_v6 = ws.take(1usize);
    ::matgrad::__private::mul_add_to(
        &mut __mg_v6,
        &mut __mg_v5,
        ::matgrad::__private::view(a),
        ::matgrad::__private::view(x),
        ::matgrad::__private::view(b),
        true,
        true,
        "a * x",
        "a * x - b",
    );
    let __mg_m: usize = ::matgrad::__private::view(&__mg_v6).nrows();
    if r.len() != __mg_m {
        *r = <DVector<f64>>::zeros(__mg_m);
    }
    r.copy_from(&::matgrad::__private::view(&__mg_v6).column(0));
    if jacobian_x.shape() != (__mg_m, ::matgrad::__private::view(x).len()) {
        *jacobian_x = ::matgrad::__private::DMatrix::zeros(
            __mg_m,
            ::matgrad::__private::view(x).len(),
        );
    }
    ::matgrad::__private::jac_rows_to(
        jacobian_x,
        false,
        1f64,
        ::core::option::Option::None,
        ::matgrad::__private::view(a),
        "a * x - b",
    );
    ws.put(0usize, __mg_v5);
    ws.put(1usize, __mg_v6);
}
/// Structured or reverse mode, chosen at run time: the sum `diag(cos(A x)) A + B`
/// costs two passes over `J`, which the symbols cannot weigh against the reverse
/// sweeps for all sizes.
pub fn sum(a: &DMatrix<f64>, b: &DMatrix<f64>, x: &DVector<f64>) -> DVector<f64> {
    (a * x).map(|v| v.sin()) + b * x
}
/// The value of [`sum`] and its Jacobian with respect to `x`, derived by `#[jacobian]`: `J[(i, k)] = ∂r_i / ∂vec(x)_k`, one row per residual, the variable's entries in column-major order.
///
/// # Jacobian of `sum` with respect to `x`: structured or reverse mode, chosen at run time
///
/// Structured, each Jacobian formed directly from the structure of the residuals' tangent (a matrix `A` of `A x`, a row scale `diag(c)` of an entrywise map, a column `c e_kᵀ` of an entry `x[k]`: one pass over `J` per term), or reverse mode, one reverse sweep per residual (row i of each Jacobian is the gradient of ⟨sum, s⟩ at the seed s = e_i), whichever the cost model finds cheaper at each call's shapes (neither is for all sizes; the structured form is never dearer than forward mode, one tangent sweep per entry of the variables (column k of each Jacobian is the residuals' tangent along the unit direction e_k)): structured `a.c a.r + 2 a.r x.r + b.c b.r + 3 a.r`, forward `a.c a.r + 4 a.r x.r + b.c b.r + b.r x.r + 3 a.r`, reverse `a.c a.r a.r + a.r b.c b.r + a.c a.r + 3 a.r a.r + a.r x.r + b.c b.r + 2 a.r` multiply-adds (the values once, then the sweeps; `x.r`, `x.c` the rows and columns of `x`).
///
/// The Jacobians (`diag(c)` scales row i by `cᵢ`, `e_k` is the k-th unit vector):
///
/// - `J_x = diag(cos(a x)) a + b`
///
/// Reverse: the gradient of `⟨sum, s⟩` with respect to each variable (shaped like it):
///
/// - `J_xᵀ s = bᵀ s + aᵀ (s ⊙ cos(a x))`
///
/// Entry `(i, k)` of the Jacobian of `x` is the derivative of entry i of `sum` with respect to entry k of `x`, in column-major order.
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unused_mut,
    unused_parens,
    unused_variables,
    non_snake_case
)]
pub fn sum_jacobian(
    a: &DMatrix<f64>,
    b: &DMatrix<f64>,
    x: &DVector<f64>,
) -> (DVector<f64>, ::matgrad::__private::DMatrix<f64>) {
    let mut r: DVector<f64> = ::core::default::Default::default();
    let mut jacobian_x: ::matgrad::__private::DMatrix<f64> = ::core::default::Default::default();
    ::std::thread_local! {
        static __MATGRAD_WORKSPACE : ::core::cell::RefCell < ::matgrad::Workspace < f64
        >> = const { ::core::cell::RefCell::new(::matgrad::Workspace::new()) };
    }
    ::matgrad::__private::with_workspace(
        &__MATGRAD_WORKSPACE,
        |ws| {
            sum_jacobian_into(a, b, x, &mut r, &mut jacobian_x, ws);
        },
    );
    (r, jacobian_x)
}
/// [`sum_jacobian`] writing the residuals into `r` and the Jacobians into `jacobian_*` (resized when needed), reusing the buffers of `ws`: after the first call with given shapes it allocates nothing.
///
/// # Jacobian of `sum` with respect to `x`: structured or reverse mode, chosen at run time
///
/// Structured, each Jacobian formed directly from the structure of the residuals' tangent (a matrix `A` of `A x`, a row scale `diag(c)` of an entrywise map, a column `c e_kᵀ` of an entry `x[k]`: one pass over `J` per term), or reverse mode, one reverse sweep per residual (row i of each Jacobian is the gradient of ⟨sum, s⟩ at the seed s = e_i), whichever the cost model finds cheaper at each call's shapes (neither is for all sizes; the structured form is never dearer than forward mode, one tangent sweep per entry of the variables (column k of each Jacobian is the residuals' tangent along the unit direction e_k)): structured `a.c a.r + 2 a.r x.r + b.c b.r + 3 a.r`, forward `a.c a.r + 4 a.r x.r + b.c b.r + b.r x.r + 3 a.r`, reverse `a.c a.r a.r + a.r b.c b.r + a.c a.r + 3 a.r a.r + a.r x.r + b.c b.r + 2 a.r` multiply-adds (the values once, then the sweeps; `x.r`, `x.c` the rows and columns of `x`).
///
/// The Jacobians (`diag(c)` scales row i by `cᵢ`, `e_k` is the k-th unit vector):
///
/// - `J_x = diag(cos(a x)) a + b`
///
/// Reverse: the gradient of `⟨sum, s⟩` with respect to each variable (shaped like it):
///
/// - `J_xᵀ s = bᵀ s + aᵀ (s ⊙ cos(a x))`
///
/// Entry `(i, k)` of the Jacobian of `x` is the derivative of entry i of `sum` with respect to entry k of `x`, in column-major order.
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
pub fn sum_jacobian_into(
    a: &DMatrix<f64>,
    b: &DMatrix<f64>,
    x: &DVector<f64>,
    r: &mut DVector<f64>,
    jacobian_x: &mut ::matgrad::__private::DMatrix<f64>,
    ws: &mut ::matgrad::Workspace<f64>,
) {
    #[allow(deprecated)]
    let _ = sum;
    let mut __mg_v5 = ws.take(0usize);
    ::matgrad::__private::mul_to(
        &mut __mg_v5,
        ::matgrad::__private::view(a),
        ::matgrad::__private::view(x),
        "a * x",
    );
    let mut __mg_v6 = ws.take(1usize);
    ::matgrad::__private::map_to(
        &mut __mg_v6,
        ::matgrad::__private::view(&__mg_v5),
        |__mg_x| __mg_x.sin(),
    );
    let mut __mg_v7 = ws.take(2usize);
    let mut __mg_v8 = ws.take(3usize);
    ::matgrad::__private::mul_add_to(
        &mut __mg_v8,
        &mut __mg_v7,
        ::matgrad::__private::view(b),
        ::matgrad::__private::view(x),
        ::matgrad::__private::view(&__mg_v6),
        false,
        false,
        "b * x",
        "(a * x).map(| v | v.sin()) + b * x",
    );
    let mut __mg_v11 = ws.take(4usize);
    ::matgrad::__private::map_to(
        &mut __mg_v11,
        ::matgrad::__private::view(&__mg_v5),
        |__mg_x| __mg_x.cos(),
    );
    let __mg_m: usize = ::matgrad::__private::view(&__mg_v8).nrows();
    if r.len() != __mg_m {
        *r = <DVector<f64>>::zeros(__mg_m);
    }
    r.copy_from(&::matgrad::__private::view(&__mg_v8).column(0));
    if jacobian_x.shape() != (__mg_m, ::matgrad::__private::view(x).len()) {
        *jacobian_x = ::matgrad::__private::DMatrix::zeros(
            __mg_m,
            ::matgrad::__private::view(x).len(),
        );
    }
    if (((::matgrad::__private::view(a).ncols() as f64)
        * (::matgrad::__private::view(a).nrows() as f64)
        + 3f64 * (::matgrad::__private::view(a).nrows() as f64)
        + 2f64 * (::matgrad::__private::view(a).nrows() as f64)
            * (::matgrad::__private::view(x).nrows() as f64)
        + (::matgrad::__private::view(b).ncols() as f64)
            * (::matgrad::__private::view(b).nrows() as f64)))
        <= (((::matgrad::__private::view(a).ncols() as f64)
            * (::matgrad::__private::view(a).nrows() as f64)
            + (::matgrad::__private::view(a).ncols() as f64)
                * (::matgrad::__private::view(a).nrows() as f64)
                * (::matgrad::__private::view(a).nrows() as f64)
            + 2f64 * (::matgrad::__private::view(a).nrows() as f64)
            + 3f64 * (::matgrad::__private::view(a).nrows() as f64)
                * (::matgrad::__private::view(a).nrows() as f64)
            + (::matgrad::__private::view(a).nrows() as f64)
                * (::matgrad::__private::view(b).ncols() as f64)
                * (::matgrad::__private::view(b).nrows() as f64)
            + (::matgrad::__private::view(a).nrows() as f64)
                * (::matgrad::__private::view(x).nrows() as f64)
            + (::matgrad::__private::view(b).ncols() as f64)
                * (::matgrad::__private::view(b).nrows() as f64)))
    {
        ::matgrad::__private::jac_rows_to(
            jacobian_x,
            false,
            1f64,
            ::core::option::Option::Some(::matgrad::__private::view(&__mg_v11)),
            ::matgrad::__private::view(a),
            "(a * x).map(| v | v.sin()) + b * x",
        );
        ::matgrad::__private::jac_rows_to(
            jacobian_x,
            true,
            1f64,
            ::core::option::Option::None,
            ::matgrad::__private::view(b),
            "(a * x).map(| v | v.sin()) + b * x",
        );
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
                let grad_x = &mut __mg_grad0;
                let __mg_g9: f64 = 1f64;
                let mut __mg_g5 = ws.take(5usize);
                ::matgrad::__private::zip_n_to(
                    &mut __mg_g5,
                    false,
                    ::matgrad::__private::view(&__mg_v5).nrows(),
                    ::matgrad::__private::view(&__mg_v5).ncols(),
                    [s.as_slice(), __mg_v5.as_slice()],
                    |[__mg_a0, __mg_a1]| __mg_g9 * __mg_a0 * __mg_a1.cos(),
                );
                let mut __mg_g2 = ::matgrad::__private::GradBuf::take_matrix(grad_x);
                ::matgrad::__private::gemm_to(
                    &mut __mg_g2,
                    false,
                    __mg_g9,
                    ::matgrad::__private::view(b),
                    true,
                    ::matgrad::__private::view(s),
                    false,
                );
                ::matgrad::__private::gemm_to(
                    &mut __mg_g2,
                    true,
                    1f64,
                    ::matgrad::__private::view(a),
                    true,
                    ::matgrad::__private::view(&__mg_g5),
                    false,
                );
                ::matgrad::__private::GradBuf::put_matrix(grad_x, __mg_g2);
                ws.put(5usize, __mg_g5);
            }
            __mg_seed[__mg_i] = 0f64;
            for (__mg_k, __mg_x) in ::matgrad::__private::view(&__mg_grad0)
                .iter()
                .enumerate()
            {
                jacobian_x[(__mg_i, __mg_k)] = *__mg_x;
            }
        }
        ws.put_extra(0, ::matgrad::__private::GradBuf::take_matrix(&mut __mg_seed));
        ws.put_extra(
            1usize,
            ::matgrad::__private::GradBuf::take_matrix(&mut __mg_grad0),
        );
    }
    ws.put(0usize, __mg_v5);
    ws.put(1usize, __mg_v6);
    ws.put(2usize, __mg_v7);
    ws.put(3usize, __mg_v8);
    ws.put(4usize, __mg_v11);
}
/// Not structured (`A diag(tanh′(w))` has the tangent on the right of a row scale):
/// forward or reverse mode at run time; each forward sweep evaluates its last map
/// straight into column k of `J`.
pub fn inner(w: &DVector<f64>, a: &DMatrix<f64>) -> DVector<f64> {
    (a * w.map(|v| v.tanh())).map(|v| v.sin())
}
/// The value of [`inner`] and its Jacobian with respect to `w`, derived by `#[jacobian]`: `J[(i, k)] = ∂r_i / ∂vec(x)_k`, one row per residual, the variable's entries in column-major order.
///
/// # Jacobian of `inner` with respect to `w`: forward or reverse mode, chosen at run time
///
/// Forward mode, one tangent sweep per entry of the variables (column k of each Jacobian is the residuals' tangent along the unit direction e_k), or reverse mode, one reverse sweep per residual (row i of each Jacobian is the gradient of ⟨inner, s⟩ at the seed s = e_i), whichever the cost model finds cheaper at each call's shapes (neither is for all sizes): forward `a.c a.r w.r + a.c a.r + 2 a.r w.r + w.r w.r + 2 a.r + w.r`, reverse `a.c a.r a.r + a.c a.r + 2 a.r a.r + 2 a.r w.r + a.r + w.r` multiply-adds (the values once, then the sweeps; `x.r`, `x.c` the rows and columns of `x`).
///
/// Forward: the tangent of `inner` along the direction of each variable:
///
/// - `J_w v_w = cos(a tanh(w)) ⊙ a ((1 − tanh(w)²) ⊙ v_w)`
///
/// Reverse: the gradient of `⟨inner, s⟩` with respect to each variable (shaped like it):
///
/// - `J_wᵀ s = aᵀ (s ⊙ cos(a tanh(w))) ⊙ (1 − tanh(w)²)`
///
/// Entry `(i, k)` of the Jacobian of `x` is the derivative of entry i of `inner` with respect to entry k of `x`, in column-major order.
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    unused_mut,
    unused_parens,
    unused_variables,
    non_snake_case
)]
pub fn inner_jacobian(
    w: &DVector<f64>,
    a: &DMatrix<f64>,
) -> (DVector<f64>, ::matgrad::__private::DMatrix<f64>) {
    let mut r: DVector<f64> = ::core::default::Default::default();
    let mut jacobian_w: ::matgrad::__private::DMatrix<f64> = ::core::default::Default::default();
    ::std::thread_local! {
        static __MATGRAD_WORKSPACE : ::core::cell::RefCell < ::matgrad::Workspace < f64
        >> = const { ::core::cell::RefCell::new(::matgrad::Workspace::new()) };
    }
    ::matgrad::__private::with_workspace(
        &__MATGRAD_WORKSPACE,
        |ws| {
            inner_jacobian_into(w, a, &mut r, &mut jacobian_w, ws);
        },
    );
    (r, jacobian_w)
}
/// [`inner_jacobian`] writing the residuals into `r` and the Jacobians into `jacobian_*` (resized when needed), reusing the buffers of `ws`: after the first call with given shapes it allocates nothing.
///
/// # Jacobian of `inner` with respect to `w`: forward or reverse mode, chosen at run time
///
/// Forward mode, one tangent sweep per entry of the variables (column k of each Jacobian is the residuals' tangent along the unit direction e_k), or reverse mode, one reverse sweep per residual (row i of each Jacobian is the gradient of ⟨inner, s⟩ at the seed s = e_i), whichever the cost model finds cheaper at each call's shapes (neither is for all sizes): forward `a.c a.r w.r + a.c a.r + 2 a.r w.r + w.r w.r + 2 a.r + w.r`, reverse `a.c a.r a.r + a.c a.r + 2 a.r a.r + 2 a.r w.r + a.r + w.r` multiply-adds (the values once, then the sweeps; `x.r`, `x.c` the rows and columns of `x`).
///
/// Forward: the tangent of `inner` along the direction of each variable:
///
/// - `J_w v_w = cos(a tanh(w)) ⊙ a ((1 − tanh(w)²) ⊙ v_w)`
///
/// Reverse: the gradient of `⟨inner, s⟩` with respect to each variable (shaped like it):
///
/// - `J_wᵀ s = aᵀ (s ⊙ cos(a tanh(w))) ⊙ (1 − tanh(w)²)`
///
/// Entry `(i, k)` of the Jacobian of `x` is the derivative of entry i of `inner` with respect to entry k of `x`, in column-major order.
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
pub fn inner_jacobian_into(
    w: &DVector<f64>,
    a: &DMatrix<f64>,
    r: &mut DVector<f64>,
    jacobian_w: &mut ::matgrad::__private::DMatrix<f64>,
    ws: &mut ::matgrad::Workspace<f64>,
) {
    #[allow(deprecated)]
    let _ = inner;
    let mut __mg_v4 = ws.take(0usize);
    ::matgrad::__private::map_to(
        &mut __mg_v4,
        ::matgrad::__private::view(w),
        |__mg_x| __mg_x.tanh(),
    );
    let mut __mg_v5 = ws.take(1usize);
    ::matgrad::__private::mul_to(
        &mut __mg_v5,
        ::matgrad::__private::view(a),
        ::matgrad::__private::view(&__mg_v4),
        "a * w.map(| v | v.tanh())",
    );
    let mut __mg_v6 = ws.take(2usize);
    ::matgrad::__private::map_to(
        &mut __mg_v6,
        ::matgrad::__private::view(&__mg_v5),
        |__mg_x| __mg_x.sin(),
    );
    let mut __mg_v10 = ws.take(3usize);
    ::matgrad::__private::map_to(
        &mut __mg_v10,
        ::matgrad::__private::view(&__mg_v5),
        |__mg_x| __mg_x.cos(),
    );
    let __mg_m: usize = ::matgrad::__private::view(&__mg_v6).nrows();
    if r.len() != __mg_m {
        *r = <DVector<f64>>::zeros(__mg_m);
    }
    r.copy_from(&::matgrad::__private::view(&__mg_v6).column(0));
    if jacobian_w.shape() != (__mg_m, ::matgrad::__private::view(w).len()) {
        *jacobian_w = ::matgrad::__private::DMatrix::zeros(
            __mg_m,
            ::matgrad::__private::view(w).len(),
        );
    }
    if (((::matgrad::__private::view(a).ncols() as f64)
        * (::matgrad::__private::view(a).nrows() as f64)
        + (::matgrad::__private::view(a).ncols() as f64)
            * (::matgrad::__private::view(a).nrows() as f64)
            * (::matgrad::__private::view(w).nrows() as f64)
        + 2f64 * (::matgrad::__private::view(a).nrows() as f64)
        + 2f64 * (::matgrad::__private::view(a).nrows() as f64)
            * (::matgrad::__private::view(w).nrows() as f64)
        + (::matgrad::__private::view(w).nrows() as f64)
        + (::matgrad::__private::view(w).nrows() as f64)
            * (::matgrad::__private::view(w).nrows() as f64)))
        <= (((::matgrad::__private::view(a).ncols() as f64)
            * (::matgrad::__private::view(a).nrows() as f64)
            + (::matgrad::__private::view(a).ncols() as f64)
                * (::matgrad::__private::view(a).nrows() as f64)
                * (::matgrad::__private::view(a).nrows() as f64)
            + (::matgrad::__private::view(a).nrows() as f64)
            + 2f64 * (::matgrad::__private::view(a).nrows() as f64)
                * (::matgrad::__private::view(a).nrows() as f64)
            + 2f64 * (::matgrad::__private::view(a).nrows() as f64)
                * (::matgrad::__private::view(w).nrows() as f64)
            + (::matgrad::__private::view(w).nrows() as f64)))
    {
        let mut __mg_dir0: DVector<f64> = ::core::default::Default::default();
        {
            let __mg_kept = ws.take_extra(2usize);
            if __mg_kept.shape() == ::matgrad::__private::view(w).shape() {
                ::matgrad::__private::GradBuf::put_matrix(&mut __mg_dir0, __mg_kept);
                __mg_dir0.fill(0f64);
            } else {
                __mg_dir0 = w.map(|_| 0f64);
            }
        }
        for __mg_k in 0..__mg_dir0.len() {
            __mg_dir0[__mg_k] = 1f64;
            {
                let v_w = &__mg_dir0;
                let mut __mg_v8 = ws.take(4usize);
                ::matgrad::__private::zip_map_to(
                    &mut __mg_v8,
                    false,
                    ::matgrad::__private::view(&__mg_v4),
                    ::matgrad::__private::view(v_w),
                    |__mg_a0, __mg_a1| (1f64 - __mg_a0 * __mg_a0) * __mg_a1,
                );
                let mut __mg_v9 = ws.take(5usize);
                ::matgrad::__private::mul_to(
                    &mut __mg_v9,
                    ::matgrad::__private::view(a),
                    ::matgrad::__private::view(&__mg_v8),
                    "a * w.map(| v | v.tanh())",
                );
                ::matgrad::__private::jac_column_zip_to(
                    jacobian_w,
                    false,
                    __mg_k,
                    1f64,
                    ::matgrad::__private::view(&__mg_v10),
                    ::matgrad::__private::view(&__mg_v9),
                    |__mg_a0, __mg_a1| __mg_a0 * __mg_a1,
                    "(a * w.map(| v | v.tanh())).map(| v | v.sin())",
                );
                ws.put(4usize, __mg_v8);
                ws.put(5usize, __mg_v9);
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
                let grad_w = &mut __mg_grad0;
                let __mg_g7: f64 = 1f64;
                let mut __mg_g5 = ws.take(6usize);
                ::matgrad::__private::zip_n_to(
                    &mut __mg_g5,
                    false,
                    ::matgrad::__private::view(&__mg_v5).nrows(),
                    ::matgrad::__private::view(&__mg_v5).ncols(),
                    [s.as_slice(), __mg_v5.as_slice()],
                    |[__mg_a0, __mg_a1]| __mg_g7 * __mg_a0 * __mg_a1.cos(),
                );
                let mut __mg_g4 = ws.take(7usize);
                ::matgrad::__private::gemm_to(
                    &mut __mg_g4,
                    false,
                    1f64,
                    ::matgrad::__private::view(a),
                    true,
                    ::matgrad::__private::view(&__mg_g5),
                    false,
                );
                let mut __mg_g0 = ::matgrad::__private::GradBuf::take_matrix(grad_w);
                ::matgrad::__private::zip_n_to(
                    &mut __mg_g0,
                    false,
                    ::matgrad::__private::view(w).nrows(),
                    ::matgrad::__private::view(w).ncols(),
                    [__mg_g4.as_slice(), __mg_v4.as_slice()],
                    |[__mg_a0, __mg_a1]| __mg_a0 * (1f64 - __mg_a1 * __mg_a1),
                );
                ::matgrad::__private::GradBuf::put_matrix(grad_w, __mg_g0);
                ws.put(6usize, __mg_g5);
                ws.put(7usize, __mg_g4);
            }
            __mg_seed[__mg_i] = 0f64;
            for (__mg_k, __mg_x) in ::matgrad::__private::view(&__mg_grad0)
                .iter()
                .enumerate()
            {
                jacobian_w[(__mg_i, __mg_k)] = *__mg_x;
            }
        }
        ws.put_extra(0, ::matgrad::__private::GradBuf::take_matrix(&mut __mg_seed));
        ws.put_extra(
            1usize,
            ::matgrad::__private::GradBuf::take_matrix(&mut __mg_grad0),
        );
    }
    ws.put(0usize, __mg_v4);
    ws.put(1usize, __mg_v5);
    ws.put(2usize, __mg_v6);
    ws.put(3usize, __mg_v10);
}

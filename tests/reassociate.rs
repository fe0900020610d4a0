//! Value rewrites. Without options, `(p * q).trace()` is computed from the product's
//! diagonal only, with the very bits of the product and the trace (checked here at
//! sizes that take the blocked kernel and several depth chunks). With
//! `#[grad(wrt = …, reassociate)]` the value may be computed in another order (a
//! chain of any length in its cheapest association, a sum of products as `𝟙ᵀ ⋯ 𝟙`,
//! a trace linear in the variable as an inner product), so it agrees with the
//! original to rounding, not bit for bit; the gradients agree with those of the same
//! function without the option to 1e-12, and those are checked against finite
//! differences here too. Shapes include 1×1, non-square, and chains of three and
//! four whose cheapest order is each of their associations. An inverse used only in
//! products is computed by solves with one LU factorisation (`crate::solve` of
//! matgrad-core): checked against finite differences directly, in f64 and f32.

// The nalgebra matgrad is built with: the dependency `nalgebra` (0.35, the default)
// or, under `--no-default-features --features nalgebra_v0_34`, the renamed 0.34.
#[cfg(not(feature = "nalgebra_v0_35"))]
extern crate nalgebra_0_34 as nalgebra;

mod common;

use common::{
    assert_close, dominant, finite_differences, gradcheck, mat, mixed_error, rng, spd, uniform,
    vector, Float, Point, Split,
};
use matgrad::{grad, ln_det, Workspace};
use nalgebra::{DMatrix, DVector};

/// `gradcheck!` is only called on the functions without `reassociate`: their value is
/// the original's, bit for bit.
const VALUE: common::Value = common::Value::Exact;

/// `|a − b| ≤ 1e-12 · max(1, |b|)`.
fn assert_value(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
        "{what}: {got} vs {want}"
    );
}

/// Defines `$plain` as written and `$fast` with `reassociate`, over the same body.
macro_rules! twins {
    ($plain:ident, $fast:ident, wrt = $wrt:tt, ($($p:ident: $t:ty),*) $body:block) => {
        #[grad(wrt = $wrt)]
        fn $plain($($p: $t),*) -> f64 $body

        // Only its companions are called.
        #[allow(dead_code)]
        #[grad(wrt = $wrt, reassociate)]
        fn $fast($($p: $t),*) -> f64 $body
    };
}

twins!(trace_axb, trace_axb_fast, wrt = (a, x), (a: &DMatrix<f64>, x: &DMatrix<f64>, b: &DMatrix<f64>) {
    (a * x * b).trace() + 0.5 * (x * b).trace()
});

#[test]
fn traces_of_products() {
    let (r, mut ws) = (&mut rng(901), Workspace::new());
    for (m, n) in [(1, 1), (2, 3), (4, 2), (5, 5)] {
        let b = mat(r, n, m);
        let (ga, (gx, ())) = gradcheck!(&mut ws; trace_axb, trace_axb_grad, trace_axb_grad_into;
            (&a, &x, &b); a = mat(r, m, m), x = mat(r, m, n));
        let a = mat(r, m, m);
        let x = mat(r, m, n);
        let (v, fa, fx) = trace_axb_fast_grad(&a, &x, &b);
        let (w, pa, px) = trace_axb_grad(&a, &x, &b);
        assert_value("tr value", v, trace_axb(&a, &x, &b));
        assert_value("tr value", v, w);
        assert_close("∂/∂a", &fa, &pa, 1e-12);
        assert_close("∂/∂x", &fx, &px, 1e-12);
        assert_eq!((ga.shape(), gx.shape()), ((m, m), (m, n)));
    }
}

twins!(trace_x, trace_x_fast, wrt = x, (a: &DMatrix<f64>, x: &DMatrix<f64>, b: &DMatrix<f64>) {
    // The first two are isolated as ⟨x, (b a)ᵀ⟩ (x on the left and on the right of a
    // product); the last is folded to Σ x ⊙ bᵀ.
    (a * x * b).trace() - 2.0 * (a * (x * b)).trace() + (x * b).trace()
});

#[test]
fn traces_linear_in_the_variable() {
    let (r, mut ws) = (&mut rng(903), Workspace::new());
    // a m×m, x m×n, b n×m (the last trace needs x b square)
    for (m, n) in [(1, 1), (3, 2), (2, 4), (5, 5)] {
        let (a, b) = (mat(r, m, m), mat(r, n, m));
        gradcheck!(&mut ws; trace_x, trace_x_grad, trace_x_grad_into; (&a, &x, &b); x = mat(r, m, n));
        let x = mat(r, m, n);
        let (v, fx) = trace_x_fast_grad(&a, &x, &b);
        let (w, px) = trace_x_grad(&a, &x, &b);
        assert_value("tr value", v, trace_x(&a, &x, &b));
        assert_value("tr value", v, w);
        assert_close("∂/∂x", &fx, &px, 1e-12);
    }
}

twins!(chain, chain_fast, wrt = (a, b), (a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>, v: &DVector<f64>) {
    (a * b * c).norm_squared() + (a * (b * v)).sum()
});

#[test]
fn chains_in_either_order() {
    let (r, mut ws) = (&mut rng(902), Workspace::new());
    // (m, k, n, p): a m×k, b k×n, c n×p; p = 1 makes `a (b c)` cheaper, a large p and
    // small m `(a b) c`.
    for (m, k, n, p) in [
        (1, 1, 1, 1),
        (4, 5, 6, 1),
        (1, 6, 5, 30),
        (3, 2, 4, 2),
        (6, 6, 6, 6),
    ] {
        let (c, v) = (mat(r, n, p), vector(r, n));
        gradcheck!(&mut ws; chain, chain_grad, chain_grad_into;
            (&a, &b, &c, &v); a = mat(r, m, k), b = mat(r, k, n));
        let (a, b) = (mat(r, m, k), mat(r, k, n));
        let (x, fa, fb) = chain_fast_grad(&a, &b, &c, &v);
        let (y, pa, pb) = chain_grad(&a, &b, &c, &v);
        assert_value("chain value", x, chain(&a, &b, &c, &v));
        assert_value("chain value", x, y);
        assert_close("∂/∂a", &fa, &pa, 1e-12);
        assert_close("∂/∂b", &fb, &pb, 1e-12);
        // The zero-allocation entry point agrees.
        let (mut ga, mut gb, mut ws2) =
            (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0), Workspace::new());
        let z = chain_fast_grad_into(&a, &b, &c, &v, &mut ga, &mut gb, &mut ws2);
        assert_eq!((z.to_bits(), &ga, &gb), (x.to_bits(), &fa, &fb));
    }
}

#[test]
#[should_panic = "matgrad: (a * x * b).trace(): cannot multiply 2×3 by 2×2"]
fn a_folded_trace_panics_as_the_product_would() {
    let _ = trace_axb_fast_grad(
        &DMatrix::zeros(2, 2),
        &DMatrix::zeros(2, 3),
        &DMatrix::zeros(2, 2),
    );
}

#[test]
#[should_panic = "matgrad: a * b * c: cannot multiply 2×3 by 4×1"]
fn a_chain_panics_as_the_products_would() {
    let _ = chain_fast_grad(
        &DMatrix::zeros(2, 2),
        &DMatrix::zeros(2, 3),
        &DMatrix::zeros(4, 1),
        &DVector::zeros(3),
    );
}

#[grad(wrt = x)]
fn ln_det_trace(x: &DMatrix<f64>, s: &DMatrix<f64>) -> f64 {
    ln_det(x) - (s * x).trace()
}

#[grad(wrt = x)]
fn trace_of_chain(a: &DMatrix<f64>, x: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (a * x * b).trace()
}

#[test]
fn folded_traces_keep_the_bits() {
    let r = &mut rng(904);
    for n in [3, 6, 64, 300] {
        let m = mat(r, n, n);
        let x = &m * m.transpose() / n as f64 + DMatrix::identity(n, n);
        let s = mat(r, n, n);
        let (v, g) = ln_det_trace_grad(&x, &s);
        assert_eq!(v.to_bits(), ln_det_trace(&x, &s).to_bits(), "n = {n}");
        let want = x.clone().try_inverse().expect("SPD").transpose() - s.transpose();
        assert_close("∂/∂x", &g, &want, 1e-9);
    }
    // Rectangular factors, a depth beyond one chunk (256).
    for (m, k) in [(2, 3), (7, 300), (40, 520)] {
        let (a, x, b) = (mat(r, m, k), mat(r, k, m + 1), mat(r, m + 1, m));
        let (v, g) = trace_of_chain_grad(&a, &x, &b);
        assert_eq!(v.to_bits(), trace_of_chain(&a, &x, &b).to_bits(), "{m}×{k}");
        assert_close("∂/∂x", &g, &(a.transpose() * b.transpose()), 1e-12);
    }
}

twins!(chain4, chain4_fast, wrt = (a, b, c, d), (a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>, d: &DMatrix<f64>) {
    // Two spellings of one chain of four: each is one `chain` node under `reassociate`.
    (a * b * c * d).sum() + 0.5 * (a * ((b * c) * d)).norm_squared()
});

#[test]
fn chains_of_four_in_every_association() {
    let (r, mut ws) = (&mut rng(905), Workspace::new());
    // Dimensions (d0, …, d4): factor i is d_i × d_{i+1}. Each makes another of the
    // five associations the cheapest; 1s make vectors, rows and 1×1 factors.
    for d in [
        [1, 1, 1, 1, 1],
        [30, 2, 30, 2, 30],
        [2, 30, 2, 30, 2],
        [1, 7, 7, 7, 1],
        [7, 7, 7, 7, 1],
        [1, 7, 7, 7, 7],
        [5, 1, 6, 1, 4],
        [3, 4, 5, 6, 2],
    ] {
        let dims = |i: usize| (d[i], d[i + 1]);
        gradcheck!(&mut ws; chain4, chain4_grad, chain4_grad_into; (&a, &b, &c, &e);
            a = mat(r, dims(0).0, dims(0).1), b = mat(r, dims(1).0, dims(1).1),
            c = mat(r, dims(2).0, dims(2).1), e = mat(r, dims(3).0, dims(3).1));
        let [a, b, c, e] = [0, 1, 2, 3].map(|i| mat(r, dims(i).0, dims(i).1));
        let (x, fa, fb, fc, fd) = chain4_fast_grad(&a, &b, &c, &e);
        let (y, pa, pb, pc, pd) = chain4_grad(&a, &b, &c, &e);
        assert_value("chain value", x, chain4(&a, &b, &c, &e));
        assert_value("chain value", x, y);
        for (what, f, p) in [
            ("a", &fa, &pa),
            ("b", &fb, &pb),
            ("c", &fc, &pc),
            ("d", &fd, &pd),
        ] {
            assert_close(&format!("{d:?}: ∂/∂{what}"), f, p, 1e-12);
        }
        let mut g = [0; 4].map(|_| DMatrix::zeros(0, 0));
        let [ga, gb, gc, gd] = &mut g;
        let mut ws2 = Workspace::new();
        for _ in 0..2 {
            let z = chain4_fast_grad_into(&a, &b, &c, &e, ga, gb, gc, gd, &mut ws2);
            assert_eq!(z.to_bits(), x.to_bits());
        }
        assert_eq!([&g[0], &g[1], &g[2], &g[3]], [&fa, &fb, &fc, &fd]);
    }
}

twins!(quadratic, quadratic_fast, wrt = (x, a), (x: &DVector<f64>, a: &DMatrix<f64>, b: &DMatrix<f64>) {
    // xᵀ a b x, and a chain of five with a factor twice (a and aᵀ).
    (x.transpose() * a * b * x)[(0, 0)] + (a * b * a.transpose() * b * x).norm_squared()
});

#[test]
fn chains_with_vectors_and_repeated_factors() {
    let (r, mut ws) = (&mut rng(906), Workspace::new());
    for n in [1, 2, 5, 12] {
        let b = mat(r, n, n);
        gradcheck!(&mut ws; quadratic, quadratic_grad, quadratic_grad_into; (&x, &a, &b);
            x = vector(r, n), a = mat(r, n, n));
        let (x, a) = (vector(r, n), mat(r, n, n));
        let (v, fx, fa) = quadratic_fast_grad(&x, &a, &b);
        let (w, px, pa) = quadratic_grad(&x, &a, &b);
        assert_value("quadratic value", v, quadratic(&x, &a, &b));
        assert_value("quadratic value", v, w);
        assert_close("∂/∂x", &fx, &px, 1e-12);
        assert_close("∂/∂a", &fa, &pa, 1e-12);
    }
}

#[test]
#[should_panic = "matgrad: a * b * c * d: cannot multiply 2×3 by 4×2"]
fn a_long_chain_panics_as_the_products_would() {
    let _ = chain4_fast_grad(
        &DMatrix::zeros(2, 2),
        &DMatrix::zeros(2, 3),
        &DMatrix::zeros(4, 2),
        &DMatrix::zeros(2, 2),
    );
}

twins!(static_chain, static_chain_fast, wrt = (m, v), (m: &nalgebra::Matrix3<f64>, n: &nalgebra::Matrix3x2<f64>, v: &nalgebra::Vector2<f64>) {
    // Static sizes: the association is chosen at expansion.
    (v.transpose() * n.transpose() * m * n * v)[(0, 0)] + (m * m.transpose() * n * v).norm_squared()
});

#[test]
fn static_chains() {
    let (r, mut ws) = (&mut rng(907), Workspace::new());
    for _ in 0..4 {
        let n = nalgebra::Matrix3x2::from_fn(|_, _| uniform(r, -1.0, 1.0));
        gradcheck!(&mut ws; static_chain, static_chain_grad, static_chain_grad_into; (&m, &n, &v);
            m = nalgebra::Matrix3::from_fn(|_, _| uniform(r, -1.0, 1.0)), v = nalgebra::Vector2::from_fn(|_, _| uniform(r, -1.0, 1.0)));
        let (m, v) = (
            nalgebra::Matrix3::from_fn(|_, _| uniform(r, -1.0, 1.0)),
            nalgebra::Vector2::from_fn(|_, _| uniform(r, -1.0, 1.0)),
        );
        let (x, fm, fv) = static_chain_fast_grad(&m, &n, &v);
        let (y, pm, pv) = static_chain_grad(&m, &n, &v);
        assert_value("static value", x, static_chain(&m, &n, &v));
        assert_value("static value", x, y);
        assert!((fm - pm).norm() <= 1e-12 * pm.norm(), "∂/∂m");
        assert!((fv - pv).norm() <= 1e-12 * pv.norm(), "∂/∂v");
    }
}

// ---------------------------------------------------------------------------
// An inverse used only in products: solves with one LU factorisation
// ---------------------------------------------------------------------------

/// Checks `grad` (a `reassociate` companion, whose value is `f`'s up to rounding)
/// at `x`: the value to `value_tol` (mixed error), each gradient entry against
/// central finite differences of `f` as [`gradcheck!`] does (`1e-6` in f64, `2e-2`
/// plus the rounding allowance in f32). Returns the gradients.
fn fd_check<P: Point, G: Split<P, V = P::E>>(
    name: &str,
    x: &P,
    f: impl Fn(&P) -> P::E,
    grad: impl Fn(&P) -> G,
    value_tol: f64,
) -> P {
    let (value, g) = grad(x).split();
    let want = f(x).to_f64();
    let e = mixed_error(value.to_f64(), want);
    assert!(e <= value_tol, "{name}: value {value:?} vs {want} ({e:e})");
    for k in 0..x.vars().len() {
        let fd = finite_differences(x, &f, k);
        let gk = g.vars()[k];
        assert_eq!(
            gk.shape(),
            x.vars()[k].shape(),
            "{name}: shape of gradient {k}"
        );
        for (i, &(d, slack)) in fd.iter().enumerate() {
            let allowed = <P::E as Float>::FD_TOL * d.abs().max(1.0) + slack;
            let got = gk.get(i);
            assert!(
                (got - d).abs() <= allowed,
                "{name}: gradient {k}, entry {i}: {got:e} vs finite differences {d:e}"
            );
        }
    }
    g
}

twins!(inv_b, inv_b_fast, wrt = (x, b), (x: &DMatrix<f64>, b: &DMatrix<f64>) {
    (x.clone().try_inverse().unwrap() * b).norm_squared()
});

twins!(b_inv, b_inv_fast, wrt = (x, b), (x: &DMatrix<f64>, b: &DMatrix<f64>) {
    let y = b * x.clone().try_inverse().expect("x is invertible");
    y.norm_squared() + y.sum()
});

twins!(gaussian_nll, gaussian_nll_fast, wrt = (s, v), (s: &DMatrix<f64>, v: &DVector<f64>) {
    ln_det(s) + (v.transpose() * s.clone().try_inverse().unwrap() * v)[(0, 0)]
});

twins!(shared_inverse, shared_inverse_fast, wrt = (x, a, b), (x: &DMatrix<f64>, a: &DMatrix<f64>, b: &DMatrix<f64>) {
    // One factorisation for the three products (the second spelling too).
    let xi = x.clone().try_inverse().unwrap();
    (&xi * a).norm_squared() + (b * &xi).sum() + (x.clone().try_inverse().unwrap() * a).sum()
});

/// `|fast − plain| ≤ tol · max(1, |plain|)` entrywise, and the values alike.
fn same_as_plain<V: common::Var>(what: &str, fast: &V, plain: &V, tol: f64) {
    assert_close(what, fast, plain, tol);
}

#[test]
fn an_inverse_in_products_is_solved() {
    let r = &mut rng(905);
    // (n, k): x n×n, b n×k (k×n for b x⁻¹); 1×1, vectors, non-square.
    for (n, k) in [(1, 1), (2, 1), (3, 5), (5, 2), (6, 6)] {
        let (x, b) = (dominant(r, n), mat(r, n, k));
        fd_check(
            "inv_b_fast",
            &(x.clone(), (b.clone(), ())),
            |(x, (b, ()))| inv_b(x, b),
            |(x, (b, ()))| inv_b_fast_grad(x, b),
            1e-12,
        );
        let bt = b.transpose();
        fd_check(
            "b_inv_fast",
            &(x.clone(), (bt.clone(), ())),
            |(x, (b, ()))| b_inv(x, b),
            |(x, (b, ()))| b_inv_fast_grad(x, b),
            1e-12,
        );
        // The `_grad_into` companion: the same bits, and again on a used workspace.
        let (v, gx, gb) = inv_b_fast_grad(&x, &b);
        let (mut ox, mut ob, mut ws) =
            (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0), Workspace::new());
        for _ in 0..2 {
            let w = inv_b_fast_grad_into(&x, &b, &mut ox, &mut ob, &mut ws);
            assert_eq!((w.to_bits(), &ox, &ob), (v.to_bits(), &gx, &gb));
        }
    }
}

#[test]
fn gaussian_negative_log_likelihood() {
    let (r, mut ws) = (&mut rng(906), Workspace::new());
    for n in [1, 2, 4, 7] {
        let (s, v) = (spd(r, n), vector(r, n));
        gradcheck!(&mut ws; gaussian_nll, gaussian_nll_grad, gaussian_nll_grad_into;
            (&s, &v); s = s.clone(), v = v.clone());
        let (gs, (gv, ())) = fd_check(
            "gaussian_nll_fast",
            &(s.clone(), (v.clone(), ())),
            |(s, (v, ()))| gaussian_nll(s, v),
            |(s, (v, ()))| gaussian_nll_fast_grad(s, v),
            1e-12,
        );
        // The closed form: s⁻ᵀ − s⁻ᵀ v vᵀ s⁻ᵀ and (s⁻¹ + s⁻ᵀ) v.
        let si = s.clone().try_inverse().expect("SPD");
        let u = si.transpose() * &v;
        assert_close("∂/∂s", &gs, &(si.transpose() - &u * u.transpose()), 1e-10);
        assert_close("∂/∂v", &gv, &(&si * &v + &u), 1e-10);
    }
}

#[test]
fn one_factorisation_for_every_product() {
    let r = &mut rng(907);
    for (n, k) in [(1, 1), (3, 2), (4, 4)] {
        let (x, a, b) = (dominant(r, n), mat(r, n, k), mat(r, k, n));
        fd_check(
            "shared_inverse_fast",
            &(x.clone(), (a.clone(), (b.clone(), ()))),
            |(x, (a, (b, ())))| shared_inverse(x, a, b),
            |(x, (a, (b, ())))| shared_inverse_fast_grad(x, a, b),
            1e-12,
        );
    }
}

twins!(gp_mean, gp_mean_fast, wrt = (k, y), (ks: &DMatrix<f64>, k: &DMatrix<f64>, y: &DVector<f64>) {
    // Regrouped: ks (k⁻¹ y), a vector solved.
    (ks * k.clone().try_inverse().unwrap() * y).norm_squared()
});

twins!(row_solve, row_solve_fast, wrt = (x, c), (v: &DVector<f64>, x: &DMatrix<f64>, c: &DMatrix<f64>) {
    // Regrouped: (vᵀ x⁻¹) c, a row solved.
    (v.transpose() * (x.clone().try_inverse().unwrap() * c)).norm_squared()
});

twins!(two_inverses, two_inverses_fast, wrt = (x, b), (x: &DMatrix<f64>, b: &DMatrix<f64>, v: &DVector<f64>) {
    // The product of two inverses keeps them; the other x⁻¹ is solved.
    (b.clone().try_inverse().unwrap() * x.clone().try_inverse().unwrap() * v).sum()
        + (x.clone().try_inverse().unwrap() * v).sum()
});

#[test]
fn chains_through_an_inverse_solve_the_vector() {
    let r = &mut rng(910);
    for (m, n, k) in [(1, 1, 1), (4, 3, 2), (2, 5, 6)] {
        let (ks, kk, y) = (mat(r, m, n), dominant(r, n), vector(r, n));
        fd_check(
            "gp_mean_fast",
            &(kk.clone(), (y.clone(), ())),
            |(kk, (y, ()))| gp_mean(&ks, kk, y),
            |(kk, (y, ()))| gp_mean_fast_grad(&ks, kk, y),
            1e-12,
        );
        let (x, c) = (dominant(r, n), mat(r, n, k));
        fd_check(
            "row_solve_fast",
            &(x.clone(), (c.clone(), ())),
            |(x, (c, ()))| row_solve(&y, x, c),
            |(x, (c, ()))| row_solve_fast_grad(&y, x, c),
            1e-12,
        );
        let b = dominant(r, n);
        fd_check(
            "two_inverses_fast",
            &(x.clone(), (b.clone(), ())),
            |(x, (b, ()))| two_inverses(x, b, &y),
            |(x, (b, ()))| two_inverses_fast_grad(x, b, &y),
            1e-12,
        );
    }
}

/// Sizes past the factorisation's and the solves' blocks (32): the gradients agree
/// with those of the inverse (the default), which finite differences check above.
#[test]
fn blocked_solves_agree_with_the_inverse() {
    let r = &mut rng(908);
    for (n, k) in [(33, 1), (40, 7), (70, 70), (100, 3)] {
        let (x, b) = (dominant(r, n), mat(r, n, k));
        let (v, gx, gb) = inv_b_fast_grad(&x, &b);
        let (w, px, pb) = inv_b_grad(&x, &b);
        assert!(mixed_error(v, w) <= 1e-12, "n = {n}: {v} vs {w}");
        same_as_plain("∂/∂x", &gx, &px, 1e-10);
        same_as_plain("∂/∂b", &gb, &pb, 1e-10);
        let bt = b.transpose();
        let (v, gx, gb) = b_inv_fast_grad(&x, &bt);
        let (w, px, pb) = b_inv_grad(&x, &bt);
        assert!(mixed_error(v, w) <= 1e-12, "n = {n}: {v} vs {w}");
        same_as_plain("∂/∂x", &gx, &px, 1e-10);
        same_as_plain("∂/∂b", &gb, &pb, 1e-10);
        let (s, u) = (spd(r, n), vector(r, n));
        let (v, gs, gu) = gaussian_nll_fast_grad(&s, &u);
        let (w, ps, pu) = gaussian_nll_grad(&s, &u);
        assert!(mixed_error(v, w) <= 1e-12, "n = {n}: {v} vs {w}");
        same_as_plain("∂/∂s", &gs, &ps, 1e-10);
        same_as_plain("∂/∂v", &gu, &pu, 1e-10);
    }
}

#[grad(wrt = (x, b), reassociate)]
fn inv_b_f32(x: &DMatrix<f32>, b: &DMatrix<f32>) -> f32 {
    (x.clone().try_inverse().unwrap() * b).norm_squared()
}

#[grad(wrt = (s, v), reassociate)]
fn gaussian_nll_f32(s: &DMatrix<f32>, v: &DVector<f32>) -> f32 {
    ln_det(s) + (v.transpose() * s.clone().try_inverse().unwrap() * v)[(0, 0)]
}

#[test]
fn solves_in_f32() {
    let r = &mut rng(909);
    for (n, k) in [(1, 1), (3, 2), (5, 5)] {
        let x = dominant(r, n).map(|v| v as f32);
        let b = mat(r, n, k).map(|v| v as f32);
        fd_check(
            "inv_b_f32",
            &(x, (b, ())),
            |(x, (b, ()))| inv_b_f32(x, b),
            |(x, (b, ()))| inv_b_f32_grad(x, b),
            1e-5,
        );
        let s = spd(r, n).map(|v| v as f32);
        let v = vector(r, n).map(|v| v as f32);
        fd_check(
            "gaussian_nll_f32",
            &(s, (v, ())),
            |(s, (v, ()))| gaussian_nll_f32(s, v),
            |(s, (v, ()))| gaussian_nll_f32_grad(s, v),
            1e-5,
        );
    }
}

#[test]
#[should_panic = "matgrad: x.clone().try_inverse().unwrap() * b: cannot multiply 3×3 by 2×2"]
fn a_solve_panics_as_the_product_would() {
    let _ = inv_b_fast_grad(&DMatrix::identity(3, 3), &DMatrix::zeros(2, 2));
}

#[test]
#[should_panic = "matgrad: b * x.clone().try_inverse().expect(\"x is invertible\"): cannot multiply 2×2 by 3×3"]
fn a_right_solve_panics_as_the_product_would() {
    let _ = b_inv_fast_grad(&DMatrix::identity(3, 3), &DMatrix::zeros(2, 2));
}

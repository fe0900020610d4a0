//! Value rewrites. Without options, `(p * q).trace()` is computed from the product's
//! diagonal only, with the very bits of the product and the trace (checked here at
//! sizes that take the blocked kernel and several depth chunks). With
//! `#[grad(wrt = …, reassociate)]` the value may be computed in another order (a
//! chain of three in its cheaper association, a trace linear in the variable as an
//! inner product), so it agrees with the original to rounding, not bit for bit; the
//! gradients agree with those of the same function without the option to 1e-12, and
//! those are checked against finite differences here too. Shapes include 1×1,
//! non-square, and chains whose cheaper order is each of the two.

mod common;

use common::{assert_close, gradcheck, mat, rng, uniform, vector};
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

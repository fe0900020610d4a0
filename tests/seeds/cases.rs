//! The worked examples of `shared/seeds/` (the matrix-derivative note, the matrix
//! calculus tutorial, the backprop-rules blog), each as its own test: the generated
//! gradient is checked against finite differences (`gradcheck!`) and against the
//! closed form the seed derives.
//!
//! Layout: a gradient has the shape of its variable (the blog's layout). Where the
//! note or the tutorial writes a numerator-layout derivative, the closed form used
//! here is its transpose, and the comment says so.

use super::grad;
use crate::common::{
    assert_close, dominant, gradcheck, mat, negative_det, positive, rng, row, spd, uniform, vector,
};
use matgrad::{add_col, add_row, ln_det, sigmoid, softmax_cross_entropy, Workspace};
use nalgebra::{DMatrix, DVector, RowDVector};

/// Closed forms are compared with `|got − want| / max(1, |want|) ≤ CLOSED`.
const CLOSED: f64 = 1e-10;

// ---------------------------------------------------------------------------
// Matrix-derivative note, §2: xᵀx, ln|X|, ‖Wx + b‖², tr(AXB)
// ---------------------------------------------------------------------------

#[grad(wrt = x)]
fn xtx(x: &DVector<f64>) -> f64 {
    (x.transpose() * x)[(0, 0)]
}

#[grad(wrt = x)]
fn xtx_dot(x: &DVector<f64>) -> f64 {
    x.dot(x)
}

/// d(xᵀx) = 2xᵀdx, so ∂(xᵀx)/∂x = 2x.
#[test]
fn seed_xtx_is_2x() {
    let (r, mut ws) = (&mut rng(1), Workspace::new());
    for n in [1, 3, 8] {
        let x = vector(r, n);
        let (g, ()) = gradcheck!(&mut ws; xtx, xtx_grad, xtx_grad_into; (&x); x = x.clone());
        assert_close("∂(xᵀx)/∂x = 2x", &g, &(2.0 * &x), CLOSED);
        let (g, ()) = gradcheck!(&mut ws; xtx_dot, xtx_dot_grad, xtx_dot_grad_into; (&x);
            x = x.clone());
        assert_close("∂(x·x)/∂x = 2x", &g, &(2.0 * &x), CLOSED);
    }
}

#[grad(wrt = x)]
fn log_det(x: &DMatrix<f64>) -> f64 {
    ln_det(x)
}

#[grad(wrt = x)]
fn log_of_determinant(x: &DMatrix<f64>) -> f64 {
    x.determinant().ln()
}

fn inverse_transpose(x: &DMatrix<f64>) -> DMatrix<f64> {
    x.clone().try_inverse().expect("invertible").transpose()
}

/// d ln|X| = tr(X⁻¹ dX), so ∂ ln|X| / ∂X = X⁻ᵀ: through `ln_det` (symmetric positive
/// definite, general, negative determinant) and through `determinant().ln()`.
#[test]
fn seed_ln_det_is_inverse_transpose() {
    let (r, mut ws) = (&mut rng(2), Workspace::new());
    for n in [1, 2, 5] {
        for x in [spd(r, n), dominant(r, n), negative_det(r, n)] {
            let (g, ()) = gradcheck!(&mut ws; log_det, log_det_grad, log_det_grad_into; (&x);
                x = x.clone());
            assert_close("∂ ln_det(X)/∂X = X⁻ᵀ", &g, &inverse_transpose(&x), CLOSED);
        }
        let x = dominant(r, n);
        let (g, ()) = gradcheck!(&mut ws;
            log_of_determinant, log_of_determinant_grad, log_of_determinant_grad_into;
            (&x); x = x.clone());
        assert_close("∂ ln(det X)/∂X = X⁻ᵀ", &g, &inverse_transpose(&x), CLOSED);
    }
}

#[grad(wrt = (w, b))]
fn affine_norm(w: &DMatrix<f64>, x: &DVector<f64>, b: &DVector<f64>) -> f64 {
    (w * x + b).norm_squared()
}

/// d‖Wx + b‖² = tr(2x(Wx + b)ᵀ dW): the note's 2x(Wx + b)ᵀ is numerator layout, so
/// ∂/∂W = 2(Wx + b)xᵀ here, and ∂/∂b = 2(Wx + b).
#[test]
fn seed_affine_norm_squared() {
    let (r, mut ws) = (&mut rng(3), Workspace::new());
    for (m, n) in [(1, 1), (2, 3), (4, 2)] {
        let (w, x, b) = (mat(r, m, n), vector(r, n), vector(r, m));
        let (gw, (gb, ())) = gradcheck!(&mut ws;
            affine_norm, affine_norm_grad, affine_norm_grad_into;
            (&w, &x, &b); w = w.clone(), b = b.clone());
        let y = &w * &x + &b;
        assert_close(
            "∂/∂W = 2(Wx + b)xᵀ",
            &gw,
            &(2.0 * &y * x.transpose()),
            CLOSED,
        );
        assert_close("∂/∂b = 2(Wx + b)", &gb, &(2.0 * &y), CLOSED);
    }
}

#[grad(wrt = x)]
fn trace_axb(a: &DMatrix<f64>, x: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (a * x * b).trace()
}

/// d tr(AXB) = tr(BA dX): the note writes BA (numerator layout); here ∂/∂X = AᵀBᵀ.
#[test]
fn seed_trace_axb() {
    let (r, mut ws) = (&mut rng(4), Workspace::new());
    for (p, m, n) in [(1, 1, 1), (2, 3, 4), (3, 2, 1)] {
        let (a, x, b) = (mat(r, p, m), mat(r, m, n), mat(r, n, p));
        let (g, ()) = gradcheck!(&mut ws; trace_axb, trace_axb_grad, trace_axb_grad_into;
            (&a, &x, &b);
            x = x.clone());
        assert_close(
            "∂ tr(AXB)/∂X = AᵀBᵀ",
            &g,
            &(a.transpose() * b.transpose()),
            CLOSED,
        );
        assert_close("AᵀBᵀ = (BA)ᵀ", &g, &(&b * &a).transpose(), CLOSED);
    }
}

// ---------------------------------------------------------------------------
// Least squares and networks
// ---------------------------------------------------------------------------

#[grad(wrt = w)]
fn least_squares(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    (x * w - y).norm_squared()
}

/// ‖XW − Y‖²: ∂/∂W = 2Xᵀ(XW − Y).
#[test]
fn seed_least_squares() {
    let (r, mut ws) = (&mut rng(5), Workspace::new());
    for (m, k, n) in [(1, 1, 1), (5, 3, 2), (2, 4, 1)] {
        let (x, w, y) = (mat(r, m, k), mat(r, k, n), mat(r, m, n));
        let (g, ()) = gradcheck!(&mut ws;
            least_squares, least_squares_grad, least_squares_grad_into;
            (&x, &w, &y); w = w.clone());
        assert_close(
            "∂/∂W = 2Xᵀ(XW − Y)",
            &g,
            &(2.0 * x.transpose() * (&x * &w - &y)),
            CLOSED,
        );
    }
}

#[grad(wrt = x)]
fn right_multiplication(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    (x * w - y).norm_squared()
}

#[grad(wrt = x)]
fn left_multiplication(w: &DMatrix<f64>, x: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    (w * x - y).norm_squared()
}

/// The blog's first two rules: G = XW gives ∂f/∂X = Ḡ Wᵀ; G = WX gives Wᵀ Ḡ
/// (here Ḡ = 2(G − Y)).
#[test]
fn seed_right_and_left_multiplication() {
    let (r, mut ws) = (&mut rng(6), Workspace::new());
    for (m, k, n) in [(1, 1, 1), (2, 3, 4), (4, 2, 1)] {
        let (x, w, y) = (mat(r, m, k), mat(r, k, n), mat(r, m, n));
        let (g, ()) = gradcheck!(&mut ws;
            right_multiplication, right_multiplication_grad, right_multiplication_grad_into;
            (&x, &w, &y); x = x.clone());
        assert_close(
            "X ↦ XW: Ḡ Wᵀ",
            &g,
            &(2.0 * (&x * &w - &y) * w.transpose()),
            CLOSED,
        );

        let (w, x, y) = (mat(r, m, k), mat(r, k, n), mat(r, m, n));
        let (g, ()) = gradcheck!(&mut ws;
            left_multiplication, left_multiplication_grad, left_multiplication_grad_into;
            (&w, &x, &y); x = x.clone());
        assert_close(
            "X ↦ WX: Wᵀ Ḡ",
            &g,
            &(w.transpose() * 2.0 * (&w * &x - &y)),
            CLOSED,
        );
    }
}

#[grad(wrt = (w1, w2))]
fn two_layer_tanh(x: &DMatrix<f64>, w1: &DMatrix<f64>, w2: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    let h = (x * w1).map(|v| v.tanh());
    (h * w2 - y).norm_squared()
}

#[grad(wrt = (w1, w2))]
fn two_layer_sigmoid(
    x: &DMatrix<f64>,
    w1: &DMatrix<f64>,
    w2: &DMatrix<f64>,
    y: &DMatrix<f64>,
) -> f64 {
    let h = sigmoid(&(x * w1));
    (h * w2 - y).norm_squared()
}

/// The closed forms of ‖g(XW₁)W₂ − Y‖², given H = g(XW₁) and g′(XW₁):
/// ∂/∂W₂ = 2Hᵀ(HW₂ − Y), ∂/∂W₁ = Xᵀ((2(HW₂ − Y)W₂ᵀ) ⊙ g′(XW₁)).
fn two_layer_closed_form(
    x: &DMatrix<f64>,
    h: &DMatrix<f64>,
    dh: &DMatrix<f64>,
    w2: &DMatrix<f64>,
    y: &DMatrix<f64>,
) -> (DMatrix<f64>, DMatrix<f64>) {
    let residual = 2.0 * (h * w2 - y);
    let g1 = x.transpose() * (&residual * w2.transpose()).component_mul(dh);
    let g2 = h.transpose() * residual;
    (g1, g2)
}

/// The tutorial's two-layer network (E.g. 5) with the squared error, rows as samples:
/// ‖tanh(XW₁)W₂ − Y‖².
#[test]
fn seed_two_layer_network_tanh() {
    let (r, mut ws) = (&mut rng(7), Workspace::new());
    for (m, k, h, n) in [(1, 1, 1, 1), (5, 3, 4, 2), (3, 2, 6, 1)] {
        let (x, w1, w2, y) = (mat(r, m, k), mat(r, k, h), mat(r, h, n), mat(r, m, n));
        let (g1, (g2, ())) = gradcheck!(&mut ws;
            two_layer_tanh, two_layer_tanh_grad, two_layer_tanh_grad_into;
            (&x, &w1, &w2, &y); w1 = w1.clone(), w2 = w2.clone());
        let hidden = (&x * &w1).map(|v| v.tanh());
        let dh = hidden.map(|t| 1.0 - t * t);
        let (c1, c2) = two_layer_closed_form(&x, &hidden, &dh, &w2, &y);
        assert_close("∂/∂W₁", &g1, &c1, CLOSED);
        assert_close("∂/∂W₂", &g2, &c2, CLOSED);
    }
}

/// The same network with the sigmoid activation: g′ = σ(1 − σ).
#[test]
fn seed_two_layer_network_sigmoid() {
    let (r, mut ws) = (&mut rng(8), Workspace::new());
    for (m, k, h, n) in [(1, 1, 1, 1), (5, 3, 4, 2), (3, 2, 6, 1)] {
        let (x, w1, w2, y) = (mat(r, m, k), mat(r, k, h), mat(r, h, n), mat(r, m, n));
        let (g1, (g2, ())) = gradcheck!(&mut ws;
            two_layer_sigmoid, two_layer_sigmoid_grad, two_layer_sigmoid_grad_into;
            (&x, &w1, &w2, &y); w1 = w1.clone(), w2 = w2.clone());
        let hidden = (&x * &w1).map(|v| 1.0 / (1.0 + (-v).exp()));
        let dh = hidden.map(|s| s * (1.0 - s));
        let (c1, c2) = two_layer_closed_form(&x, &hidden, &dh, &w2, &y);
        assert_close("∂/∂W₁", &g1, &c1, CLOSED);
        assert_close("∂/∂W₂", &g2, &c2, CLOSED);
    }
}

#[grad(wrt = (w1, w2))]
fn column_network(
    w1: &DMatrix<f64>,
    w2: &DMatrix<f64>,
    x: &DVector<f64>,
    t: &RowDVector<f64>,
) -> f64 {
    let y = w2 * sigmoid(&(w1 * x));
    softmax_cross_entropy(&y.transpose(), t)
}

/// The note's §2.1–2.2: L(W₂σ(W₁x)) with x a column and L the softmax cross-entropy.
/// With y = W₂h, h = σ(W₁x) and ∂L/∂y = softmax(y) − t: the note's (numerator-layout)
/// h (∂L/∂y) and x[((∂L/∂y) W₂) ⊙ σ′ᵀ] are, transposed, ∂L/∂W₂ = (∂L/∂y)ᵀ hᵀ and
/// ∂L/∂W₁ = ((W₂ᵀ (∂L/∂y)ᵀ) ⊙ σ′(W₁x)) xᵀ.
#[test]
fn seed_two_layer_column_network_cross_entropy() {
    let (r, mut ws) = (&mut rng(9), Workspace::new());
    for (k, h, n) in [(1, 1, 1), (3, 4, 2), (2, 5, 3)] {
        let (w1, w2, x) = (mat(r, h, k), mat(r, n, h), vector(r, k));
        let t = RowDVector::from_fn(n, |_, j| if j == 0 { 1.0 } else { 0.0 });
        let (g1, (g2, ())) = gradcheck!(&mut ws;
            column_network, column_network_grad, column_network_grad_into;
            (&w1, &w2, &x, &t); w1 = w1.clone(), w2 = w2.clone());
        let hidden = (&w1 * &x).map(|v| 1.0 / (1.0 + (-v).exp()));
        let y = &w2 * &hidden;
        let e = y.map(|v| (v - y.max()).exp());
        let dl_dy = &e / e.sum() - t.transpose();
        let c2 = &dl_dy * hidden.transpose();
        let c1 =
            (w2.transpose() * &dl_dy).component_mul(&hidden.map(|s| s * (1.0 - s))) * x.transpose();
        assert_close("∂L/∂W₁", &g1, &c1, CLOSED);
        assert_close("∂L/∂W₂", &g2, &c2, CLOSED);
    }
}

#[grad(wrt = w)]
fn single_layer_tanh(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    ((x * w).map(|v| v.tanh()) - y).norm_squared()
}

#[grad(wrt = w)]
fn single_layer_sigmoid(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    (sigmoid(&(x * w)) - y).norm_squared()
}

#[grad(wrt = w)]
fn single_layer_logistic(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    ((x * w).map(|v| 1.0 / (1.0 + (-v).exp())) - y).norm_squared()
}

/// The blog's neural network example: ‖g(XW) − Y‖², ∂/∂W = 2Xᵀ((g(XW) − Y) ⊙ g′(XW)),
/// with g = tanh (a `map`), the runtime `sigmoid`, and the logistic written as a `map`.
#[test]
fn seed_single_layer_network() {
    let (r, mut ws) = (&mut rng(10), Workspace::new());
    for (m, k, n) in [(1, 1, 1), (6, 3, 2), (2, 4, 3)] {
        let (x, w, y) = (mat(r, m, k), mat(r, k, n), mat(r, m, n));
        let closed =
            |g: &DMatrix<f64>, dg: &DMatrix<f64>| 2.0 * x.transpose() * (g - &y).component_mul(dg);
        let z = &x * &w;

        let (g, ()) = gradcheck!(&mut ws;
            single_layer_tanh, single_layer_tanh_grad, single_layer_tanh_grad_into;
            (&x, &w, &y); w = w.clone());
        let t = z.map(|v| v.tanh());
        assert_close(
            "tanh: 2Xᵀ((g(XW) − Y) ⊙ g′(XW))",
            &g,
            &closed(&t, &t.map(|t| 1.0 - t * t)),
            CLOSED,
        );

        let s = z.map(|v| 1.0 / (1.0 + (-v).exp()));
        let ds = s.map(|s| s * (1.0 - s));
        let (g, ()) = gradcheck!(&mut ws;
            single_layer_sigmoid, single_layer_sigmoid_grad, single_layer_sigmoid_grad_into;
            (&x, &w, &y); w = w.clone());
        assert_close(
            "sigmoid: 2Xᵀ((g(XW) − Y) ⊙ g′(XW))",
            &g,
            &closed(&s, &ds),
            CLOSED,
        );
        let (g, ()) = gradcheck!(&mut ws;
            single_layer_logistic, single_layer_logistic_grad, single_layer_logistic_grad_into;
            (&x, &w, &y); w = w.clone());
        assert_close(
            "logistic map: 2Xᵀ((g(XW) − Y) ⊙ g′(XW))",
            &g,
            &closed(&s, &ds),
            CLOSED,
        );
    }
}

// ---------------------------------------------------------------------------
// Dictionary learning
// ---------------------------------------------------------------------------

#[grad(wrt = (d, r, lambda))]
fn dictionary_learning(x: &DMatrix<f64>, d: &DMatrix<f64>, r: &DMatrix<f64>, lambda: f64) -> f64 {
    (x - d * r).norm_squared() + lambda * r.norm_squared()
}

/// ‖X − DR‖² + λ‖R‖²: ∂/∂D = −2(X − DR)Rᵀ = −2XRᵀ + 2DRRᵀ, ∂/∂R = −2Dᵀ(X − DR) + 2λR,
/// and ∂/∂λ = ‖R‖².
#[test]
fn seed_dictionary_learning() {
    let (g, mut ws) = (&mut rng(11), Workspace::new());
    for (m, k, n) in [(1, 1, 1), (4, 2, 3), (3, 5, 2)] {
        let (x, d, r, lambda) = (
            mat(g, m, n),
            mat(g, m, k),
            mat(g, k, n),
            uniform(g, 0.01, 1.0),
        );
        let (gd, (gr, (gl, ()))) = gradcheck!(&mut ws;
            dictionary_learning, dictionary_learning_grad, dictionary_learning_grad_into;
            (&x, &d, &r, lambda); d = d.clone(), r = r.clone(), lambda = lambda);
        let e = &x - &d * &r;
        assert_close(
            "∂/∂D = −2(X − DR)Rᵀ",
            &gd,
            &(-2.0 * &e * r.transpose()),
            CLOSED,
        );
        assert_close(
            "∂/∂D = −2XRᵀ + 2DRRᵀ",
            &gd,
            &(-2.0 * &x * r.transpose() + 2.0 * &d * &r * r.transpose()),
            CLOSED,
        );
        assert_close(
            "∂/∂R = −2Dᵀ(X − DR) + 2λR",
            &gr,
            &(-2.0 * d.transpose() * &e + 2.0 * lambda * &r),
            CLOSED,
        );
        assert_close("∂/∂λ = ‖R‖²", &gl, &r.norm_squared(), CLOSED);
    }
}

// ---------------------------------------------------------------------------
// The blog's formula list: Hadamard product, sum, quadratic form, broadcasts,
// and the note's identities for the inverse and the determinant
// ---------------------------------------------------------------------------

#[grad(wrt = x)]
fn hadamard(x: &DMatrix<f64>, c: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    (x.component_mul(c) - y).norm_squared()
}

/// G = X ⊙ C: ∂f/∂X = Ḡ ⊙ C, with Ḡ = 2(X ⊙ C − Y).
#[test]
fn seed_elementwise_product() {
    let (r, mut ws) = (&mut rng(12), Workspace::new());
    for (m, n) in [(1, 1), (2, 3), (4, 2)] {
        let (x, c, y) = (mat(r, m, n), mat(r, m, n), mat(r, m, n));
        let (g, ()) = gradcheck!(&mut ws; hadamard, hadamard_grad, hadamard_grad_into; (&x, &c, &y);
            x = x.clone());
        assert_close(
            "Ḡ ⊙ C",
            &g,
            &(2.0 * (x.component_mul(&c) - &y)).component_mul(&c),
            CLOSED,
        );
    }
}

#[grad(wrt = x)]
fn matrix_sum(x: &DMatrix<f64>) -> f64 {
    x.sum()
}

/// f = ΣG: ∂f/∂G = 1, the all-ones matrix.
#[test]
fn seed_matrix_sum_is_ones() {
    let (r, mut ws) = (&mut rng(13), Workspace::new());
    for (m, n) in [(1, 1), (2, 3), (4, 2)] {
        let (g, ()) = gradcheck!(&mut ws; matrix_sum, matrix_sum_grad, matrix_sum_grad_into; (&x);
            x = mat(r, m, n));
        assert_eq!(g, DMatrix::from_element(m, n, 1.0));
    }
}

#[grad(wrt = g)]
fn quadratic_form(a: &DVector<f64>, g: &DMatrix<f64>) -> f64 {
    (a.transpose() * g * a)[(0, 0)]
}

/// f = aᵀGa: ∂f/∂G = aaᵀ.
#[test]
fn seed_quadratic_form_wrt_matrix() {
    let (r, mut ws) = (&mut rng(14), Workspace::new());
    for n in [1, 2, 5] {
        let a = vector(r, n);
        let (g, ()) = gradcheck!(&mut ws;
            quadratic_form, quadratic_form_grad, quadratic_form_grad_into;
            (&a, &g); g = mat(r, n, n));
        assert_close("∂(aᵀGa)/∂G = aaᵀ", &g, &(&a * a.transpose()), CLOSED);
    }
}

#[grad(wrt = x)]
fn row_broadcast(c: &DMatrix<f64>, x: &RowDVector<f64>, y: &DMatrix<f64>) -> f64 {
    (add_row(c, x) - y).map(|v| v.sin()).norm_squared()
}

/// G = C + 1x, x a row: ∂f/∂x = column sums of Ḡ (Σ over rows), here with
/// Ḡ = 2 sin(G − Y) ⊙ cos(G − Y).
#[test]
fn seed_row_broadcast_addition() {
    let (r, mut ws) = (&mut rng(15), Workspace::new());
    for (m, n) in [(1, 1), (3, 2), (2, 5)] {
        let (c, x, y) = (mat(r, m, n), row(r, n), mat(r, m, n));
        let (g, ()) = gradcheck!(&mut ws;
            row_broadcast, row_broadcast_grad, row_broadcast_grad_into;
            (&c, &x, &y); x = x.clone());
        let e = DMatrix::from_fn(m, n, |i, j| c[(i, j)] + x[j] - y[(i, j)]);
        let upstream = e.map(|v| 2.0 * v.sin() * v.cos());
        let closed: RowDVector<f64> = upstream.row_sum();
        assert_close("Σ_rows Ḡ", &g, &closed, CLOSED);
    }
}

#[grad(wrt = x)]
fn col_broadcast(c: &DMatrix<f64>, x: &DVector<f64>, y: &DMatrix<f64>) -> f64 {
    (add_col(c, x) - y).map(|v| v.sin()).norm_squared()
}

/// G = C + x1ᵀ, x a column: ∂f/∂x = row sums of Ḡ (Σ over columns).
#[test]
fn seed_column_broadcast_addition() {
    let (r, mut ws) = (&mut rng(16), Workspace::new());
    for (m, n) in [(1, 1), (3, 2), (2, 5)] {
        let (c, x, y) = (mat(r, m, n), vector(r, m), mat(r, m, n));
        let (g, ()) = gradcheck!(&mut ws;
            col_broadcast, col_broadcast_grad, col_broadcast_grad_into;
            (&c, &x, &y); x = x.clone());
        let e = DMatrix::from_fn(m, n, |i, j| c[(i, j)] + x[i] - y[(i, j)]);
        let upstream = e.map(|v| 2.0 * v.sin() * v.cos());
        let closed: DVector<f64> = upstream.column_sum();
        assert_close("Σ_columns Ḡ", &g, &closed, CLOSED);
    }
}

#[grad(wrt = x)]
fn trace_c_inverse(c: &DMatrix<f64>, x: &DMatrix<f64>) -> f64 {
    (c * x.clone().try_inverse().unwrap()).trace()
}

/// d(X⁻¹) = −X⁻¹ dX X⁻¹, so ∂ tr(C X⁻¹)/∂X = −(X⁻¹ C X⁻¹)ᵀ.
#[test]
fn seed_inverse_differential() {
    let (r, mut ws) = (&mut rng(17), Workspace::new());
    for n in [1, 2, 5] {
        let (c, x) = (mat(r, n, n), dominant(r, n));
        let (g, ()) = gradcheck!(&mut ws;
            trace_c_inverse, trace_c_inverse_grad, trace_c_inverse_grad_into;
            (&c, &x); x = x.clone());
        let inv = x.clone().try_inverse().expect("invertible");
        assert_close(
            "−(X⁻¹ C X⁻¹)ᵀ",
            &g,
            &(-(&inv * &c * &inv).transpose()),
            CLOSED,
        );
    }
}

#[grad(wrt = x)]
fn determinant(x: &DMatrix<f64>) -> f64 {
    x.determinant()
}

/// d|X| = |X| tr(X⁻¹ dX), so ∂|X|/∂X = |X| X⁻ᵀ (the adjugate, transposed).
#[test]
fn seed_determinant_differential() {
    let (r, mut ws) = (&mut rng(18), Workspace::new());
    for n in [1, 2, 5] {
        for x in [
            dominant(r, n),
            negative_det(r, n),
            positive(r, n, n) + DMatrix::identity(n, n) * n as f64,
        ] {
            let (g, ()) = gradcheck!(&mut ws; determinant, determinant_grad, determinant_grad_into;
                (&x);
                x = x.clone());
            assert_close(
                "|X| X⁻ᵀ",
                &g,
                &(x.determinant() * inverse_transpose(&x)),
                CLOSED,
            );
        }
    }
}

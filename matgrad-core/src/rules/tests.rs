//! One line per rule: the adjoint each operation sends to each argument, from the
//! IR's text form, printed as math. `Ḡ` (or `s̄` for a scalar) is the adjoint of
//! the operation's result. These pin the rules themselves; the finite-difference
//! suites (`tests/gradcheck/`) check that the code computes them.

use crate::diff::Adjoints;
use crate::emit::math::{print, Notation, Terms};
use crate::emit::Input;
use crate::ir::{Float, Graph, Kind, Shape};
use crate::parse::signature::Signature;
use crate::simplify::{simplify, Term};

/// `(argument, what the root of `text` sends it)`, one per contribution, over the
/// matrices `a b x` (`DMatrix`), the column `u`, the row `r` and the scalars `s t`.
fn adjoint(text: &str) -> Vec<(String, String)> {
    let m = Kind::Matrix(Shape::MATRIX);
    let params = [
        ("a", m),
        ("b", m),
        ("x", m),
        ("u", Kind::Matrix(Shape::COLUMN)),
        ("r", Kind::Matrix(Shape::ROW)),
        ("s", Kind::Scalar),
        ("t", Kind::Scalar),
    ];
    let g = Graph::parse(text, &params).unwrap_or_else(|e| panic!("`{text}`: {e}"));
    let item: syn::ItemFn = syn::parse_quote!(
        fn f() -> f64 {
            0.0
        }
    );
    let sig = Signature {
        params: Vec::new(),
        float: Float::F64,
    };
    let adjoints = Adjoints {
        differentiated: vec![true; g.nodes.len()],
        incoming: vec![Vec::new(); g.nodes.len()],
    };
    let input = Input {
        item: &item,
        sig: &sig,
        wrt: &[],
        graph: &g,
        adjoints: &adjoints,
        value: g.output,
        companion: crate::emit::Companion::Grad,
    };
    let root = g.output;
    let own = if g.node(root).kind.is_matrix() {
        "Ḡ"
    } else {
        "s̄"
    };
    let terms = Terms::new(&input).with_adjoint(root, Term::sym(own));
    super::adjoint(&g, root)
        .into_iter()
        .map(|(k, c)| {
            let arg = g.sexpr(g.node(root).args[k]);
            let c = c.absolute(root);
            let math = print(&simplify(&terms.contrib(&c)), Notation::Unicode);
            (arg, math)
        })
        .collect()
}

/// Asserts the adjoint of `text`: `want` lists `(argument, contribution)`.
#[track_caller]
fn check(text: &str, want: &[(&str, &str)]) {
    let got = adjoint(text);
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, c)| ((*a).to_owned(), (*c).to_owned()))
        .collect();
    assert_eq!(got, want, "the adjoint of `{text}`");
}

#[test]
fn linear() {
    check("(m+ a b)", &[("a", "Ḡ"), ("b", "Ḡ")]);
    check("(m- a b)", &[("a", "Ḡ"), ("b", "−Ḡ")]);
    check("(mneg a)", &[("a", "−Ḡ")]);
    check("(scale a s)", &[("a", "s Ḡ"), ("s", "⟨Ḡ, a⟩")]);
    check(
        "(mdiv a s)",
        &[("a", "(1 / s) Ḡ"), ("s", "−⟨Ḡ, a⟩ / (s s)")],
    );
    check("(t a)", &[("a", "Ḡᵀ")]);
    check("(add_scalar a s)", &[("a", "Ḡ"), ("s", "Σ Ḡ")]);
    check("(idx01 a)", &[("a", "s̄ E01")]);
}

#[test]
fn parts() {
    check("(diagonal a)", &[("a", "diag(Ḡ)")]);
    check("(from_diagonal u)", &[("u", "diag(Ḡ)")]);
    check("(new2x1 s t)", &[("s", "Ḡ₀₀"), ("t", "Ḡ₁₀")]);
    check(
        "(new2x2 s t s t)",
        &[("s", "Ḡ₀₀"), ("t", "Ḡ₀₁"), ("s", "Ḡ₁₀"), ("t", "Ḡ₁₁")],
    );
    check("(lower_triangle a)", &[("a", "lower(Ḡ)")]);
    check("(upper_triangle a)", &[("a", "upper(Ḡ)")]);
    check("(column2 a)", &[("a", "Ḡ e₂ᵀ")]);
    check("(row1 a)", &[("a", "e₁ Ḡ")]);
}

#[test]
fn products() {
    check("(matmul a b)", &[("a", "Ḡ bᵀ"), ("b", "aᵀ Ḡ")]);
    check(
        "(chain a b x)",
        &[("a", "Ḡ xᵀ bᵀ"), ("b", "aᵀ Ḡ xᵀ"), ("x", "bᵀ aᵀ Ḡ")],
    );
    check("(hadamard a b)", &[("a", "Ḡ ⊙ b"), ("b", "Ḡ ⊙ a")]);
    check("(hdiv a b)", &[("a", "Ḡ ⊘ b"), ("b", "−(Ḡ ⊙ a ⊘ b²)")]);
    check(
        "(kron a b)",
        &[("a", "kron_adjoint_a(Ḡ, b)"), ("b", "kron_adjoint_b(Ḡ, a)")],
    );
}

#[test]
fn reductions() {
    check("(sum a)", &[("a", "s̄ 𝟙")]);
    check("(mean a)", &[("a", "(s̄ / len(a)) 𝟙")]);
    check("(norm2 a)", &[("a", "2 s̄ a")]);
    check("(norm a)", &[("a", "(s̄ / ‖a‖) a")]);
    check("(dot a b)", &[("a", "s̄ b"), ("b", "s̄ a")]);
    check("(tr a)", &[("a", "s̄ I")]);
    check("(trmul a b)", &[("a", "s̄ bᵀ"), ("b", "s̄ aᵀ")]);
    check("(row_sum a)", &[("a", "𝟙 Ḡ")]);
    check("(row_mean a)", &[("a", "𝟙 Ḡ / nrows(a)")]);
    check("(column_sum a)", &[("a", "Ḡ 𝟙ᵀ")]);
    check("(column_mean a)", &[("a", "Ḡ 𝟙ᵀ / ncols(a)")]);
    check("(max_entry a)", &[("a", "s̄ onehot_argmax(a)")]);
    check("(min_entry a)", &[("a", "s̄ onehot_argmin(a)")]);
}

#[test]
fn matrix_functions() {
    check("(det a)", &[("a", "s̄ det(a) a⁻ᵀ")]);
    check("(inv a)", &[("a", "−a⁻ᵀ Ḡ a⁻ᵀ")]);
    check("(factor a)", &[("a", "Ḡ")]);
    check(
        "(solve (factor a) b)",
        // −a⁻ᵀ Ḡ yᵀ with y = a⁻¹ b
        &[("(factor a)", "−a⁻ᵀ Ḡ bᵀ a⁻ᵀ"), ("b", "a⁻ᵀ Ḡ")],
    );
    check(
        "(rsolve b (factor a))",
        // −yᵀ Ḡ a⁻ᵀ with y = b a⁻¹
        &[("(factor a)", "−a⁻ᵀ bᵀ Ḡ a⁻ᵀ"), ("b", "Ḡ a⁻ᵀ")],
    );
}

#[test]
fn runtime_functions() {
    check("(sigmoid a)", &[("a", "Ḡ ⊙ σ(a) ⊙ (1 − σ(a))")]);
    check("(relu a)", &[("a", "Ḡ ⊙ [a > 0]")]);
    check("(softplus a)", &[("a", "Ḡ ⊙ σ(a)")]);
    check("(add_row a r)", &[("a", "Ḡ"), ("r", "𝟙ᵀ Ḡ")]);
    check("(add_col a u)", &[("a", "Ḡ"), ("u", "Ḡ 𝟙")]);
    check("(ln_det a)", &[("a", "s̄ a⁻ᵀ")]);
    check("(log_sum_exp a)", &[("a", "s̄ softmax(a)")]);
    // The rows of `b` need not sum to 1 (weighted labels): the row sums stay in the
    // formula, as in the code (`softmax(a) − b` would be wrong for them).
    check(
        "(softmax_ce a b)",
        &[
            ("a", "s̄ (diag(b 𝟙) softmax(a) − b)"),
            ("b", "−s̄ log_softmax(a)"),
        ],
    );
}

#[test]
fn scalars() {
    check("(* s t)", &[("s", "s̄ t"), ("t", "s̄ s")]);
    check("(/ s t)", &[("s", "s̄ (1 / t)"), ("t", "−s̄ (s / t / t)")]);
    check("(tanh s)", &[("s", "s̄ (1 − tanh(s) tanh(s))")]);
    check("(powi3 s)", &[("s", "3 s̄ s²")]);
}

/// The tangent (JVP) of the root of `text` with respect to every parameter, as the
/// s-expression of the tangent graph's output; the directions are named `ȧ ḃ ẋ u̇ ṙ ṡ ṫ`.
fn tangent(text: &str) -> String {
    let m = Kind::Matrix(Shape::MATRIX);
    let params = [
        ("a", m),
        ("b", m),
        ("x", m),
        ("u", Kind::Matrix(Shape::COLUMN)),
        ("r", Kind::Matrix(Shape::ROW)),
        ("s", Kind::Scalar),
        ("t", Kind::Scalar),
    ];
    let g = Graph::parse(text, &params).unwrap_or_else(|e| panic!("`{text}`: {e}"));
    let names: Vec<String> = ["ȧ", "ḃ", "ẋ", "u̇", "ṙ", "ṡ", "ṫ"]
        .map(String::from)
        .to_vec();
    let wrt: Vec<usize> = (0..params.len()).collect();
    let t = crate::tangent::tangent_graph(&g, &wrt, &names)
        .unwrap_or_else(|e| panic!("`{text}`: {}", e[0].1));
    t.graph.sexpr(t.graph.output)
}

#[test]
fn tangents() {
    let cases = [
        ("(m+ a b)", "(m+ ȧ ḃ)"),
        ("(m- a b)", "(m- ȧ ḃ)"),
        ("(t a)", "(t ȧ)"),
        ("(matmul a b)", "(m+ (matmul ȧ b) (matmul a ḃ))"),
        ("(scale a s)", "(m+ (scale ȧ s) (scale a ṡ))"),
        ("(kron a b)", "(m+ (kron ȧ b) (kron a ḃ))"),
        ("(inv a)", "(mneg (matmul (matmul (inv a) ȧ) (inv a)))"),
        ("(sum (diagonal a))", "(sum (diagonal ȧ))"),
        ("(dot a b)", "(expr (dot ȧ b) (dot a ḃ))"),
        ("(ln_det a)", "(trmul (inv_factored a) ȧ)"),
        ("(add_row a r)", "(add_row ȧ ṙ)"),
        ("(sum a)", "(sum ȧ)"),
    ];
    for (text, want) in cases {
        assert_eq!(tangent(text), want, "the tangent of `{text}`");
    }
}

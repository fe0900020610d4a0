//! The derived formulas of the seeds' worked examples, as the `_grad` docs and the
//! CLI print them, against the closed forms the seeds state (in the blog seed's
//! layout: a gradient has the shape of its variable).

use matgrad_core::{derive, Derivation};

fn derivation(src: &str) -> Derivation {
    let mut item: syn::ItemFn = syn::parse_str(src).expect("a function");
    let attr = item.attrs.remove(0);
    let args = match attr.meta {
        syn::Meta::List(l) => l.tokens,
        _ => panic!("#[grad(...)] expected"),
    };
    derive(args, &item).unwrap_or_else(|f| {
        panic!(
            "{:?}",
            f.errors.iter().map(ToString::to_string).collect::<Vec<_>>()
        )
    })
}

fn formulas(src: &str) -> Vec<String> {
    derivation(src)
        .formulas()
        .into_iter()
        .map(|(n, f)| format!("∂f/∂{n} = {f}"))
        .collect()
}

#[test]
fn x_transpose_x_is_2x() {
    assert_eq!(
        formulas("#[grad(wrt = x)] fn f(x: &DVector<f64>) -> f64 { x.dot(&x) }"),
        ["∂f/∂x = 2 x"]
    );
    assert_eq!(
        formulas("#[grad(wrt = x)] fn f(x: &DVector<f64>) -> f64 { (x.transpose() * x)[(0, 0)] }"),
        ["∂f/∂x = 2 x"]
    );
}

#[test]
fn ln_det_is_inverse_transpose() {
    assert_eq!(
        formulas("#[grad(wrt = x)] fn f(x: &DMatrix<f64>) -> f64 { ln_det(&x) }"),
        ["∂f/∂x = x⁻ᵀ"]
    );
    assert_eq!(
        formulas("#[grad(wrt = x)] fn f(x: &DMatrix<f64>) -> f64 { x.determinant().ln() }"),
        ["∂f/∂x = x⁻ᵀ"]
    );
}

#[test]
fn trace_axb_is_at_bt() {
    assert_eq!(
        formulas("#[grad(wrt = x)] fn f(a: &DMatrix<f64>, x: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 { (a * x * b).trace() }"),
        ["∂f/∂x = aᵀ bᵀ"]
    );
}

#[test]
fn quadratic_form_is_a_plus_at_x() {
    assert_eq!(
        formulas("#[grad(wrt = x)] fn f(x: &DVector<f64>, a: &DMatrix<f64>) -> f64 { (x.transpose() * a * x)[(0, 0)] }"),
        ["∂f/∂x = (a + aᵀ) x"]
    );
    // The blog's quadratic form wrt the matrix: ∂(aᵀ G a)/∂G = a aᵀ.
    assert_eq!(
        formulas("#[grad(wrt = g)] fn f(a: &DVector<f64>, g: &DMatrix<f64>) -> f64 { (a.transpose() * g * a)[(0, 0)] }"),
        ["∂f/∂g = a aᵀ"]
    );
}

#[test]
fn affine_norm() {
    assert_eq!(
        formulas("#[grad(wrt = (w, b))] fn f(w: &DMatrix<f64>, x: &DVector<f64>, b: &DVector<f64>) -> f64 { (w * x + b).norm_squared() }"),
        ["∂f/∂w = 2 (w x + b) xᵀ", "∂f/∂b = 2 (w x + b)"]
    );
}

#[test]
fn least_squares_and_dictionary_learning() {
    assert_eq!(
        formulas("#[grad(wrt = w)] fn f(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 { (x * w - y).norm_squared() }"),
        ["∂f/∂w = 2 xᵀ (x w − y)"]
    );
    assert_eq!(
        formulas("#[grad(wrt = (d, r))] fn f(x: &DMatrix<f64>, d: &DMatrix<f64>, r: &DMatrix<f64>, lambda: f64) -> f64 { (x - d * r).norm_squared() + lambda * r.norm_squared() }"),
        ["∂f/∂d = −2 (x − d r) rᵀ", "∂f/∂r = 2 lambda r − 2 dᵀ (x − d r)"]
    );
}

#[test]
fn single_layer_network_uses_the_users_names() {
    let d = derivation(
        "#[grad(wrt = w)] fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 { let z = x * w; let a = z.map(|v| v.tanh()); (a - y).norm_squared() }",
    );
    assert_eq!(
        d.formulas(),
        [("w".to_owned(), "xᵀ (2 (a − y) ⊙ (1 − a²))".to_owned())]
    );
    assert_eq!(
        d.definitions(),
        [
            ("z".to_owned(), "x w".to_owned()),
            ("a".to_owned(), "tanh(z)".to_owned())
        ]
    );
    assert_eq!(
        d.latex()[0].1,
        "x^\\top \\left(2 \\left(a - y\\right) \\odot \\left(1 - a^{2}\\right)\\right)"
    );
}

#[test]
fn broadcast_biases_sum_the_upstream_gradient() {
    assert_eq!(
        formulas("#[grad(wrt = r)] fn f(m: &DMatrix<f64>, r: &RowDVector<f64>) -> f64 { add_row(&m, &r).norm_squared() }"),
        ["∂f/∂r = 2 𝟙ᵀ (m + 𝟙 r)"]
    );
    assert_eq!(
        formulas("#[grad(wrt = c)] fn f(m: &DMatrix<f64>, c: &DVector<f64>) -> f64 { add_col(&m, &c).norm_squared() }"),
        ["∂f/∂c = 2 (m + c 𝟙ᵀ) 𝟙"]
    );
}

#[test]
fn steps_follow_the_reverse_sweep() {
    let d = derivation(
        "#[grad(wrt = w)] fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 { let z = x * w; let a = z.map(|v| v.tanh()); (a - y).norm_squared() }",
    );
    let steps: Vec<String> = d
        .steps()
        .iter()
        .flat_map(|s| {
            s.sends
                .iter()
                .map(move |(t, c)| format!("{} = {}: ∂f/∂{t} += {c}", s.node, s.definition))
        })
        .collect();
    assert_eq!(
        steps,
        [
            "(‖a − y‖²) = ‖a − y‖²: ∂f/∂(a − y) += 2 (a − y)",
            "(a − y) = a − y: ∂f/∂a += ∂f/∂(a − y)",
            "a = tanh(z): ∂f/∂z += ∂f/∂a ⊙ (1 − a²)",
            "z = x w: ∂f/∂w += xᵀ ∂f/∂z",
        ]
    );
}

#[test]
fn steps_show_the_entry_of_a_one_by_one_product_apart() {
    let d = derivation(
        "#[grad(wrt = x)] fn f(x: &DVector<f64>, a: &DMatrix<f64>) -> f64 { (x.transpose() * a * x)[(0, 0)] }",
    );
    let defs: Vec<String> = d.steps().into_iter().map(|s| s.definition).collect();
    assert_eq!(defs[..2], ["(xᵀ a x)₀₀", "xᵀ a x"]);
    // The gradient itself still reads the 1×1 product as its entry.
    assert_eq!(d.formulas()[0].1, "(a + aᵀ) x");
}

/// `layers` layers that each use their input three times (`a ⊙ a − s a`): written out
/// in full, the adjoint of the first layer would triple with each layer.
fn deep(layers: usize) -> String {
    let mut body = String::from("let h0 = x * w;\n");
    for i in 1..=layers {
        let p = i - 1;
        body.push_str(&format!(
            "let a{i} = h{p}.map(|v| v.tanh());\nlet b{i} = a{i}.component_mul(&a{i}) - a{i}.scale(s);\nlet h{i} = sigmoid(&b{i});\n"
        ));
    }
    format!(
        "#[grad(wrt = (w, s))] fn f(x: &DMatrix<f64>, w: &DMatrix<f64>, s: f64) -> f64 {{ {body} h{layers}.sum() }}"
    )
}

#[test]
fn deep_formulas_grow_linearly_citing_intermediate_adjoints() {
    let size = |layers: usize| {
        let d = derivation(&deep(layers));
        let doc = matgrad_core::emit::formula::doc(&d.input());
        (doc.concat().len(), doc)
    };
    let (small, _) = size(4);
    let (large, doc) = size(12);
    // Three times the layers, at most about three times the text (not 3⁸ times).
    assert!(large < 4 * small, "{small} → {large} bytes");
    assert!(
        doc.iter().any(|l| l.starts_with(" - `∂f/∂a")),
        "cited adjoints are defined: {doc:#?}"
    );
}

/// The identity of a trace's adjoint stays a matrix among scalars: `∂ tr x / ∂x = I`
/// and `∂ s tr x / ∂x = s I` (a simplifier dropping `I` as a unit factor printed `1`
/// and `s`), while `aᵀ I bᵀ` is still `aᵀ bᵀ` (above).
#[test]
fn the_identity_of_a_trace_stays_a_matrix() {
    assert_eq!(
        formulas("#[grad(wrt = x)] fn f(x: &DMatrix<f64>) -> f64 { x.trace() }"),
        ["∂f/∂x = I"]
    );
    assert_eq!(
        formulas("#[grad(wrt = x)] fn f(x: &DMatrix<f64>, s: f64) -> f64 { s * x.trace() }"),
        ["∂f/∂x = s I"]
    );
    assert_eq!(
        formulas("#[grad(wrt = x)] fn f(x: &DMatrix<f64>) -> f64 { x.trace() * x.trace() }"),
        ["∂f/∂x = 2 tr(x) I"]
    );
}

/// Softmax cross-entropy with labels whose rows need not sum to 1 (weighted or soft
/// labels): the gradient scales each row of softmax(z) by its row's label sum, as the
/// code does; the formula once read `softmax(z) − y`.
#[test]
fn softmax_cross_entropy_keeps_the_label_row_sums() {
    assert_eq!(
        formulas("#[grad(wrt = (z, y))] fn f(z: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 { softmax_cross_entropy(&z, &y) }"),
        [
            "∂f/∂z = diag(y 𝟙) softmax(z) − y",
            "∂f/∂y = −log_softmax(z)"
        ]
    );
}

/// The parts of a matrix: the diagonal's adjoint is a diagonal matrix, a column's is
/// placed in its column.
#[test]
fn parts_place_the_adjoint_back() {
    assert_eq!(
        formulas("#[grad(wrt = x)] fn f(x: &DMatrix<f64>) -> f64 { x.diagonal().norm_squared() }"),
        ["∂f/∂x = diag(2 diag(x))"]
    );
    assert_eq!(
        formulas("#[grad(wrt = x)] fn f(x: &DMatrix<f64>, u: &DVector<f64>) -> f64 { x.column(1).dot(&u) }"),
        ["∂f/∂x = u e₁ᵀ"]
    );
}

/// The views: a row's adjoint is placed in its row (`e_i Ḡ`), a block's in its rows
/// or columns.
#[test]
fn views_place_the_adjoint_back() {
    assert_eq!(
        formulas("#[grad(wrt = x)] fn f(x: &DMatrix<f64>, r: &RowDVector<f64>) -> f64 { x.row(2).dot(&r) }"),
        ["∂f/∂x = e₂ r"]
    );
    assert_eq!(
        formulas("#[grad(wrt = x)] fn f(x: &DMatrix<f64>) -> f64 { x.rows(1, 2).norm_squared() }"),
        ["∂f/∂x = place_rows(2 rows(x, 1, 2), 1, 2)"]
    );
    assert_eq!(
        formulas(
            "#[grad(wrt = x)] fn f(x: &DMatrix<f64>) -> f64 { x.columns(0, x.ncols() - 1).sum() }"
        ),
        ["∂f/∂x = place_columns(𝟙, 0, x.ncols() - 1)"]
    );
}

/// A batch mean: the count is a scalar of the formula, written as in the source.
#[test]
fn batch_mean_divides_by_the_count() {
    assert_eq!(
        formulas("#[grad(wrt = w)] fn f(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 { (x * w - y).norm_squared() / (x.nrows() as f64) }"),
        ["∂f/∂w = (2 / x.nrows()) xᵀ (x w − y)"]
    );
}

/// Huber's loss, written with `if` in a closure: the derivative of the branch taken.
#[test]
fn huber_is_the_clipped_residual() {
    assert_eq!(
        formulas("#[grad(wrt = w)] fn f(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>, d: f64) -> f64 { let r = x * w - y; r.map(|v| if v.abs() <= d { 0.5 * v * v } else { d * (v.abs() - 0.5 * d) }).sum() }"),
        ["∂f/∂w = xᵀ if([abs(r) ≤ d], r, d sign(r))"]
    );
}

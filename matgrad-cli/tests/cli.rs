//! The `matgrad` binary on the seeds' worked examples (`tests/fixtures/seeds.rs`),
//! on one-line expressions, and on errors.
//!
//! Formulas are compared up to spaces with the seeds' closed forms, written in the
//! renderer's notation (gradient layout: the transpose of the tutorial's numerator
//! layout): each test lists the forms that count as closed. The "tidy" tests pin
//! the tidiest form: no redundant parentheses, entries and cited adjoints apart.

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

const SEEDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/seeds.rs");

/// Runs `matgrad ARGS`, with `stdin` on its standard input.
fn matgrad(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_matgrad"))
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run matgrad");
    {
        let mut input = child.stdin.take().expect("stdin");
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).expect("write stdin");
        }
    }
    child.wait_with_output().expect("matgrad output")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 stderr")
}

/// The JSON report of the seed function `name`.
fn seed(name: &str) -> Value {
    let o = matgrad(&["derive", SEEDS, "--fn", name, "--format", "json"], None);
    assert!(
        o.status.success(),
        "matgrad failed on {name}:\n{}",
        stderr(&o)
    );
    let doc: Value = serde_json::from_str(&stdout(&o)).expect("json");
    let functions = doc["functions"].as_array().expect("functions");
    assert_eq!(functions.len(), 1, "one function named {name}");
    functions[0].clone()
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The Unicode gradient of `var` in `report`.
fn unicode(report: &Value, var: &str) -> String {
    report["gradients"][var]["unicode"]
        .as_str()
        .unwrap_or_else(|| panic!("no gradient of {var} in {report:#}"))
        .to_owned()
}

/// Asserts ∂f/∂var of the seed function `name` is one of `forms` (up to spaces).
fn assert_closed_form(name: &str, var: &str, forms: &[&str]) {
    let report = seed(name);
    let got = unicode(&report, var);
    assert!(
        forms.iter().any(|f| squash(f) == squash(&got)),
        "{name}: ∂f/∂{var} = {got}\nexpected one of: {forms:?}"
    );
}

/// The text of the steps of a report.
fn step_texts(report: &Value) -> Vec<String> {
    report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["text"].as_str().expect("step text").to_owned())
        .collect()
}

// ---- backprop-rules-blog.md ----

#[test]
fn blog_neural_network() {
    // 2 Xᵀ (g(XW) − Y) ⊙ g′(XW), with g = tanh, a = g(z), z = X W.
    assert_closed_form(
        "blog_neural_network",
        "w",
        &["xᵀ (2 (a − y) ⊙ (1 − a²))", "2 xᵀ ((a − y) ⊙ (1 − a²))"],
    );
    let report = seed("blog_neural_network");
    let defs = report["definitions"].to_string();
    assert!(defs.contains("\"z\"") && defs.contains("x w"), "{defs}");
    assert!(defs.contains("\"a\"") && defs.contains("tanh(z)"), "{defs}");
}

#[test]
fn blog_neural_network_steps_read_like_the_hand_derivation() {
    // The blog's steps (4), (3), (2), (1): the norm, the subtraction, g, the product.
    let steps = step_texts(&seed("blog_neural_network"));
    assert_eq!(steps.len(), 4, "{steps:#?}");
    assert!(
        steps[0].starts_with("1. f = ‖a − y‖²: ∂f/∂(a − y) += 2 (a − y)"),
        "{steps:#?}"
    );
    assert!(
        steps[1].starts_with("2. a − y: ∂f/∂a += ∂f/∂(a − y)"),
        "{steps:#?}"
    );
    assert_eq!(steps[2], "3. a = tanh(z): ∂f/∂z += ∂f/∂a ⊙ (1 − a²)");
    assert_eq!(steps[3], "4. z = x w: ∂f/∂w += xᵀ ∂f/∂z");
}

#[test]
fn blog_dictionary_learning() {
    // −2 (X − D R) Rᵀ = −2 X Rᵀ + 2 D R Rᵀ, and −2 Dᵀ (X − D R) = −2 Dᵀ X + 2 Dᵀ D R.
    assert_closed_form(
        "blog_dictionary_learning",
        "d",
        &["−2 (x − d r) rᵀ", "−2 x rᵀ + 2 d r rᵀ"],
    );
    assert_closed_form(
        "blog_dictionary_learning",
        "r",
        &["−2 dᵀ (x − d r)", "−2 dᵀ x + 2 dᵀ d r"],
    );
}

#[test]
fn blog_dictionary_learning_steps() {
    let steps = step_texts(&seed("blog_dictionary_learning"));
    assert_eq!(steps.len(), 3, "{steps:#?}");
    assert!(
        steps[1].contains("∂f/∂(d r) += −∂f/∂(x − d r)"),
        "{steps:#?}"
    );
    assert!(steps[2].contains("∂f/∂d += ∂f/∂(d r) rᵀ"), "{steps:#?}");
    assert!(steps[2].contains("∂f/∂r += dᵀ ∂f/∂(d r)"), "{steps:#?}");
}

#[test]
fn blog_right_multiplication() {
    // df/dX = df/dG Wᵀ, df/dG = C.
    assert_closed_form("blog_right_multiplication", "x", &["c wᵀ"]);
}

#[test]
fn blog_left_multiplication() {
    // df/dX = Wᵀ df/dG.
    assert_closed_form("blog_left_multiplication", "x", &["wᵀ c"]);
}

#[test]
fn blog_elementwise_multiplication() {
    // df/dX = df/dG ⊙ C.
    assert_closed_form("blog_elementwise_multiplication", "x", &["h ⊙ c", "c ⊙ h"]);
}

#[test]
fn blog_elementwise_function() {
    // df/dX = df/dG ⊙ g′(X), g = tanh.
    assert_closed_form(
        "blog_elementwise_function",
        "x",
        &[
            "c ⊙ (1 − tanh(x)²)",
            "c ⊙ (1 − tanh²(x))",
            "(1 − tanh(x)²) ⊙ c",
        ],
    );
}

#[test]
fn blog_matrix_addition() {
    // df/dX = df/dG.
    assert_closed_form("blog_matrix_addition", "x", &["h"]);
}

#[test]
fn blog_row_broadcast() {
    // df/dX = Σ_rows df/dG: the column sums, 𝟙ᵀ H.
    assert_closed_form("blog_row_broadcast", "x", &["𝟙ᵀ h", "Σ_rows(h)"]);
}

#[test]
fn blog_column_broadcast() {
    // df/dX = Σ_columns df/dG: the row sums, H 𝟙.
    assert_closed_form("blog_column_broadcast", "x", &["h 𝟙", "Σ_cols(h)"]);
}

#[test]
fn blog_frobenius_norm() {
    assert_closed_form("blog_frobenius_norm", "g", &["2 g"]);
}

#[test]
fn blog_matrix_sum() {
    assert_closed_form("blog_matrix_sum", "g", &["𝟙"]);
}

#[test]
fn blog_quadratic_form() {
    // aᵀ G a → a aᵀ.
    assert_closed_form("blog_quadratic_form", "g", &["a aᵀ"]);
}

// ---- matrix-derivative-note.md ----

#[test]
fn note_xtx() {
    // d(xᵀx)/dx = 2 xᵀ in numerator layout: the gradient 2 x.
    assert_closed_form("note_xtx", "x", &["2 x"]);
    assert_closed_form("note_x_dot_x", "x", &["2 x"]);
}

#[test]
fn note_x_dot_x_steps() {
    // d(xᵀx) = (dx)ᵀ x + xᵀ dx: one contribution from each use of x.
    let steps = step_texts(&seed("note_x_dot_x"));
    assert_eq!(steps, ["1. f = ⟨x, x⟩: ∂f/∂x += x; ∂f/∂x += x"]);
}

#[test]
fn note_ln_det() {
    // d ln|X| / dX = X⁻ᵀ.
    assert_closed_form("note_ln_det", "x", &["x⁻ᵀ"]);
    assert_closed_form("note_ln_of_determinant", "x", &["x⁻ᵀ"]);
    let report = seed("note_ln_det");
    assert_eq!(report["gradients"]["x"]["latex"], "x^{-\\top}");
}

#[test]
fn note_determinant() {
    // d|X| = |X| tr(X⁻¹ dX).
    assert_closed_form("note_determinant", "x", &["det(x) x⁻ᵀ", "|x| x⁻ᵀ"]);
}

#[test]
fn note_norm_wx_plus_b() {
    // 2 x (Wx + b)ᵀ in numerator layout: 2 (Wx + b) xᵀ; and 2 (Wx + b) for b.
    assert_closed_form("note_norm_wx_plus_b", "w", &["2 (w x + b) xᵀ"]);
    assert_closed_form("note_norm_wx_plus_b", "b", &["2 (w x + b)"]);
}

#[test]
fn note_trace_axb() {
    // B A in numerator layout: (B A)ᵀ = Aᵀ Bᵀ.
    assert_closed_form("note_trace_axb", "x", &["aᵀ bᵀ", "(b a)ᵀ"]);
}

#[test]
fn note_inverse() {
    // d(aᵀ X⁻¹ b) = −aᵀ X⁻¹ dX X⁻¹ b: the gradient −X⁻ᵀ a bᵀ X⁻ᵀ.
    assert_closed_form("note_inverse", "x", &["−x⁻ᵀ a bᵀ x⁻ᵀ", "−(x⁻ᵀ a bᵀ x⁻ᵀ)"]);
}

#[test]
fn note_two_layer() {
    // ∂L/∂W₂ = dL/dy σ(W₁x)ᵀ; ∂L/∂W₁ = [(W₂ᵀ dL/dy) ⊙ σ′(W₁x)] xᵀ, dL/dy = 2 (o − y).
    assert_closed_form("note_two_layer", "w2", &["2 (o − y) hᵀ"]);
    assert_closed_form(
        "note_two_layer",
        "w1",
        &[
            "(2 w2ᵀ (o − y) ⊙ (h ⊙ (1 − h))) xᵀ",
            "(2 w2ᵀ (o − y) ⊙ h ⊙ (1 − h)) xᵀ",
            "2 (w2ᵀ (o − y) ⊙ h ⊙ (1 − h)) xᵀ",
        ],
    );
}

// ---- matrix-calculus-tutorial-page.md ----

#[test]
fn tutorial_quadratic_form() {
    // xᵀ (A + Aᵀ) in numerator layout: (A + Aᵀ) x, both the A x and the Aᵀ x terms.
    assert_closed_form(
        "tutorial_quadratic_form",
        "x",
        &["(a + aᵀ) x", "(aᵀ + a) x", "a x + aᵀ x", "aᵀ x + a x"],
    );
}

#[test]
fn tutorial_linear_map() {
    // y = W x: ∂l/∂W = ∂l/∂y xᵀ, ∂l/∂y = c.
    assert_closed_form("tutorial_linear_map", "w", &["c xᵀ"]);
}

#[test]
fn tutorial_left_product() {
    // Y = A X: ∂l/∂X = Aᵀ ∂l/∂Y, ∂l/∂Y = C.
    assert_closed_form("tutorial_left_product", "x", &["aᵀ c"]);
}

#[test]
fn extra_trace_quadratic_sigmoid() {
    // tr(Yᵀ M Y), Y = σ(W X): ((M + Mᵀ) Y ⊙ σ′(W X)) Xᵀ.
    assert_closed_form(
        "extra_trace_quadratic_sigmoid",
        "w",
        &[
            "(((m + mᵀ) y) ⊙ (y ⊙ (1 − y))) xᵀ",
            "((m + mᵀ) y ⊙ (y ⊙ (1 − y))) xᵀ",
            "((m + mᵀ) y ⊙ y ⊙ (1 − y)) xᵀ",
        ],
    );
}

// ---- tidy notation: the forms the renderer prints, no more parentheses than needed ----

#[test]
fn tidy_negated_product() {
    assert_closed_form("note_inverse", "x", &["−x⁻ᵀ a bᵀ x⁻ᵀ"]);
}

#[test]
fn tidy_hadamard_chain() {
    assert_closed_form(
        "extra_trace_quadratic_sigmoid",
        "w",
        &["((m + mᵀ) y ⊙ y ⊙ (1 − y)) xᵀ"],
    );
}

#[test]
fn tidy_entry_of_one_by_one() {
    let report = seed("tutorial_quadratic_form");
    let steps = report["steps"].as_array().expect("steps");
    assert_ne!(steps[0]["definition"], steps[1]["definition"], "{steps:#?}");
}

#[test]
fn tidy_transposed_adjoint() {
    let steps = step_texts(&seed("tutorial_quadratic_form"));
    assert!(
        steps.iter().any(|s| s.contains("∂f/∂x += (∂f/∂(xᵀ))ᵀ")),
        "{steps:#?}"
    );
}

#[test]
fn tidy_doc_comment_space() {
    let report = seed("note_x_dot_x");
    let rust = report["rust"].as_str().expect("rust");
    assert!(
        !rust.contains("\n///V") && !rust.starts_with("///V"),
        "{rust}"
    );
}

// ---- the whole file, JSON, text, errors, --expr ----

#[test]
fn every_seed_derives() {
    let o = matgrad(&["derive", SEEDS, "--show", "formulas"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.matches("Gradient:").count(), 25, "{out}");
    assert!(!out.contains("Rust:"), "only formulas were asked for");
}

#[test]
fn json_has_the_keys() {
    let report = seed("note_norm_wx_plus_b");
    assert_eq!(report["name"], "note_norm_wx_plus_b");
    assert_eq!(report["wrt"], serde_json::json!(["w", "b"]));
    for var in ["w", "b"] {
        let g = &report["gradients"][var];
        assert!(g["unicode"].is_string() && g["latex"].is_string(), "{g}");
    }
    assert_eq!(
        report["gradients"]["b"]["latex"],
        "2 \\left(w x + b\\right)"
    );
    let steps = report["steps"].as_array().expect("steps");
    assert!(!steps.is_empty());
    for s in steps {
        assert!(
            s["number"].is_u64() && s["definition"].is_string() && s["sends"].is_array(),
            "{s}"
        );
    }
    let rust = report["rust"].as_str().expect("rust");
    let file = syn::parse_file(rust).expect("the generated Rust parses");
    let names: Vec<String> = file
        .items
        .iter()
        .filter_map(|i| match i {
            syn::Item::Fn(f) => Some(f.sig.ident.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(
        names,
        ["note_norm_wx_plus_b_grad", "note_norm_wx_plus_b_grad_into"]
    );
}

#[test]
fn text_has_every_section() {
    let o = matgrad(&["derive", SEEDS, "--fn", "blog_neural_network"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for needle in [
        "pub fn blog_neural_network(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64",
        "with respect to w",
        "∂f/∂w = xᵀ (2 (a − y) ⊙ (1 − a²))",
        "  a = tanh(z)",
        "  3. a = tanh(z): ∂f/∂z += ∂f/∂a ⊙ (1 − a²)",
        "\\frac{\\partial f}{\\partial w} = x^\\top",
        "pub fn blog_neural_network_grad(",
        "pub fn blog_neural_network_grad_into(",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
}

#[test]
fn error_shows_the_source_line_and_a_caret() {
    let src = "use nalgebra::DMatrix;\n\n#[grad(wrt = x)]\nfn bad(x: &DMatrix<f64>) -> f64 {\n    x.foo()\n}\n";
    let o = matgrad(&["derive", "-", "--format", "text"], Some(src));
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("error: unknown method `foo` in a #[grad] function"),
        "{err}"
    );
    assert!(err.contains("<stdin>:5:7"), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.ends_with("    x.foo()"))
        .expect("the source line");
    let source: Vec<char> = lines[at].chars().collect();
    let carets: Vec<char> = lines[at + 1].chars().collect();
    let col = |v: &[char], pat: &str| {
        let s: String = v.iter().collect();
        s.find(pat).map(|b| s[..b].chars().count())
    };
    assert_eq!(col(&carets, "^^^"), col(&source, "foo"), "{err}");
    assert_eq!(
        col(&carets, "^^^^"),
        None,
        "the caret covers `foo` only: {err}"
    );
}

#[test]
fn error_in_json_has_line_and_column() {
    let src = "#[grad(wrt = y)]\nfn f(x: &DMatrix<f64>) -> f64 { x.sum() }\n";
    let o = matgrad(&["derive", "-", "--format", "json"], Some(src));
    assert_eq!(o.status.code(), Some(1));
    let doc: Value = serde_json::from_str(&stdout(&o)).expect("json");
    let e = &doc["errors"][0];
    assert!(
        e["message"]
            .as_str()
            .unwrap_or("")
            .contains("`wrt` names `y`"),
        "{doc:#}"
    );
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(1), Some(14)),
        "{doc:#}"
    );
    assert_eq!(e["function"], "f");
    assert!(stderr(&o).contains("^"), "rendered on stderr too");
}

#[test]
fn wrt_flag_derives_a_plain_function() {
    let src = "fn helper(v: &DVector<f64>) -> f64 { v.sum() }\n\
               fn loss(w: &DMatrix<f64>, x: &DVector<f64>) -> f64 { (w * x).norm_squared() }\n";
    let o = matgrad(
        &["derive", "-", "--wrt", "w", "--show", "formulas"],
        Some(src),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("∂f/∂w = 2 w x xᵀ"), "{out}");
    assert!(!out.contains("helper"), "{out}");
}

#[test]
fn wrt_flag_error_points_at_the_command_line() {
    let src = "fn loss(w: &DMatrix<f64>) -> f64 { w.sum() }\n";
    let o = matgrad(&["derive", "-", "--wrt", "z"], Some(src));
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("<command line>:1:7") && err.contains("--wrt z"),
        "{err}"
    );
}

#[test]
fn expr_quadratic_form() {
    let o = matgrad(
        &[
            "derive",
            "--expr",
            "x: DVector, a: DMatrix => x.transpose() * a * x",
            "--wrt",
            "x",
            "--format",
            "json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: Value = serde_json::from_str(&stdout(&o)).expect("json");
    let f = &doc["functions"][0];
    assert_eq!(f["name"], "f");
    assert!(
        f["source"]
            .as_str()
            .unwrap_or("")
            .contains("(x.transpose() * a * x)[(0, 0)]"),
        "{f:#}"
    );
    let got = unicode(f, "x");
    assert!(
        ["(a + aᵀ) x", "(aᵀ + a) x", "a x + aᵀ x"]
            .iter()
            .any(|c| squash(c) == squash(&got)),
        "{got}"
    );
}

#[test]
fn expr_positional_without_wrt_differentiates_every_variable() {
    let o = matgrad(
        &[
            "derive",
            "w: DMatrix, x: DVector, b: DVector => (w * x + b).norm_squared()",
            "--show",
            "formulas",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("with respect to w, x, b"), "{out}");
    assert!(out.contains("∂f/∂w = 2 (w x + b) xᵀ"), "{out}");
    assert!(out.contains("∂f/∂b = 2 (w x + b)"), "{out}");
}

#[test]
fn expr_matrix_value_is_an_error() {
    let o = matgrad(
        &["derive", "--expr", "x: DVector, a: DMatrix => a * x"],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("ends with a matrix") && err.contains("<expr>:2:5"),
        "{err}"
    );
}

#[test]
fn expr_bad_type_is_a_usage_error() {
    let o = matgrad(&["derive", "--expr", "x: Vec<f64> => x.sum()"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("the types are `DMatrix`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_forward_cost_counts_the_folded_trace() {
    // tr(a x b): the product a x (a.r a.c x.c), then the diagonal of (a x) b only
    // (a.r x.c), not a second product.
    assert_eq!(
        seed("note_trace_axb")["forward_cost"],
        "a.c a.r x.c + a.r x.c"
    );
}

#[test]
fn the_order_of_each_chain_is_shown() {
    let src = "#[grad(wrt = (a, b), reassociate)]\n\
               fn abv(a: &DMatrix<f64>, b: &DMatrix<f64>, v: &DVector<f64>) -> f64 { (a * b * v).norm_squared() }\n\
               #[grad(wrt = m, reassociate)]\n\
               fn s(m: &Matrix3<f64>, n: &Matrix3x2<f64>, v: &Vector2<f64>) -> f64 { (v.transpose() * n.transpose() * m * n * v)[(0, 0)] }\n";
    let o = matgrad(&["derive", "-", "--format", "json"], Some(src));
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: Value = serde_json::from_str(&stdout(&o)).expect("json");
    let f = &doc["functions"];
    // Dynamic: both orders of a b v can win, chosen at run time.
    assert_eq!(
        f[0]["orders"][0],
        "`a b v`: at run time, the cheapest of `(a b) v` (a.c a.r b.c + a.r b.c), `a (b v)` (a.c a.r + a.c b.c)"
    );
    // Static: 1×2 · 2×3 (6), · 3×3 (9), · 3×2 (6), · 2×1 (2).
    assert_eq!(
        f[1]["orders"][0],
        "`(((vᵀ nᵀ) m) n) v` (static sizes: 23 multiply-adds)"
    );
}

// ---- second order ----

#[test]
fn show_hessian_prints_the_hessian_vector_products() {
    let cases = [
        (
            "x: DVector, a: DMatrix => x.transpose() * a * x",
            "x",
            "(∇²f · v)_x = (a + aᵀ) v_x",
        ),
        (
            "x: DMatrix => ln_det(&x)",
            "x",
            "(∇²f · v)_x = −x⁻ᵀ v_xᵀ x⁻ᵀ",
        ),
        (
            "x: DMatrix, w: DVector, y: DVector => softplus(&(x * w)).sum() - y.dot(&(x * w))",
            "w",
            "(∇²f · v)_w = xᵀ (x v_w ⊙ σ(x w) ⊙ (1 − σ(x w)))",
        ),
        (
            "a: DMatrix, x: DMatrix, b: DMatrix => (a * x * b).norm_squared()",
            "x",
            "(∇²f · v)_x = 2 aᵀ a v_x b bᵀ",
        ),
    ];
    for (expr, wrt, want) in cases {
        let o = matgrad(
            &["derive", "--expr", expr, "--wrt", wrt, "--show", "hessian"],
            None,
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        assert!(out.contains(want), "{expr}: {out}");
        assert!(!out.contains("Gradient:"), "only the Hessian was asked for");
    }
    let o = matgrad(
        &[
            "derive",
            "--expr",
            "x: DMatrix => ln_det(&x)",
            "--show",
            "hessian",
            "--format",
            "json",
        ],
        None,
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(
        doc["functions"][0]["hessian_vector_products"]["x"],
        "−x⁻ᵀ v_xᵀ x⁻ᵀ"
    );
    // Without `--show hessian`, nothing of second order is derived or printed.
    let o = matgrad(&["derive", "--expr", "x: DMatrix => ln_det(&x)"], None);
    assert!(!stdout(&o).contains("∇²f"));
}

#[test]
fn show_hessian_prints_the_structure_and_the_tangent_sweep() {
    // One variable with a structure: the Hessian itself, and which build is used.
    let cases = [
        (
            "x: DMatrix, w: DVector, y: DVector => softplus(&(x * w)).sum() - y.dot(&(x * w))",
            "w",
            "∇²f = xᵀ diag(σ(x w) ⊙ (1 − σ(x w))) x",
            "f_hessian builds it so",
        ),
        (
            "a: DMatrix, x: DMatrix, b: DMatrix, c: DMatrix => (a * x * b - c).norm_squared()",
            "x",
            "∇²f = 2 (b bᵀ) ⊗ (aᵀ a)",
            "f_hessian builds it so",
        ),
        (
            "a: DMatrix, x: DMatrix, b: DMatrix => sigmoid(&(a * x * b)).sum()",
            "x",
            "∇²f = (b ⊗ aᵀ) diag(vec(σ(a x b) ⊙ (1 − σ(a x b)) ⊙ (1 − 2 σ(a x b)))) (bᵀ ⊗ a)",
            "f_hessian builds it from n Hessian-vector products",
        ),
    ];
    for (expr, wrt, formula, how) in cases {
        let o = matgrad(
            &["derive", "--expr", expr, "--wrt", wrt, "--show", "hessian"],
            None,
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        assert!(out.contains(formula), "{expr}: {out}");
        assert!(out.contains(how), "{expr}: {out}");
    }
    // The tangent sweep of a named value, step by step: ż = x v_w, then the rest.
    let o = matgrad(
        &[
            "derive",
            "--expr",
            "x: DMatrix, w: DVector => let z = x * w; z.map(|t| t.tanh()).sum()",
            "--wrt",
            "w",
            "--show",
            "hessian",
            "--format",
            "json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    let f = &doc["functions"][0];
    // The dot is U+0307, combining.
    assert_eq!(f["tangent_steps"][0]["tangent"], "z\u{307}");
    assert_eq!(f["tangent_steps"][0]["formula"], "x v_w");
    let last = f["tangent_steps"]
        .as_array()
        .and_then(|s| s.last())
        .expect("steps");
    assert_eq!(last["tangent"], "f\u{307}");
    assert_eq!(
        f["hessian"]["formula"],
        "xᵀ diag(−2 (tanh(z) ⊙ (1 − tanh(z)²))) x"
    );
    assert_eq!(f["hessian"]["built_from_structure"], true);
    // Several variables: Hessian-vector products only.
    let o = matgrad(
        &[
            "derive",
            "--expr",
            "x: DVector, a: DMatrix => x.transpose() * a * x",
            "--show",
            "hessian",
        ],
        None,
    );
    assert!(!stdout(&o).contains("∇²f ="), "{}", stdout(&o));
    let o = matgrad(&["derive", "--expr", "x: DMatrix => ln_det(&x)"], None);
    assert!(!stdout(&o).contains("∇²f"));
}

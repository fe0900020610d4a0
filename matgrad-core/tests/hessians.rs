//! Which dense Hessians `NAME_hessian` builds from their structure
//! (`matgrad_core::structure`), with the formula its docs and `matgrad derive --show
//! hessian` print, and which it leaves to the `n` Hessian-vector products: the seeds'
//! closed forms, the forms of issue 17, and the bodies of `tests/hessians/cases.rs`
//! (whose generated Hessians are checked numerically there). The expected formulas
//! are the textbook Hessians, written in the functions' names.

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

/// The Hessian's formula when a structure is recognised, and whether
/// `NAME_hessian` builds it from that structure.
fn hessian(src: &str) -> (Option<String>, bool) {
    let d = derivation(src);
    let plan = d.hessian_plan().expect("one variable with second order");
    (d.hessian_formula().map(|(h, _)| h), plan.use_structure)
}

/// A structure the cost model chooses, with its formula.
#[track_caller]
fn built_from(src: &str, want: &str) {
    assert_eq!(hessian(src), (Some(want.to_owned()), true), "{src}");
}

#[test]
fn seeds_closed_forms() {
    // xᵀAx → A + Aᵀ, as an entry of a 1×1 product, as an inner product, as a chain.
    built_from(
        "#[grad(wrt = x, hessian)] fn f(x: &DVector<f64>, a: &DMatrix<f64>) -> f64 { (x.transpose() * a * x)[(0, 0)] }",
        "a + aᵀ",
    );
    built_from(
        "#[grad(wrt = x, hessian)] fn f(x: &DVector<f64>, a: &DMatrix<f64>) -> f64 { x.dot(&(a * x)) }",
        "a + aᵀ",
    );
    built_from(
        "#[grad(wrt = x, hessian, reassociate)] fn f(x: &DVector<f64>, a: &DMatrix<f64>) -> f64 { (x.transpose() * a * x)[(0, 0)] }",
        "a + aᵀ",
    );
    // ‖Xw − y‖² → 2XᵀX.
    built_from(
        "#[grad(wrt = w, hessian)] fn f(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 { (x * w - y).norm_squared() }",
        "2 xᵀ x",
    );
    // log-sum-exp → diag(p) − ppᵀ, p = softmax(a).
    let d =
        derivation("#[grad(wrt = a, hessian)] fn f(a: &DVector<f64>) -> f64 { log_sum_exp(a) }");
    assert_eq!(
        d.hessian_formula(),
        Some((
            "diag(p) − p pᵀ".to_owned(),
            vec![("p".to_owned(), "softmax(a)".to_owned())]
        ))
    );
    assert!(d.hessian_plan().is_some_and(|p| p.use_structure));
}

#[test]
fn issue_17_forms() {
    // Logistic regression: Xᵀ diag(σ ⊙ (1 − σ)) X, with a ridge term.
    built_from(
        "#[grad(wrt = w, hessian)] fn f(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 { softplus(&(x * w)).sum() - y.dot(&(x * w)) }",
        "xᵀ diag(σ(x w) ⊙ (1 − σ(x w))) x",
    );
    built_from(
        "#[grad(wrt = w, hessian)] fn f(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>, lambda: f64) -> f64 { (x * w - y).norm_squared() + lambda * w.norm_squared() }",
        "2 xᵀ x + 2 lambda I",
    );
    // ‖A X B − C‖² → 2 (B Bᵀ) ⊗ (AᵀA), with or without the chains of `reassociate`.
    for attr in ["wrt = x, hessian", "wrt = x, hessian, reassociate"] {
        built_from(
            &format!("#[grad({attr})] fn f(a: &DMatrix<f64>, x: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 {{ (a * x * b - c).norm_squared() }}"),
            "2 (b bᵀ) ⊗ (aᵀ a)",
        );
    }
    // tr(Xᵀ A X) = ⟨X, A X⟩ → I ⊗ (A + Aᵀ).
    built_from(
        "#[grad(wrt = x, hessian)] fn f(x: &DMatrix<f64>, a: &DMatrix<f64>) -> f64 { (x.transpose() * a * x).trace() }",
        "I ⊗ (a + aᵀ)",
    );
}

#[test]
fn entrywise_second_derivatives() {
    // sigmoid″ = s (1 − s)(1 − 2s); tanh″ = −2 tanh (1 − tanh²); a row wᵀ xᵀ weighs
    // the entries of x w.
    built_from(
        "#[grad(wrt = w, hessian)] fn f(x: &DMatrix<f64>, w: &DVector<f64>) -> f64 { sigmoid(&(x * w)).sum() }",
        "xᵀ diag(σ(x w) ⊙ (1 − σ(x w)) ⊙ (1 − 2 σ(x w))) x",
    );
    built_from(
        "#[grad(wrt = w, hessian)] fn f(x: &DMatrix<f64>, w: &DVector<f64>) -> f64 { (x * w).map(|v| v.tanh()).sum() }",
        "xᵀ diag(−2 (tanh(x w) ⊙ (1 − tanh(x w)²))) x",
    );
    // softplus(−y ⊙ z)″ = σ(1 − σ) y², the labels squared by the chain rule.
    built_from(
        "#[grad(wrt = w, hessian)] fn f(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 { softplus(&(-y.component_mul(&(x * w)))).sum() }",
        "xᵀ diag(σ(−(y ⊙ x w)) ⊙ (1 − σ(−(y ⊙ x w))) ⊙ y²) x",
    );
    // A matrix variable under an entrywise sum: block diagonal, (I ⊗ Xᵀ) D (I ⊗ X).
    built_from(
        "#[grad(wrt = w, hessian)] fn f(x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 { softplus(&(x * w)).sum() }",
        "(I ⊗ xᵀ) diag(vec(σ(x w) ⊙ (1 − σ(x w)))) (I ⊗ x)",
    );
    // A row variable: w x, vec(w x) = xᵀ vec(w), so 2 x xᵀ.
    built_from(
        "#[grad(wrt = w, hessian)] fn f(w: &RowDVector<f64>, x: &DMatrix<f64>, y: &RowDVector<f64>) -> f64 { (w * x - y).norm_squared() }",
        "2 x xᵀ",
    );
}

#[test]
fn static_sizes_count_numbers() {
    let d = derivation(
        "#[grad(wrt = w, hessian)] fn f(a: &Matrix3<f64>, w: &Vector3<f64>, y: &Vector3<f64>) -> f64 { (a * w - y).norm_squared() }",
    );
    assert_eq!(
        d.hessian_formula().map(|(h, _)| h),
        Some("2 aᵀ a".to_owned())
    );
    let plan = d.hessian_plan().expect("a plan");
    // L = a (3×3) formed (9), Lᵀ L (27).
    assert_eq!(
        plan.structured.map(|p| p.to_string()),
        Some("36".to_owned())
    );
    assert!(plan.use_structure);
}

#[test]
fn costs_compare_over_identified_dimensions() {
    // ‖X w − y‖²: XᵀX (m p², with w's p = x's columns) and the n² entries written.
    let d = derivation(
        "#[grad(wrt = w, hessian)] fn f(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 { (x * w - y).norm_squared() }",
    );
    let plan = d.hessian_plan().expect("a plan");
    assert_eq!(
        plan.structured.map(|p| p.to_string()),
        Some("x.c x.c x.r + x.c x.c".to_owned())
    );
    // The column build's estimate is in the same names (x.c, not w.r).
    assert!(plan.columns.iter().all(|c| !c.to_string().contains("w.r")));
}

#[test]
fn left_to_the_hessian_vector_products() {
    // A structure the cost model cannot show cheaper for every size: Σ_c (b_c b_cᵀ) ⊗
    // (Aᵀ D_c A) costs r (m p² + p² q²), against n HVPs of m p q + m q r each.
    let (h, used) = hessian(
        "#[grad(wrt = x, hessian)] fn f(a: &DMatrix<f64>, x: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 { sigmoid(&(a * x * b)).sum() }",
    );
    assert_eq!(
        h.as_deref(),
        Some("(b ⊗ aᵀ) diag(vec(σ(a x b) ⊙ (1 − σ(a x b)) ⊙ (1 − 2 σ(a x b)))) (bᵀ ⊗ a)")
    );
    assert!(!used);
    // No structure: a network, a norm (not squared), a determinant.
    for src in [
        "#[grad(wrt = w, hessian)] fn f(x: &DMatrix<f64>, w: &DMatrix<f64>, v: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 { ((x * w).map(|z| z.tanh()) * v - y).norm_squared() }",
        "#[grad(wrt = w, hessian)] fn f(x: &DMatrix<f64>, w: &DVector<f64>) -> f64 { (x * w).norm() }",
        "#[grad(wrt = x, hessian)] fn f(x: &DMatrix<f64>) -> f64 { ln_det(x) }",
        "#[grad(wrt = w, hessian)] fn f(w: &DVector<f64>) -> f64 { w.norm_squared() * w.sum() }",
    ] {
        assert_eq!(hessian(src), (None, false), "{src}");
    }
}

/// What the generated `NAME_hessian` says and calls, for each choice.
#[test]
fn the_companion_says_which() {
    let d = derivation(
        "#[grad(wrt = w, hessian)] fn logistic(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 { softplus(&(x * w)).sum() - y.dot(&(x * w)) }",
    );
    let code = d.companions().to_string();
    assert!(code.contains("∇²f = xᵀ diag(σ(x w) ⊙ (1 − σ(x w))) x"));
    assert!(code.contains("kron_gram_to"));
    assert!(code.contains("Built from its structure"));
    // No hidden HVP companions when the Hessian does not need them.
    assert!(!code.contains("__logistic_hvp"));

    let d = derivation(
        "#[grad(wrt = x, hessian)] fn g(a: &DMatrix<f64>, x: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 { sigmoid(&(a * x * b)).sum() }",
    );
    let code = d.companions().to_string();
    assert!(code.contains("Built column by column"));
    assert!(code.contains("Structure: `∇²f = (b ⊗ aᵀ)"));
    assert!(code.contains("__g_hvp_into"));
    assert!(!code.contains("kron_gram_to"));
}

/// The bodies of `tests/hessians/cases.rs`: which of them are built from their
/// structure (the numeric checks there then cover the structured code).
#[test]
fn the_runtime_suite_covers_the_structured_path() {
    for (src, structured) in [
        ("#[grad(wrt = w, hvp, hessian)] fn s_logistic(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>, lambda: f64) -> f64 { softplus(&(x * w)).sum() - y.dot(&(x * w)) + lambda * w.norm_squared() }", true),
        ("#[grad(wrt = w, hvp, hessian)] fn s_quadratic(w: &DVector<f64>, a: &DMatrix<f64>) -> f64 { (w.transpose() * a * w)[(0, 0)] + w.dot(&(a * w)) }", true),
        ("#[grad(wrt = w, hvp, hessian)] fn s_log_sum_exp(x: &DMatrix<f64>, w: &DVector<f64>) -> f64 { log_sum_exp(&(x * w)) + 0.5 * log_sum_exp(w) }", true),
        ("#[grad(wrt = w, hvp, hessian)] fn s_entrywise(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 { let r = x * w - y; r.map(|v| (1.0 + v * v).ln()).sum() + (x * w).zip_map(y, |p, q| (p - q).powi(4)).mean() + y.component_mul(&(x * w)).map(|v| (0.3 * v).exp()).sum() + sigmoid(&(w.transpose() * x.transpose())).sum() }", true),
        ("#[grad(wrt = w, hvp, hessian)] fn s_two_factors(a: &DMatrix<f64>, b: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 { (a * b * w - y).norm_squared() + softplus(&(a * (b * w))).sum() }", true),
        // Under `reassociate` the HVPs run through `a (b v)`; `(a b)ᵀ(a b)` costs a.r b.c²
        // more than their a.c b.c² when a is tall: left to them.
        ("#[grad(wrt = w, hvp, hessian, reassociate)] fn s_two_factors(a: &DMatrix<f64>, b: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 { (a * b * w - y).norm_squared() + softplus(&(a * (b * w))).sum() }", false),
        // A square `a` (its trace says so): `a b` formed once is cheaper in both modes.
        ("#[grad(wrt = w, hvp, hessian)] fn s_square_factors(a: &DMatrix<f64>, b: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 { (a * b * w - y).norm_squared() + a.trace() }", true),
        ("#[grad(wrt = w, hvp, hessian, reassociate)] fn s_square_factors(a: &DMatrix<f64>, b: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 { (a * b * w - y).norm_squared() + a.trace() }", true),
        ("#[grad(wrt = x, hvp, hessian)] fn s_trace_quadratic(x: &DMatrix<f64>, a: &DMatrix<f64>) -> f64 { (x.transpose() * a * x).trace() }", true),
        ("#[grad(wrt = w, hvp, hessian)] fn s_columns(x: &DMatrix<f64>, w: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 { softplus(&(x * w)).sum() + sigmoid(&(x * w * b)).sum() }", false),
        ("#[grad(wrt = w, hvp, hessian)] fn s_f32(x: &DMatrix<f32>, w: &DVector<f32>, y: &DVector<f32>) -> f32 { softplus(&(x * w)).sum() - y.dot(&(x * w)) + (x * w - y).norm_squared() }", true),
        ("#[grad(wrt = w, hvp, hessian)] fn s_generic<T: nalgebra::RealField + Copy>(x: &DMatrix<T>, w: &DVector<T>) -> T { let n = T::from_usize(x.nrows()).unwrap(); (x * w).map(|z| (z * z + T::one()).ln()).sum() / n + w.norm_squared() }", true),
        ("#[grad(wrt = w, hvp, hessian)] fn s_static(a: &Matrix3<f64>, w: &Vector3<f64>, y: &Vector3<f64>, b: &SMatrix<f64, 2, 3>) -> f64 { (a * w - y).norm_squared() + (w.transpose() * a * w)[(0, 0)] + softplus(&(b * w)).sum() + log_sum_exp(&(a * w)) }", true),
        ("#[grad(wrt = x, hvp, hessian)] fn s_static_kronecker(a: &SMatrix<f64, 3, 2>, x: &SMatrix<f64, 2, 3>, b: &SMatrix<f64, 3, 4>, c: &SMatrix<f64, 3, 4>) -> f64 { (a * x * b - c).norm_squared() + (x.transpose() * x).trace() }", true),
        ("#[grad(wrt = w, hvp, hessian)] fn s_static_f32(x: &SMatrix<f32, 4, 3>, w: &Vector3<f32>) -> f32 { (x * w).map(|v| v.tanh()).sum() }", true),
        ("#[grad(wrt = w, hvp, hessian)] fn s_mixed(x: &DMatrix<f64>, w: &Vector3<f64>, y: &DVector<f64>) -> f64 { (x * w - y).norm_squared() + softplus(&(x * w)).sum() }", true),
    ] {
        let d = derivation(src);
        let plan = d.hessian_plan().expect("a plan");
        assert!(plan.pieces.is_some(), "no structure: {src}");
        assert_eq!(plan.use_structure, structured, "{src}: {plan:?}");
    }
}

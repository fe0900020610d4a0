//! scratch
use matgrad_core::{derive, Derivation};

fn derivation(attr: &str, src: &str) -> Derivation {
    let item: syn::ItemFn = syn::parse_str(src).expect("a function");
    let attr: proc_macro2::TokenStream = attr.parse().expect("attr");
    derive(attr, &item).unwrap_or_else(|f| {
        panic!(
            "{:?}",
            f.errors.iter().map(ToString::to_string).collect::<Vec<_>>()
        )
    })
}

#[test]
fn scratch() {
    for (attr, src) in [
        ("wrt = w, hessian", "fn f(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 { softplus(&(x * w)).sum() - y.dot(&(x * w)) }"),
        ("wrt = w, hessian", "fn f(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 { (x * w - y).norm_squared() }"),
        ("wrt = w, hessian", "fn f(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>, lambda: f64) -> f64 { (x * w - y).norm_squared() + lambda * w.norm_squared() }"),
        ("wrt = x, hessian", "fn f(x: &DVector<f64>, a: &DMatrix<f64>) -> f64 { (x.transpose() * a * x)[(0, 0)] }"),
        ("wrt = x, hessian, reassociate", "fn f(x: &DVector<f64>, a: &DMatrix<f64>) -> f64 { (x.transpose() * a * x)[(0, 0)] }"),
        ("wrt = x, hessian", "fn f(x: &DVector<f64>, a: &DMatrix<f64>) -> f64 { x.dot(&(a * x)) }"),
        ("wrt = x, hessian", "fn f(a: &DMatrix<f64>, x: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 { (a * x * b - c).norm_squared() }"),
        ("wrt = x, hessian, reassociate", "fn f(a: &DMatrix<f64>, x: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>) -> f64 { (a * x * b - c).norm_squared() }"),
        ("wrt = a, hessian", "fn f(a: &DVector<f64>) -> f64 { log_sum_exp(a) }"),
        ("wrt = x, hessian", "fn f(x: &DMatrix<f64>, a: &DMatrix<f64>) -> f64 { (x.transpose() * a * x).trace() }"),
        ("wrt = w, hessian", "fn f(x: &DMatrix<f64>, w: &DVector<f64>) -> f64 { sigmoid(&(x * w)).sum() }"),
        ("wrt = w, hessian", "fn f(x: &DMatrix<f64>, w: &DVector<f64>) -> f64 { (x * w).map(|v| v.tanh()).sum() }"),
        ("wrt = w, hessian", "fn f(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 { (x * w - y).map(|v| v * v).mean() }"),
        ("wrt = x, hessian", "fn f(a: &DMatrix<f64>, x: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 { sigmoid(&(a * x * b)).sum() }"),
        ("wrt = w, hessian", "fn f(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 { (x * w).map(|v| v.tanh()).norm() }"),
        ("wrt = w, hessian", "fn f(x: &DMatrix<f64>, w: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 { softplus(&(x * w)).sum() }"),
        ("wrt = w, hessian", "fn f(a: &Matrix3<f64>, w: &Vector3<f64>, y: &Vector3<f64>) -> f64 { (a * w - y).norm_squared() }"),
        ("wrt = w, hessian", "fn f(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>, lambda: f64) -> f64 { softplus(&(-y.component_mul(&(x * w)))).sum() + lambda * w.norm_squared() }"),
    ] {
        let d = derivation(attr, src);
        let p = d.hessian_plan().unwrap();
        println!("{src}\n  {:?}\n  structured {:?} columns {} use {}", d.hessian_formula(), p.structured.as_ref().map(|s| s.to_string()), p.columns_text(), p.use_structure);
    }
}

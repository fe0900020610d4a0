//! How long `#[grad]` takes to expand a 50-operation function (target: well under
//! 20 ms; it runs in every build of every user crate).
//!
//! `cargo bench -p matgrad-core --bench expand`

use criterion::{criterion_group, criterion_main, Criterion};
use std::fmt::Write;

/// A two-layer network, unrolled over ten mini-layers: 50+ operations.
fn fifty_operations() -> (proc_macro2::TokenStream, proc_macro2::TokenStream) {
    let mut body = String::from("let h0 = x * w;\n");
    for i in 1..=10 {
        let p = i - 1;
        let _ = writeln!(
            body,
            "let a{i} = h{p}.map(|v| v.tanh() * 0.5 + v * 0.1);\n\
             let b{i} = a{i}.component_mul(&a{i}) - a{i}.scale(s);\n\
             let c{i} = add_row(&b{i}, r);\n\
             let h{i} = sigmoid(&c{i});"
        );
    }
    body.push_str("(h10 - y).norm_squared() + s * w.norm_squared()");
    let src = format!(
        "fn loss(x: &DMatrix<f64>, w: &DMatrix<f64>, r: &RowDVector<f64>, y: &DMatrix<f64>, s: f64) -> f64 {{ {body} }}"
    );
    (quote::quote!(wrt = (w, r, s)), src.parse().expect("tokens"))
}

fn bench(c: &mut Criterion) {
    let (attr, item) = fifty_operations();
    let out = matgrad_core::expand(attr.clone(), item.clone());
    assert!(
        !out.to_string().contains("compile_error"),
        "the benchmark function must expand"
    );
    c.bench_function("expand 50 operations", |b| {
        b.iter(|| matgrad_core::expand(attr.clone(), item.clone()));
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

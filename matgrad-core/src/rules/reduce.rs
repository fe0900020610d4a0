//! Reductions to a scalar: `sum`, `mean`, `norm_squared`, `norm`, `dot`, `trace`,
//! and the trace of a product.

use super::{
    app, apply, Contrib, Formula, Forward, Names, Rule, ShapeRule, Site, StaticForward, StaticNames,
};
use crate::cost::{self, Cost, Poly};
use crate::simplify::Term;
use crate::sym::{Operand, Sym};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// `ā += alpha · a` (not transposed).
fn axpy(alpha: Sym, a: Operand) -> Contrib {
    Contrib::Axpy {
        alpha,
        a,
        ta: false,
    }
}

/// A reduction written as a nalgebra method in both backends: `a.sum()`.
fn method(s: Site<'_>, n: &dyn Names, name: &str) -> Forward {
    let (a, m) = (n.view(s.arg_id(0)), Ident::new(name, Span::call_site()));
    Forward::Scalar(quote!(#a.#m()))
}

/// [`method`] for the static backend.
fn method_static(s: Site<'_>, n: &dyn StaticNames, name: &str) -> StaticForward {
    let (a, m) = (n.value(s.arg_id(0)), Ident::new(name, Span::call_site()));
    StaticForward::Expr(quote!(#a.#m()))
}

/// `Σ a`  →  ā += s̄ 1.
pub struct Sum;

impl Rule for Sum {
    fn name(&self) -> String {
        "sum".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Scalar
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries_of(s, shapes, 0)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        method(s, n, "sum")
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        method_static(s, n, "sum")
    }
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        vec![(0, Contrib::Fill(Sym::Grad))]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "Σ", 1)
    }
}

/// `Σ a / (m n)`  →  ā += s̄ / (m n) 1.
pub struct Mean;

impl Rule for Mean {
    fn name(&self) -> String {
        "mean".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Scalar
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries_of(s, shapes, 0)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        method(s, n, "mean")
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        method_static(s, n, "mean")
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        vec![(0, Contrib::Fill(Sym::div(Sym::Grad, Sym::Len(s.arg(0)))))]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "mean", 1)
    }
}

/// `‖a‖²`  →  ā += 2 s̄ a.
pub struct NormSquared;

impl Rule for NormSquared {
    fn name(&self) -> String {
        "norm2".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Scalar
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries_of(s, shapes, 0)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        method(s, n, "norm_squared")
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        method_static(s, n, "norm_squared")
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        vec![(0, axpy(Sym::mul(Sym::Lit(2.0), Sym::Grad), s.arg(0)))]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "normsq", 1)
    }
}

/// `‖a‖`  →  ā += s̄ a / ‖a‖.
pub struct Norm;

impl Rule for Norm {
    fn name(&self) -> String {
        "norm".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Scalar
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries_of(s, shapes, 0)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        method(s, n, "norm")
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        method_static(s, n, "norm")
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        vec![(0, axpy(Sym::div(Sym::Grad, Sym::Val(s.id)), s.arg(0)))]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "norm", 1)
    }
}

/// `Σ a ⊙ b` (`a.dot(&b)`)  →  ā += s̄ b, b̄ += s̄ a.
pub struct Dot;

impl Rule for Dot {
    fn name(&self) -> String {
        "dot".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Scalar
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries_of(s, shapes, 0)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, text) = (n.rt(), n.text(s.id));
        let (a, b) = (n.view(s.arg_id(0)), n.view(s.arg_id(1)));
        Forward::Scalar(quote!(#rt::dot(#a, #b, #text)))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let (a, b) = (n.value(s.arg_id(0)), n.value(s.arg_id(1)));
        StaticForward::Expr(quote!(#a.dot(&#b)))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        vec![
            (0, axpy(Sym::Grad, s.arg(1))),
            (1, axpy(Sym::Grad, s.arg(0))),
        ]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "dot", 2)
    }
}

/// `tr a`  →  ā += s̄ I.
pub struct Trace;

impl Rule for Trace {
    fn name(&self) -> String {
        "tr".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Scalar
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        Cost::fixed(cost::arg(s, shapes, 0).map_or(Poly::num(1), |(r, _)| r))
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, text, a) = (n.rt(), n.text(s.id), n.view(s.arg_id(0)));
        Forward::Scalar(quote!(#rt::trace(#a, #text)))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        method_static(s, n, "trace")
    }
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        vec![(0, Contrib::Diag(Sym::Grad))]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "tr", 1)
    }
}

/// `tr(p q) = Σ p ⊙ qᵀ` from the product's diagonal entries only, with the bits the
/// product and the trace give (see [`crate::rewrite`])  →  p̄ += s̄ qᵀ, q̄ += s̄ pᵀ.
pub struct TraceMul;

impl Rule for TraceMul {
    fn name(&self) -> String {
        "trmul".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Scalar
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries_of(s, shapes, 0)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, text) = (n.rt(), n.text(s.id));
        let (p, q) = (n.view(s.arg_id(0)), n.view(s.arg_id(1)));
        Forward::Scalar(quote!(#rt::trace_of_product(#p, #q, #text)))
    }
    /// As written: the product's bits, then its trace.
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let (p, q): (TokenStream, TokenStream) = (n.value(s.arg_id(0)), n.value(s.arg_id(1)));
        StaticForward::Expr(quote!((#p * #q).trace()))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        let t = |k: usize| Contrib::Axpy {
            alpha: Sym::Grad,
            a: s.arg(k),
            ta: true,
        };
        vec![(0, t(1)), (1, t(0))]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        app("tr", vec![apply(s, f, "*", 2)])
    }
}

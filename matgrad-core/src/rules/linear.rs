//! Linear maps: `a + b`, `a - b`, `-a`, `s a`, `a / s`, `aᵀ`, `a.add_scalar(s)`,
//! `a[(i, j)]`, and the vectors of ones that end a summed chain.

use super::tangent::{self as tg, Tangent};
use super::Tangents;
use super::{
    app, apply, copy, value, Contrib, Formula, Forward, Names, Rule, ShapeRule, Site,
    StaticForward, StaticNames,
};
use crate::cost::{self, Cost, Poly};
use crate::ir::Count;
use crate::ir::Op;
use crate::simplify::Term;
use crate::sym::{Operand, Sym};
use quote::quote;

/// `a + b`  →  ā += Ḡ, b̄ += Ḡ.
pub struct Add;

impl Rule for Add {
    fn name(&self) -> String {
        "m+".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Entrywise(0, 1)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    /// `add_to`, or with a product operand it computes, one GEMM from the other
    /// operand ([`summed_forward`](super::product::summed_forward)).
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        if let Some(f) = super::product::summed_forward(s, n, false) {
            return f;
        }
        let (rt, out, text) = (n.rt(), n.out(), n.text(s.id));
        let (a, b) = (n.view(s.arg_id(0)), n.view(s.arg_id(1)));
        Forward::Matrix(quote!(#rt::add_to(&mut #out, #a, #b, #text);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let (a, b) = (n.value(s.arg_id(0)), n.value(s.arg_id(1)));
        StaticForward::Expr(quote!(#a + #b))
    }
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        vec![
            (0, copy(Sym::Lit(1.0), false)),
            (1, copy(Sym::Lit(1.0), false)),
        ]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "+", 2)
    }
    /// ẏ = ȧ + ḃ.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let (da, db) = (tg::darg(s, t, 0), tg::darg(s, t, 1));
        Ok(tg::add(t, da, db))
    }
}

/// `a - b`  →  ā += Ḡ, b̄ −= Ḡ.
pub struct Sub;

impl Rule for Sub {
    fn name(&self) -> String {
        "m-".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Entrywise(0, 1)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    /// `sub_to`, or with a product operand it computes, one GEMM from the other
    /// operand ([`summed_forward`](super::product::summed_forward)).
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        if let Some(f) = super::product::summed_forward(s, n, true) {
            return f;
        }
        let (rt, out, text) = (n.rt(), n.out(), n.text(s.id));
        let (a, b) = (n.view(s.arg_id(0)), n.view(s.arg_id(1)));
        Forward::Matrix(quote!(#rt::sub_to(&mut #out, #a, #b, #text);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let (a, b) = (n.value(s.arg_id(0)), n.value(s.arg_id(1)));
        StaticForward::Expr(quote!(#a - #b))
    }
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        vec![
            (0, copy(Sym::Lit(1.0), false)),
            (1, copy(Sym::Lit(-1.0), false)),
        ]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        app("+", vec![value(s, f, 0), app("neg", vec![value(s, f, 1)])])
    }
    /// ẏ = ȧ − ḃ.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let (da, db) = (tg::darg(s, t, 0), tg::darg(s, t, 1));
        Ok(tg::sub(t, da, db))
    }
}

/// `-a`  →  ā −= Ḡ.
pub struct Neg;

impl Rule for Neg {
    fn name(&self) -> String {
        "mneg".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Like(0)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, a) = (n.rt(), n.out(), n.view(s.arg_id(0)));
        Forward::Matrix(quote!(#rt::neg_to(&mut #out, #a);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let a = n.value(s.arg_id(0));
        StaticForward::Expr(quote!(-#a))
    }
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        vec![(0, copy(Sym::Lit(-1.0), false))]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "neg", 1)
    }
    /// Linear in its argument: the same operation on ȧ.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        tg::linear(s, t)
    }
}

/// `s a`, `a * s`, `a.scale(s)`; args (a, s)  →  ā += s Ḡ, s̄ += Σ Ḡ ⊙ a.
pub struct Scale;

impl Rule for Scale {
    fn name(&self) -> String {
        "scale".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Like(0)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out) = (n.rt(), n.out());
        let (a, k) = (n.view(s.arg_id(0)), n.scalar(s.arg_id(1)));
        Forward::Matrix(quote!(#rt::scale_to(&mut #out, #a, #k);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let (a, k) = (n.value(s.arg_id(0)), n.value(s.arg_id(1)));
        StaticForward::Expr(quote!(#a * #k))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        vec![
            (0, copy(s.sarg(1), false)),
            (1, Contrib::Scalar(Sym::Dot(Operand::Grad, s.arg(0)))),
        ]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        app("scale", vec![value(s, f, 1), value(s, f, 0)])
    }
    /// ẏ = ȧ s + a ṡ.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        tg::bilinear(s, t)
    }
}

/// `a / s`; args (a, s)  →  ā += Ḡ / s, s̄ −= Σ Ḡ ⊙ a / s².
pub struct DivScalar;

impl Rule for DivScalar {
    fn name(&self) -> String {
        "mdiv".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Like(0)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out) = (n.rt(), n.out());
        let (a, k) = (n.view(s.arg_id(0)), n.scalar(s.arg_id(1)));
        Forward::Matrix(quote!(#rt::div_scalar_to(&mut #out, #a, #k);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let (a, k) = (n.value(s.arg_id(0)), n.value(s.arg_id(1)));
        StaticForward::Expr(quote!(#a / #k))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        let k = s.sarg(1);
        vec![
            (0, copy(Sym::div(Sym::Lit(1.0), k.clone()), false)),
            (
                1,
                Contrib::Scalar(Sym::neg(Sym::div(
                    Sym::Dot(Operand::Grad, s.arg(0)),
                    Sym::mul(k.clone(), k),
                ))),
            ),
        ]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "/", 2)
    }
    /// ẏ = ȧ / s − y ṡ / s.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let (sv, y) = (tg::arg(s, t, 1), tg::this(s, t));
        let d0 = tg::darg(s, t, 0);
        let left = tg::push_all(t, Op::DivScalar, &[d0, Some(sv)]);
        let ds = tg::darg(s, t, 1);
        let k = ds.and_then(|ds| tg::expr(t, Sym::neg(Sym::div(Sym::Val(ds), Sym::Val(sv)))));
        let right = tg::push_all(t, Op::Scale, &[Some(y), k]);
        Ok(tg::add(t, left, right))
    }
}

/// `aᵀ`  →  ā += Ḡᵀ.
pub struct Transpose;

impl Rule for Transpose {
    fn name(&self) -> String {
        "t".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Transposed(0)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, a) = (n.rt(), n.out(), n.view(s.arg_id(0)));
        Forward::Matrix(quote!(#rt::transpose_to(&mut #out, #a);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let a = n.value(s.arg_id(0));
        StaticForward::Expr(quote!(#a.transpose()))
    }
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        vec![(0, copy(Sym::Lit(1.0), true))]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "t", 1)
    }
    /// Linear in its argument: the same operation on ȧ.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        tg::linear(s, t)
    }
}

/// `a + s 1` (`a.add_scalar(s)`); args (a, s)  →  ā += Ḡ, s̄ += Σ Ḡ.
pub struct AddScalar;

impl Rule for AddScalar {
    fn name(&self) -> String {
        "add_scalar".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Like(0)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out) = (n.rt(), n.out());
        let (a, k) = (n.view(s.arg_id(0)), n.scalar(s.arg_id(1)));
        Forward::Matrix(quote!(#rt::add_scalar_to(&mut #out, #a, #k);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let (a, k) = (n.value(s.arg_id(0)), n.value(s.arg_id(1)));
        StaticForward::Expr(quote!(#a.add_scalar(#k)))
    }
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        vec![
            (0, copy(Sym::Lit(1.0), false)),
            (1, Contrib::Scalar(Sym::Sum(Operand::Grad))),
        ]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "+", 2)
    }
    /// ẏ = ȧ + ṡ 𝟙.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let a = tg::arg(s, t, 0);
        Ok(match (tg::darg(s, t, 0), tg::darg(s, t, 1)) {
            (Some(da), Some(ds)) => Some(t.push(Op::AddScalar, vec![da, ds])),
            (Some(da), None) => Some(da),
            (None, Some(ds)) => tg::entrywise(t, &[a], Sym::Val(ds)),
            (None, None) => None,
        })
    }
}

/// `a[(i, j)]` (and `v[i]` of a vector), `i` and `j` counts  →  ā_ij += s̄.
pub struct Index<'a>(pub &'a Count, pub &'a Count);

impl Rule for Index<'_> {
    fn name(&self) -> String {
        format!("idx{}{}", self.0, self.1)
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Scalar
    }
    fn cost(&self, _: Site<'_>, _: &[Option<(Poly, Poly)>]) -> Cost {
        Cost::fixed(Poly::num(1))
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, text, a) = (n.rt(), n.text(s.id), n.view(s.arg_id(0)));
        let (i, j) = (self.0.tokens(), self.1.tokens());
        Forward::Scalar(quote!(#rt::index(#a, #i, #j, #text)))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let (a, i, j) = (n.value(s.arg_id(0)), self.0.tokens(), self.1.tokens());
        StaticForward::Expr(quote!(#a[(#i, #j)]))
    }
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        vec![(0, Contrib::Index(Sym::Grad, self.0.clone(), self.1.clone()))]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        // The entry of a 1×1 matrix is the matrix: `xᵀ a x`, not `(xᵀ a x)₀₀`.
        if f.is_one_by_one(s.arg_id(0)) {
            value(s, f, 0)
        } else {
            self.entry(value(s, f, 0))
        }
    }
    /// Linear in its argument: the same operation on ȧ.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        tg::linear(s, t)
    }
}

impl Index<'_> {
    /// `m_ij`, always written as an entry (a step of the reverse sweep shows it so).
    pub fn entry(&self, m: Term) -> Term {
        app("idx", vec![m, count_term(self.0), count_term(self.1)])
    }
}

/// A count as math: its number, or its expression as written.
pub fn count_term(c: &Count) -> Term {
    match c {
        Count::Lit(n) => Term::Num(*n as f64),
        Count::Expr(_) => Term::sym(&c.to_string()),
    }
}

/// `𝟙ᵀ` (a row as long as node `of` has rows) when `row`, else `𝟙` (a column as
/// long as `of` has columns): the ends of a summed chain. A constant: no adjoint.
pub struct Ones(pub usize, pub bool);

impl Rule for Ones {
    fn name(&self) -> String {
        if self.1 { "ones_row" } else { "ones_col" }.into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Ones {
            of: self.0,
            row: self.1,
        }
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, _: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out) = (n.rt(), n.out());
        let (v, one) = (n.view(self.0), n.sym(&Sym::Lit(1.0)));
        Forward::Matrix(if self.1 {
            quote!(#rt::fill_to(&mut #out, false, #one, 1, #v.nrows());)
        } else {
            quote!(#rt::fill_to(&mut #out, false, #one, #v.ncols(), 1);)
        })
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let (t, one) = (n.ty(n.shape(s.id)), n.sym(&Sym::Lit(1.0), 0));
        StaticForward::Expr(quote!(#t::from_element(#one)))
    }
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        Vec::new()
    }
    fn definition(&self, _: Site<'_>, _: &dyn Formula) -> Term {
        let one = Term::sym("𝟙");
        if self.1 {
            app("t", vec![one])
        } else {
            one
        }
    }
    /// A constant: ẏ = 0.
    fn tangent(&self, _: Site<'_>, _: &mut dyn Tangents) -> Tangent {
        Ok(None)
    }
}

//! Constructors: `DMatrix::identity(r, c)`, `DMatrix::zeros(r, c)`,
//! `DMatrix::from_element(r, c, s)` and their vector and static forms
//! (`DVector::zeros(n)`, `Matrix3::identity()`). The node's kind is the constructor's
//! type, and its sizes are counts of the body; only `from_element`'s scalar can carry
//! an adjoint.

use super::tangent::{self as tg, Tangent};
use super::Tangents;
use super::{
    app, value, Contrib, Formula, Forward, Names, Rule, ShapeRule, Site, StaticForward, StaticNames,
};
use crate::cost::{self, Cost, Poly};
use crate::ir::Count;
use crate::simplify::Term;
use crate::sym::{Operand, Sym};
use quote::quote;

/// `rows, cols` as the runtime kernels take them (a vector's other dimension is the
/// count 1).
fn sizes(rows: &Count, cols: &Count) -> proc_macro2::TokenStream {
    let (r, c) = (rows.tokens(), cols.tokens());
    quote!(#r, #c)
}

/// `I`, `rows × cols` (ones on the main diagonal): `DMatrix::identity(r, c)`,
/// `Matrix3::identity()`. A constant.
pub struct Identity<'a>(pub &'a Count, pub &'a Count);

impl Rule for Identity<'_> {
    fn name(&self) -> String {
        format!("identity[{},{}]", self.0, self.1)
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Declared
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, _: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, sizes) = (n.rt(), n.out(), sizes(self.0, self.1));
        Forward::Matrix(quote!(#rt::identity_to(&mut #out, #sizes);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let t = n.ty(n.shape(s.id));
        StaticForward::Expr(quote!(#t::identity()))
    }
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        Vec::new()
    }
    fn definition(&self, _: Site<'_>, _: &dyn Formula) -> Term {
        Term::sym("I")
    }
    /// A constant: ẏ = 0.
    fn tangent(&self, _: Site<'_>, _: &mut dyn Tangents) -> Tangent {
        Ok(None)
    }
}

/// `s 𝟙`, `rows × cols`: `DMatrix::from_element(r, c, s)`, and `zeros` with `s` the
/// literal 0; args (s)  →  s̄ += Σ Ḡ.
pub struct Fill<'a>(pub &'a Count, pub &'a Count);

impl Rule for Fill<'_> {
    fn name(&self) -> String {
        format!("fill[{},{}]", self.0, self.1)
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Declared
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, sizes) = (n.rt(), n.out(), sizes(self.0, self.1));
        let x = n.scalar(s.arg_id(0));
        Forward::Matrix(quote!(#rt::fill_to(&mut #out, false, #x, #sizes);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let (t, x) = (n.ty(n.shape(s.id)), n.value(s.arg_id(0)));
        StaticForward::Expr(quote!(#t::from_element(#x)))
    }
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        vec![(0, Contrib::Scalar(Sym::Sum(Operand::Grad)))]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        app("scale", vec![value(s, f, 0), Term::sym("𝟙")])
    }
    /// Linear in its argument: the same operation on ȧ.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        tg::linear(s, t)
    }
}

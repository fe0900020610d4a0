//! Leaves: parameters, float literals, scalar constants from outside the function
//! (`LAMBDA`, `std::f64::consts::PI`), and counts made floats (`x.nrows() as f64`).
//! None has an adjoint to send: a parameter's adjoint is the gradient itself.

use super::tangent::Tangent;
use super::{
    Contrib, Formula, Forward, Names, Rule, ShapeRule, Site, StaticForward, StaticNames, Tangents,
};
use crate::cost::{Cost, Poly};
use crate::emit::float_ty;
use crate::ir::{Count, Float};
use crate::simplify::Term;
use crate::sym::Sym;
use proc_macro2::TokenStream;

/// Parameter `i` of the signature.
pub struct Param(pub usize);

impl Rule for Param {
    fn name(&self) -> String {
        format!("param{}", self.0)
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Declared
    }
    fn cost(&self, _: Site<'_>, _: &[Option<(Poly, Poly)>]) -> Cost {
        Cost::default()
    }
    fn forward(&self, _: Site<'_>, _: &dyn Names) -> Forward {
        Forward::Nothing
    }
    fn forward_static(&self, _: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        StaticForward::Expr(n.param(self.0))
    }
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        Vec::new()
    }
    fn definition(&self, s: Site<'_>, _: &dyn Formula) -> Term {
        Term::sym(&s.g.label(s.id))
    }
    /// ẋ: the direction of a `wrt` variable, else zero.
    fn tangent(&self, _: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        Ok(t.direction(self.0))
    }
}

/// A float literal, as the function's float type reads it.
pub struct Lit(pub f64);

impl Rule for Lit {
    fn name(&self) -> String {
        format!("{:?}", self.0)
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Scalar
    }
    fn cost(&self, _: Site<'_>, _: &[Option<(Poly, Poly)>]) -> Cost {
        Cost::default()
    }
    fn forward(&self, _: Site<'_>, n: &dyn Names) -> Forward {
        Forward::Scalar(n.sym(&Sym::Lit(self.0)))
    }
    fn forward_static(&self, _: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        StaticForward::Expr(n.sym(&Sym::Lit(self.0), 0))
    }
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        Vec::new()
    }
    fn definition(&self, _: Site<'_>, _: &dyn Formula) -> Term {
        Term::Num(self.0)
    }
    /// A constant: ẏ = 0.
    fn tangent(&self, _: Site<'_>, _: &mut dyn Tangents) -> Tangent {
        Ok(None)
    }
}

/// An outside scalar constant, written as the user wrote it.
pub struct Const<'a>(pub &'a TokenStream);

impl Rule for Const<'_> {
    fn name(&self) -> String {
        self.0.to_string().replace(' ', "")
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Scalar
    }
    fn cost(&self, _: Site<'_>, _: &[Option<(Poly, Poly)>]) -> Cost {
        Cost::default()
    }
    fn forward(&self, _: Site<'_>, _: &dyn Names) -> Forward {
        Forward::Scalar(self.0.clone())
    }
    fn forward_static(&self, _: Site<'_>, _: &dyn StaticNames) -> StaticForward {
        StaticForward::Expr(self.0.clone())
    }
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        Vec::new()
    }
    fn definition(&self, s: Site<'_>, _: &dyn Formula) -> Term {
        Term::sym(&s.node().text)
    }
    /// A constant: ẏ = 0.
    fn tangent(&self, _: Site<'_>, _: &mut dyn Tangents) -> Tangent {
        Ok(None)
    }
}

/// `count as T`: a count of the body (`x.nrows()`, `x.len() - 1`) as a scalar of the
/// function's float type (a batch mean's divisor), a constant.
pub struct Cast<'a>(pub &'a Count);

impl Rule for Cast<'_> {
    fn name(&self) -> String {
        format!("float[{}]", self.0)
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Scalar
    }
    fn cost(&self, _: Site<'_>, _: &[Option<(Poly, Poly)>]) -> Cost {
        Cost::default()
    }
    fn forward(&self, s: Site<'_>, _: &dyn Names) -> Forward {
        Forward::Scalar(cast(self.0, &s.g.float))
    }
    fn forward_static(&self, _: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        StaticForward::Expr(cast(self.0, &n.float()))
    }
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        Vec::new()
    }
    fn definition(&self, _: Site<'_>, _: &dyn Formula) -> Term {
        Term::sym(&self.0.to_string())
    }
    /// A constant: ẏ = 0.
    fn tangent(&self, _: Site<'_>, _: &mut dyn Tangents) -> Tangent {
        Ok(None)
    }
}

/// The count `c` as a value of `float`: `(c as f64)`, or through `f64` for a generic
/// float type (`T::from_usize` would round the same way for every count below 2⁵³).
fn cast(c: &Count, float: &Float) -> proc_macro2::TokenStream {
    let c = c.tokens();
    match float {
        Float::Generic(t) => {
            let rt = crate::emit::rt();
            quote::quote!(#rt::real::<#t>(#c as f64))
        }
        _ => {
            let t = float_ty(float);
            quote::quote!((#c as #t))
        }
    }
}

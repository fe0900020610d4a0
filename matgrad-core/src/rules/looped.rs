//! `for t in start..end { body }` with a trip count known only at run time (SPEC §9).
//!
//! The body is a hidden step function differentiated by `#[grad]` itself (see
//! [`crate::ir::Loop`]), so every rule of the language holds inside it, loops
//! included. What this rule adds is the loop around it: the forward pass runs the
//! step `end − start` times, saving the carried values before each iteration; the
//! reverse sweep runs the iterations backwards, each one the step's vector-Jacobian
//! product at the values saved for it: with `λ` the adjoints of the carried values
//! (starting from the node's own adjoint), `(λ, k̄ᵢ) = stepᵀ(cᵢ, k, t)·λ` and the
//! read values' adjoints `k̄ = Σᵢ k̄ᵢ`. Both passes need the workspace and the
//! step's companions, so the dynamic backend writes them in `emit::looped`; this
//! file holds the rest of the rule, its adjoint included: each argument's adjoint
//! receives its part of that one sweep ([`Operand::Part`]).

use super::tangent;
use super::tangent::Tangent;
use super::{
    Contrib, Formula, Forward, Names, Rule, ShapeRule, Site, StaticForward, StaticNames, Tangents,
    Unsupported,
};
use crate::cost::{Cost, Poly};
use crate::ir::{Graph, Kind, Loop, NodeId, Op};
use crate::simplify::Term;
use crate::sym::{Operand, Sym};
use quote::quote;
use syn::spanned::Spanned;

/// The rule of a run-time loop.
pub struct RunTimeLoop<'a>(pub &'a Loop);

impl Rule for RunTimeLoop<'_> {
    fn name(&self) -> String {
        format!("loop{}", self.0.ordinal)
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Declared
    }
    /// Unknown at compile time (the trip count and the body's cost are the step
    /// function's): counted as nothing, which makes the cost model leave the
    /// products around a loop in the order written.
    fn cost(&self, _: Site<'_>, _: &[Option<(Poly, Poly)>]) -> Cost {
        Cost::default()
    }
    /// Written by `emit::looped`, which has the workspace (the dynamic backend asks
    /// it for this node instead).
    fn forward(&self, _: Site<'_>, _: &dyn Names) -> Forward {
        Forward::Nothing
    }
    /// The parser refuses run-time loops in functions of static sizes.
    fn forward_static(&self, _: Site<'_>, _: &dyn StaticNames) -> StaticForward {
        StaticForward::Expr(quote!(::core::unreachable!()))
    }
    /// Argument `k` (a carried value before the loop, or a value the body reads that
    /// depends on a `wrt` variable) receives part `k` of the reverse sweep.
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        let l = self.0;
        parts(s, l.carried.len() + l.active)
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        let args = s.node().args.iter().map(|&a| f.value(a)).collect();
        Term::app(&format!("loop_{}", self.0.result_name), args)
    }
    /// The loop followed along a direction: the loop carrying `(c, ċ)` and reading
    /// `(k, k̇)`, its step the tangent of this one's ([`crate::tangent::loop_step`]),
    /// its value `ċ` of this loop's variable (its other carried values are
    /// [`LoopOut`]s of it). A constant carried value or read enters with a zero
    /// tangent.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let l = self.0;
        let (c, a) = (l.carried.len(), l.active);
        let n = s.node().args.len();
        let item = tangent_item(s.g, &l.step).ok_or_else(unsupported)?;
        t.item(item);
        let values = |t: &mut dyn Tangents, r: std::ops::Range<usize>| -> Vec<NodeId> {
            r.map(|k| tangent::arg(s, t, k)).collect()
        };
        let tangents = |t: &mut dyn Tangents, r: std::ops::Range<usize>| -> Vec<NodeId> {
            r.map(|k| match tangent::darg(s, t, k) {
                Some(d) => d,
                None => {
                    let v = tangent::arg(s, t, k);
                    match t.kind(v) {
                        Kind::Matrix(_) => tangent::zeros_like(t, v),
                        Kind::Scalar => t.push(Op::Lit(0.0), Vec::new()),
                    }
                }
            })
            .collect()
        };
        let mut args = values(t, 0..c);
        args.extend(tangents(t, 0..c));
        args.extend(values(t, c..c + a));
        args.extend(tangents(t, c..c + a));
        args.extend(values(t, c + a..n));
        // Numbered after every loop of the function (the copies of the originals
        // keep theirs in the tangent graph).
        let after =
            s.g.nodes
                .iter()
                .filter_map(|n| match &n.op {
                    Op::Loop(l) => Some(l.ordinal + 1),
                    _ => None,
                })
                .max()
                .unwrap_or(0);
        let tl = Loop {
            ordinal: after + l.ordinal,
            step: tangent_step(&l.step),
            carried: l.carried.iter().chain(&l.carried).copied().collect(),
            active: 2 * a,
            extra: l.extra.clone(),
            start: l.start.clone(),
            end: l.end.clone(),
            result: c + l.result,
            result_name: format!("d{}", l.result_name),
        };
        Ok(Some(t.push(Op::Loop(Box::new(tl)), args)))
    }
}

/// The name of step function `step`'s tangent.
fn tangent_step(step: &proc_macro2::Ident) -> proc_macro2::Ident {
    quote::format_ident!("{}_tangent", step)
}

/// The item of step function `step`'s tangent: the step function's (one of `g`'s
/// items) renamed, with `loop_tangent` added to its attribute.
fn tangent_item(g: &Graph, step: &proc_macro2::Ident) -> Option<proc_macro2::TokenStream> {
    let mut f = g
        .items
        .iter()
        .filter_map(|it| syn::parse2::<syn::ItemFn>(it.clone()).ok())
        .find(|f| f.sig.ident == *step)?;
    f.sig.ident = tangent_step(step);
    let attr = f
        .attrs
        .iter_mut()
        .find(|a| a.path().segments.last().is_some_and(|s| s.ident == "grad"))?;
    let syn::Meta::List(list) = &mut attr.meta else {
        return None;
    };
    let flag = proc_macro2::Ident::new(crate::symbol::LOOP_TANGENT, list.span());
    list.tokens.extend(quote!(, #flag));
    Some(quote!(#f))
}

/// Arguments `0..n` of node `s` each receive their part of what the node's reverse
/// sweep computes at once ([`Operand::Part`]): an axpy of a matrix, the entry of a
/// 1×1 part for a scalar.
pub(super) fn parts(s: Site<'_>, n: usize) -> Vec<(usize, Contrib)> {
    (0..n)
        .filter_map(|k| {
            let arg = *s.node().args.get(k)?;
            let part = Operand::Part(s.id, k);
            Some((
                k,
                match s.g.node(arg).kind {
                    Kind::Scalar => Contrib::Scalar(Sym::Entry(part, 0, 0)),
                    Kind::Matrix(_) => Contrib::Axpy {
                        alpha: Sym::Lit(1.0),
                        a: part,
                        ta: false,
                    },
                },
            ))
        })
        .collect()
}

/// A loop whose step function is not among the graph's items (it always is: this
/// is a bug of matgrad's if it is ever reported).
fn unsupported() -> Unsupported {
    Unsupported(
        "a `for` loop whose trip count is known only at run time, whose step function matgrad could not find (a bug of matgrad's: please report it; a literal trip count is unrolled instead)".to_owned(),
    )
}

/// Carried variable `j`'s value after a run-time loop, when it is not the loop
/// node's own; args: (the loop node).
pub struct LoopOut(pub usize);

impl Rule for LoopOut {
    fn name(&self) -> String {
        format!("loop_out{}", self.0)
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Declared
    }
    fn cost(&self, _: Site<'_>, _: &[Option<(Poly, Poly)>]) -> Cost {
        Cost::default()
    }
    /// Read from the loop's saved values by `emit::looped`.
    fn forward(&self, _: Site<'_>, _: &dyn Names) -> Forward {
        Forward::Nothing
    }
    fn forward_static(&self, _: Site<'_>, _: &dyn StaticNames) -> StaticForward {
        StaticForward::Expr(quote!(::core::unreachable!()))
    }
    /// Nothing through the loop node's adjoint (whose value is another variable's):
    /// the loop's reverse sweep starts variable `j`'s adjoint from this node's.
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        Vec::new()
    }
    fn definition(&self, s: Site<'_>, _: &dyn Formula) -> Term {
        Term::sym(&s.g.label(s.id))
    }
    /// Carried variable `j`'s tangent: variable `C + j` of the tangent loop (`C`
    /// carried values), the loop's tangent.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let of = s.arg_id(0);
        let Op::Loop(l) = &s.g.node(of).op else {
            return Err(unsupported());
        };
        let Some(tl) = t.tangent(of) else {
            return Ok(None);
        };
        Ok(Some(
            t.push(Op::LoopOut(l.carried.len() + self.0), vec![tl]),
        ))
    }
}

/// `f(&a, s, …)`, a user's function of matrices with the user's adjoint
/// `f_adjoint(&a, s, …, &ḡ) -> (ā, s̄, …)` (`#[custom_adjoint]`): called as it is,
/// neither body read. Both passes are written by `emit::looped` (the calls need the
/// arguments as the user's types); each argument receives its part of the adjoint's
/// result.
pub struct UserCall<'a>(pub &'a crate::ir::UserCall);

impl Rule for UserCall<'_> {
    fn name(&self) -> String {
        self.0.name.clone()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Declared
    }
    /// Unknown (the user's code): counted as nothing.
    fn cost(&self, _: Site<'_>, _: &[Option<(Poly, Poly)>]) -> Cost {
        Cost::default()
    }
    fn forward(&self, _: Site<'_>, _: &dyn Names) -> Forward {
        Forward::Nothing
    }
    /// The parser refuses these calls in functions of static sizes.
    fn forward_static(&self, _: Site<'_>, _: &dyn StaticNames) -> StaticForward {
        StaticForward::Expr(quote!(::core::unreachable!()))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        parts(s, self.0.params.len())
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        let args = s.node().args.iter().map(|&a| f.value(a)).collect();
        Term::app(&self.0.name, args)
    }
    fn tangent(&self, _: Site<'_>, _: &mut dyn Tangents) -> Tangent {
        Err(Unsupported(super::scalar::USER_SECOND_ORDER.to_owned()))
    }
}

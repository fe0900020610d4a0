//! Scalar expressions ([`Sym`]) as Rust tokens, shared by both backends: the
//! dynamic one (`emit/mod.rs`, workspace matrices and runtime kernels) and the static
//! one (`emit/fixed.rs`, stack values). Only the leaves that name a value or read a
//! matrix differ; they are the [`Leaves`] a backend provides.

use super::{adj, lit, mixed, rt};
use crate::ir::{Float, NodeId};
use crate::sym::{Cmp, Operand, Sym};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// What a backend writes for the leaves of a scalar expression.
pub(super) trait Leaves {
    /// The float type.
    fn float(&self) -> Float;
    /// The value of scalar node `id`.
    fn scalar(&self, id: NodeId) -> TokenStream;
    /// A matrix operand, seen from node `consumer` (whose adjoint `Grad` is), in a form
    /// with `.sum()`, `.dot(&…)` and `.len()`.
    fn operand(&self, o: Operand, consumer: NodeId) -> TokenStream;
    /// `(the number of entries of o, as a float, its binding strength)`.
    fn len(&self, o: Operand, consumer: NodeId) -> (TokenStream, u8);
    /// `Σ f(args_0[i, j], …)` (with the entries as `__mg_a0`, …), and its binding strength.
    fn zip_sum(&self, args: &[Operand], body: &Sym, consumer: NodeId) -> (TokenStream, u8);
}

// Long by design: one short arm per variant of `Sym`, the whole scalar language in one match.
/// `s` as an expression; `prec` is the binding strength the context needs (0
/// statement, 1 sum, 2 product, 3 unary, 4 method receiver): it is parenthesised when
/// its own is weaker.
pub(super) fn sym<L: Leaves + ?Sized>(l: &L, s: &Sym, consumer: NodeId, prec: u8) -> TokenStream {
    let f = l.float();
    let sub = |s: &Sym, prec: u8| sym(l, s, consumer, prec);
    let (tokens, own) = match s {
        Sym::Lit(v) => return lit(*v, &f),
        Sym::Val(id) => (l.scalar(*id), 4),
        Sym::Grad => {
            let g = adj(consumer);
            (quote!(#g), 4)
        }
        Sym::Adj(id) => {
            let g = adj(*id);
            (quote!(#g), 4)
        }
        Sym::Rt(f, a) => {
            let rt = rt();
            let name = Ident::new(f.runtime(), Span::call_site());
            let a = sub(a, 0);
            (quote!(#rt::#name(#a)), 4)
        }
        Sym::Var => {
            let x = mixed("__mg_x");
            (quote!(#x), 4)
        }
        Sym::User(u, args) => {
            let (f, args) = (u.path_tokens(), args.iter().map(|a| sub(a, 0)));
            (quote!(#f(#(#args),*)), 4)
        }
        Sym::UserAdjoint(u, args, g, k) => {
            let (f, g) = (u.adjoint_tokens(), sub(g, 0));
            let args = args.iter().map(|a| sub(a, 0));
            let call = quote!(#f(#(#args,)* #g));
            if u.arity == 1 {
                (call, 4)
            } else {
                let k = syn::Index::from(*k);
                (quote!(#call.#k), 4)
            }
        }
        Sym::Arg(k) => {
            let a = mixed(&format!("__mg_a{k}"));
            (quote!(#a), 4)
        }
        Sym::Neg(a) => {
            let a = sub(a, 3);
            (quote!(-#a), 3)
        }
        Sym::Add(a, b) => {
            let (a, b) = (sub(a, 1), sub(b, 2));
            (quote!(#a + #b), 1)
        }
        Sym::Sub(a, b) => {
            let (a, b) = (sub(a, 1), sub(b, 2));
            (quote!(#a - #b), 1)
        }
        Sym::Mul(a, b) => {
            let (a, b) = (sub(a, 2), sub(b, 3));
            (quote!(#a * #b), 2)
        }
        Sym::Div(a, b) => {
            let (a, b) = (sub(a, 2), sub(b, 3));
            (quote!(#a / #b), 2)
        }
        Sym::Powi(a, n) => {
            let a = sub(a, 4);
            (quote!(#a.powi(#n)), 4)
        }
        Sym::Call(m, a, b) => {
            let a = sub(a, 4);
            let m = Ident::new(m.name(), Span::call_site());
            match b {
                Some(b) => {
                    let b = sub(b, 0);
                    (quote!(#a.#m(#b)), 4)
                }
                None => (quote!(#a.#m()), 4),
            }
        }
        Sym::Signum(a) => {
            let a = sub(a, 4);
            (quote!(#a.signum()), 4)
        }
        Sym::Step(c, a, b) => {
            let (a, b) = (sub(a, 1), sub(b, 1));
            let cmp = match c {
                Cmp::Gt => quote!(>),
                Cmp::Ge => quote!(>=),
                Cmp::Lt => quote!(<),
                Cmp::Le => quote!(<=),
            };
            let (one, zero) = (lit(1.0, &f), lit(0.0, &f));
            (quote!(if #a #cmp #b { #one } else { #zero }), 0)
        }
        Sym::Select(sel) => {
            let (a, b) = (sub(&sel.a, 1), sub(&sel.b, 1));
            let cmp = match sel.cmp {
                Cmp::Gt => quote!(>),
                Cmp::Ge => quote!(>=),
                Cmp::Lt => quote!(<),
                Cmp::Le => quote!(<=),
            };
            let (then, other) = (sub(&sel.then, 0), sub(&sel.other, 0));
            (quote!(if #a #cmp #b { #then } else { #other }), 0)
        }
        Sym::Sum(o) => {
            let o = l.operand(*o, consumer);
            (quote!(#o.sum()), 4)
        }
        Sym::Dot(a, b) => {
            let (a, b) = (l.operand(*a, consumer), l.operand(*b, consumer));
            (quote!(#a.dot(&#b)), 4)
        }
        Sym::Len(o) => l.len(*o, consumer),
        Sym::Entry(o, i, j) => {
            let o = l.operand(*o, consumer);
            (quote!(#o[(#i, #j)]), 4)
        }
        Sym::ZipSum(args, body) => l.zip_sum(args, body, consumer),
    };
    if own < prec {
        quote!((#tokens))
    } else {
        tokens
    }
}

//! Parts of a matrix: `a.diagonal()` and `a.column(j)`. Each adjoint places Ḡ back
//! where the part came from, into a gradient that is zero elsewhere: one pass over
//! the part, never a zero matrix per entry.

use super::{
    app, apply, value, Contrib, Formula, Forward, KArg, Kernel, KernelRef, Names, Rule, ShapeRule,
    Site, StaticArg, StaticForward, StaticNames,
};
use crate::cost::{self, Cost, Poly};
use crate::emit::mixed;
use crate::ir::{Count, Shape};
use crate::simplify::Term;
use crate::sym::Operand;
use proc_macro2::TokenStream;
use quote::quote;

/// `a.diagonal()` of a square `a`, a column  →  ā += diag(Ḡ), a diagonal matrix.
pub struct Diagonal;

impl Rule for Diagonal {
    fn name(&self) -> String {
        "diagonal".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Column(0)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, text, a) = (n.rt(), n.out(), n.text(s.id), n.view(s.arg_id(0)));
        Forward::Matrix(quote!(#rt::diagonal_to(&mut #out, #a, #text);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let a = n.value(s.arg_id(0));
        StaticForward::Expr(quote!(#a.diagonal()))
    }
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        let args = vec![KArg::Mat(Operand::Grad)];
        vec![(0, Contrib::Kernel(KernelRef(&DiagonalAdjoint), args))]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "diag", 1)
    }
}

/// `diag(ḡ)`: the square matrix with ḡ on its diagonal; args (ḡ).
struct DiagonalAdjoint;

impl Kernel for DiagonalAdjoint {
    fn runtime(&self) -> &'static str {
        "diagonal_adjoint_to"
    }
    fn lower_static(&self, args: &[StaticArg], target: Shape, n: &dyn StaticNames) -> TokenStream {
        let ((g, _), t) = (StaticArg::mat(args, 0), n.ty(target));
        quote!(#t::from_diagonal(&#g))
    }
    fn formula(&self, args: &[Term]) -> Term {
        app("diag", args.to_vec())
    }
}

/// `a.column(j)`, a column  →  ā += Ḡ e_jᵀ: Ḡ placed in column j.
pub struct Column<'a>(pub &'a Count);

impl Rule for Column<'_> {
    fn name(&self) -> String {
        format!("column{}", self.0)
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Column(0)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, text, a) = (n.rt(), n.out(), n.text(s.id), n.view(s.arg_id(0)));
        let j = self.0.tokens();
        Forward::Matrix(quote!(#rt::column_to(&mut #out, #a, #j, #text);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let (a, j) = (n.value(s.arg_id(0)), self.0.tokens());
        StaticForward::Expr(quote!(#a.column(#j).into_owned()))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        let args = vec![
            KArg::Mat(Operand::Grad),
            KArg::Mat(s.arg(0)),
            KArg::Count(self.0.clone()),
        ];
        vec![(0, Contrib::Kernel(KernelRef(&ColumnAdjoint), args))]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        app("*", vec![value(s, f, 0), unit(self.0)])
    }
}

/// `e_j`, the j-th unit column, as math.
fn unit(j: &Count) -> Term {
    Term::sym(&format!("e{}", j.subscript()))
}

/// `Ḡ e_jᵀ`: ḡ in column j of a matrix shaped like `a`, zero elsewhere; args (ḡ, a, j).
struct ColumnAdjoint;

impl Kernel for ColumnAdjoint {
    fn runtime(&self) -> &'static str {
        "column_adjoint_to"
    }
    fn lower_static(&self, args: &[StaticArg], target: Shape, n: &dyn StaticNames) -> TokenStream {
        let ((g, _), j, t) = (
            StaticArg::mat(args, 0),
            StaticArg::count(args, 2),
            n.ty(target),
        );
        let m = mixed("__mg_e");
        quote!({
            let mut #m = #t::zeros();
            #m.set_column(#j, &#g);
            #m
        })
    }
    fn formula(&self, args: &[Term]) -> Term {
        let g = args.first().cloned().unwrap_or(Term::Num(0.0));
        let j = match args.get(2) {
            Some(Term::Num(v)) => format!("e{}", Count::Lit(*v as usize).subscript()),
            Some(Term::Sym(s)) => format!("e[{s}]"),
            _ => "e".to_owned(),
        };
        app("*", vec![g, app("t", vec![Term::sym(&j)])])
    }
}

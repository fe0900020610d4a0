//! Reductions: to a scalar (`sum`, `mean`, `norm_squared`, `norm`, `dot`, `trace`, the
//! trace of a product, `max`, `min`), and along one dimension (`row_sum`,
//! `column_sum`, `row_mean`, `column_mean`).

use super::tangent::{self as tg, Tangent};
use super::Tangents;
use super::{
    app, apply, value, Contrib, Formula, Forward, KArg, Kernel, KernelRef, Names, Rule, ShapeRule,
    Site, StaticArg, StaticForward, StaticNames,
};
use crate::cost::{self, Cost, Poly};
use crate::emit::mixed;
use crate::ir::Op;
use crate::ir::Shape;
use crate::simplify::Term;
use crate::sym::Cmp;
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
    /// Linear in its argument: the same operation on ȧ.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        tg::linear(s, t)
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
    /// Linear in its argument: the same operation on ȧ.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        tg::linear(s, t)
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
    /// ẏ = 2 ⟨a, ȧ⟩.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let a = tg::arg(s, t, 0);
        let d0 = tg::darg(s, t, 0);
        let dot = tg::push_all(t, Op::Dot, &[Some(a), d0]);
        Ok(dot.and_then(|d| tg::expr(t, Sym::mul(Sym::Lit(2.0), Sym::Val(d)))))
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
    /// ẏ = ⟨a, ȧ⟩ / y.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let (a, y) = (tg::arg(s, t, 0), tg::this(s, t));
        let d0 = tg::darg(s, t, 0);
        let dot = tg::push_all(t, Op::Dot, &[Some(a), d0]);
        Ok(dot.and_then(|d| tg::expr(t, Sym::div(Sym::Val(d), Sym::Val(y)))))
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
    /// Bilinear: ẏ = op(ȧ, b) + op(a, ḃ).
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        tg::bilinear(s, t)
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
    /// Linear in its argument: the same operation on ȧ.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        tg::linear(s, t)
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
    /// Bilinear: ẏ = op(ȧ, b) + op(a, ḃ).
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        tg::bilinear(s, t)
    }
}

/// A reduction along one dimension, with nalgebra's names and bits: `a.row_sum()`
/// (`rows`), `𝟙ᵀ a`, the `1×n` row of column sums, or `a.column_sum()`, `a 𝟙`, the
/// `m×1` column of row sums; with `mean`, `row_mean()` / `column_mean()`, divided by
/// the count summed over  →  ā += 𝟙 Ḡ (rows) or Ḡ 𝟙ᵀ, divided by that count for a
/// mean: Ḡ broadcast back along the reduced dimension.
pub struct LineSum {
    /// `row_sum`/`row_mean`, else `column_sum`/`column_mean`.
    pub rows: bool,
    /// A mean.
    pub mean: bool,
}

impl LineSum {
    /// The nalgebra method.
    fn method(&self) -> &'static str {
        match (self.rows, self.mean) {
            (true, false) => "row_sum",
            (true, true) => "row_mean",
            (false, false) => "column_sum",
            (false, true) => "column_mean",
        }
    }

    /// The adjoint kernel.
    fn broadcast(&self) -> &'static Broadcast {
        match (self.rows, self.mean) {
            (true, false) => &BROADCAST_ROW,
            (true, true) => &BROADCAST_ROW_MEAN,
            (false, false) => &BROADCAST_COLUMN,
            (false, true) => &BROADCAST_COLUMN_MEAN,
        }
    }
}

impl Rule for LineSum {
    fn name(&self) -> String {
        self.method().into()
    }
    fn shape(&self) -> ShapeRule {
        if self.rows {
            ShapeRule::Row(0)
        } else {
            ShapeRule::Column(0)
        }
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries_of(s, shapes, 0)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, a, mean) = (n.rt(), n.out(), n.view(s.arg_id(0)), self.mean);
        let kernel = Ident::new(
            if self.rows {
                "row_reduce_to"
            } else {
                "column_reduce_to"
            },
            Span::call_site(),
        );
        Forward::Matrix(quote!(#rt::#kernel(&mut #out, #a, #mean);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        method_static(s, n, self.method())
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        let args = vec![KArg::Mat(Operand::Grad), KArg::Mat(s.arg(0))];
        vec![(0, Contrib::Kernel(KernelRef(self.broadcast()), args))]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        let a = value(s, f, 0);
        let (sum, count) = if self.rows {
            (
                app("*", vec![app("t", vec![Term::sym("𝟙")]), a.clone()]),
                "nrows",
            )
        } else {
            (app("*", vec![a.clone(), Term::sym("𝟙")]), "ncols")
        };
        if self.mean {
            app("/", vec![sum, app(count, vec![a])])
        } else {
            sum
        }
    }
    /// Linear in its argument: the same operation on ȧ.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        tg::linear(s, t)
    }
}

/// Ḡ broadcast back over a matrix shaped like `a` (args: Ḡ, a): along its rows
/// (`row`: the adjoint of `row_sum`, `𝟙 Ḡ`) or its columns (`Ḡ 𝟙ᵀ`), divided by the
/// count of the reduced dimension for a mean.
struct Broadcast {
    row: bool,
    mean: bool,
}

static BROADCAST_ROW: Broadcast = Broadcast {
    row: true,
    mean: false,
};
static BROADCAST_ROW_MEAN: Broadcast = Broadcast {
    row: true,
    mean: true,
};
static BROADCAST_COLUMN: Broadcast = Broadcast {
    row: false,
    mean: false,
};
static BROADCAST_COLUMN_MEAN: Broadcast = Broadcast {
    row: false,
    mean: true,
};

impl Kernel for Broadcast {
    fn runtime(&self) -> &'static str {
        match (self.row, self.mean) {
            (true, false) => "broadcast_row_to",
            (true, true) => "broadcast_row_mean_to",
            (false, false) => "broadcast_column_to",
            (false, true) => "broadcast_column_mean_to",
        }
    }
    fn lower_static(&self, args: &[StaticArg], target: Shape, n: &dyn StaticNames) -> TokenStream {
        let ((g, _), t) = (StaticArg::mat(args, 0), n.ty(target));
        let (i, j) = (mixed("__mg_i"), mixed("__mg_j"));
        let (entry, count) = if self.row {
            (quote!(#g[(0, #j)]), target.rows)
        } else {
            (quote!(#g[(#i, 0)]), target.cols)
        };
        let count = n.sym(&Sym::Lit(count.size().unwrap_or(1) as f64), 0);
        if self.mean {
            quote!(#t::from_fn(|#i, #j| #entry / #count))
        } else {
            quote!(#t::from_fn(|#i, #j| #entry))
        }
    }
    fn formula(&self, args: &[Term]) -> Term {
        let at = |i: usize| args.get(i).cloned().unwrap_or(Term::Num(0.0));
        let (spread, count) = if self.row {
            (app("*", vec![Term::sym("𝟙"), at(0)]), "nrows")
        } else {
            (
                app("*", vec![at(0), app("t", vec![Term::sym("𝟙")])]),
                "ncols",
            )
        };
        if self.mean {
            app("/", vec![spread, app(count, vec![at(1)])])
        } else {
            spread
        }
    }
}

/// `a.max()` (`max`) or `a.min()`: the largest (smallest) entry  →  ā += s̄ e_k at the
/// first entry `k` (column-major) that equals the value: the derivative of the
/// entry that is the value. At a tie, the first such entry takes the whole adjoint.
pub struct Extreme(pub bool);

impl Rule for Extreme {
    /// Not `max`: that is the scalar method's name in the text form.
    fn name(&self) -> String {
        if self.0 { "max_entry" } else { "min_entry" }.into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Scalar
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries_of(s, shapes, 0)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        method(s, n, if self.0 { "max" } else { "min" })
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        method_static(s, n, if self.0 { "max" } else { "min" })
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        let kernel: &'static dyn Kernel = if self.0 { &ARG_MAX } else { &ARG_MIN };
        let args = vec![
            KArg::Scal(Sym::Grad),
            KArg::Mat(s.arg(0)),
            KArg::Scal(Sym::Val(s.id)),
        ];
        vec![(0, Contrib::Kernel(KernelRef(kernel), args))]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, if self.0 { "max" } else { "min" }, 1)
    }
    /// ẏ = ȧ at the extreme entry: Σ ȧ ⊙ 𝟙(a = y) (ties share it).
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let Some(da) = tg::darg(s, t, 0) else {
            return Ok(None);
        };
        let (a, y) = (tg::arg(s, t, 0), tg::this(s, t));
        let cmp = if self.0 { Cmp::Ge } else { Cmp::Le };
        let mask = Sym::Step(cmp, Box::new(Sym::Var), Box::new(Sym::Val(y)));
        let mask = tg::entrywise(t, &[a], mask);
        let picked = tg::push_all(t, Op::ComponentMul, &[Some(da), mask]);
        Ok(tg::push_all(t, Op::Sum, &[picked]))
    }
}

/// `s̄ e_k`, `k` the first entry of `a` equal to the value `v` (args: s̄, a, v); every
/// entry gets `s̄ v` when none is (a NaN value), so the NaN propagates.
struct ArgExtreme {
    max: bool,
}

static ARG_MAX: ArgExtreme = ArgExtreme { max: true };
static ARG_MIN: ArgExtreme = ArgExtreme { max: false };

impl Kernel for ArgExtreme {
    fn runtime(&self) -> &'static str {
        // One kernel serves both: it looks for the value.
        "extreme_adjoint_to"
    }
    fn lower_static(&self, args: &[StaticArg], target: Shape, n: &dyn StaticNames) -> TokenStream {
        let (alpha, (a, _), v) = (
            StaticArg::scal(args, 0),
            StaticArg::mat(args, 1),
            StaticArg::scal(args, 2),
        );
        let (t, m, k, x) = (
            n.ty(target),
            mixed("__mg_e"),
            mixed("__mg_k"),
            mixed("__mg_x"),
        );
        quote!({
            let mut #m = #t::zeros();
            match #a.iter().position(|&#x| #x == #v) {
                ::core::option::Option::Some(#k) => #m[#k] = #alpha,
                ::core::option::Option::None => #m.fill(#alpha * #v),
            }
            #m
        })
    }
    fn formula(&self, args: &[Term]) -> Term {
        let at = |i: usize| args.get(i).cloned().unwrap_or(Term::Num(0.0));
        let head = if self.max {
            "onehot_argmax"
        } else {
            "onehot_argmin"
        };
        app("scale", vec![at(0), app(head, vec![at(1)])])
    }
}

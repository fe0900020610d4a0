//! matgrad's own vocabulary: `sigmoid`, `relu`, `softplus`, `add_row`, `add_col`,
//! `ln_det`, `log_sum_exp`, `softmax_cross_entropy`.

use super::tangent::{self as tg, Tangent};
use super::Tangents;
use super::{
    app, apply, copy, value, Contrib, Formula, Forward, KArg, Keeps, Kernel, KernelRef, Names,
    Rule, ShapeRule, Site, StaticArg, StaticForward, StaticNames,
};
use crate::cost::{self, Cost, Poly};
use crate::emit::mixed;
use crate::ir::Shape;
use crate::ir::{Closure, Op};
use crate::simplify::Term;
use crate::sym::Method;
use crate::sym::{Operand, RtFn, Sym};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// `::matgrad::NAME(&a, …)`: the public function itself, for the static backend.
fn call(name: &str, args: &[TokenStream]) -> TokenStream {
    let f = Ident::new(name, Span::call_site());
    quote!(::matgrad::#f(#(&#args),*))
}

/// An activation: `out = f(a)` by the runtime kernel `kernel` (dynamic) or the public
/// function `public` (static).
fn activation(s: Site<'_>, n: &dyn Names, kernel: &str) -> Forward {
    let (rt, out, a) = (n.rt(), n.out(), n.view(s.arg_id(0)));
    let k = Ident::new(kernel, Span::call_site());
    Forward::Matrix(quote!(#rt::#k(&mut #out, #a);))
}

/// ā += Ḡ ⊙ d, `d` written in `Sym::Arg(1)`, the entry of `from` (the argument or
/// the node's own value).
fn entrywise_adjoint(from: Operand, d: Sym) -> Vec<(usize, Contrib)> {
    vec![(
        0,
        Contrib::ZipMap(vec![Operand::Grad, from], Sym::mul(Sym::Arg(0), d)),
    )]
}

/// `y = σ(a)`  →  ā += Ḡ ⊙ y ⊙ (1 − y). Elementwise: fuses with its neighbours.
pub struct Sigmoid;

impl Rule for Sigmoid {
    fn name(&self) -> String {
        "sigmoid".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Like(0)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        activation(s, n, "sigmoid_to")
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        StaticForward::Expr(call("sigmoid", &[n.value(s.arg_id(0))]))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        let y = Sym::Arg(1);
        let d = Sym::mul(y.clone(), Sym::sub(Sym::Lit(1.0), y));
        entrywise_adjoint(Operand::Value(s.id), d)
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "σ", 1)
    }
    /// ẏ = y ⊙ (1 − y) ⊙ ȧ.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let Some(da) = tg::darg(s, t, 0) else {
            return Ok(None);
        };
        let y = tg::this(s, t);
        let (p, q) = (Sym::Arg(0), Sym::Arg(1));
        let f = Sym::mul(Sym::mul(p.clone(), Sym::sub(Sym::Lit(1.0), p)), q);
        Ok(tg::entrywise(t, &[y, da], f))
    }
}

/// `max(a, 0)`  →  ā += Ḡ ⊙ `[a > 0]`.
pub struct Relu;

impl Rule for Relu {
    fn name(&self) -> String {
        "relu".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Like(0)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        activation(s, n, "relu_to")
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        StaticForward::Expr(call("relu", &[n.value(s.arg_id(0))]))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        entrywise_adjoint(s.arg(0), Sym::Rt(RtFn::ReluStep, Box::new(Sym::Arg(1))))
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "relu", 1)
    }
    /// ẏ = 𝟙(a > 0) ⊙ ȧ.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let Some(da) = tg::darg(s, t, 0) else {
            return Ok(None);
        };
        let a = tg::arg(s, t, 0);
        let f = Sym::mul(Sym::Rt(RtFn::ReluStep, Box::new(Sym::Arg(0))), Sym::Arg(1));
        Ok(tg::entrywise(t, &[a, da], f))
    }
}

/// `ln(1 + eᵃ)`  →  ā += Ḡ ⊙ σ(a).
pub struct Softplus;

impl Rule for Softplus {
    fn name(&self) -> String {
        "softplus".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Like(0)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        activation(s, n, "softplus_to")
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        StaticForward::Expr(call("softplus", &[n.value(s.arg_id(0))]))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        entrywise_adjoint(
            s.arg(0),
            Sym::Rt(RtFn::SigmoidScalar, Box::new(Sym::Arg(1))),
        )
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "softplus", 1)
    }
    /// ẏ = σ(a) ⊙ ȧ.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let Some(da) = tg::darg(s, t, 0) else {
            return Ok(None);
        };
        let a = tg::arg(s, t, 0);
        let f = Sym::mul(
            Sym::Rt(RtFn::SigmoidScalar, Box::new(Sym::Arg(0))),
            Sym::Arg(1),
        );
        Ok(tg::entrywise(t, &[a, da], f))
    }
}

/// The runtime's `add_row`/`add_col` return a `DMatrix`; on the stack, the same sums
/// line by line (`row_iter_mut` or `column_iter_mut`).
fn broadcast_static(s: Site<'_>, n: &dyn StaticNames, lines: TokenStream) -> StaticForward {
    let (m, b) = (n.value(s.arg_id(0)), n.value(s.arg_id(1)));
    let (o, line) = (mixed("__mg_o"), mixed("__mg_line"));
    StaticForward::Expr(quote!({
        let mut #o = #m;
        for mut #line in #o.#lines() {
            #line += &#b;
        }
        #o
    }))
}

/// `m + 𝟙 r` (`add_row(&m, &r)`)  →  m̄ += Ḡ, r̄ += 𝟙ᵀ Ḡ (the column sums of Ḡ).
pub struct AddRow;

impl Rule for AddRow {
    fn name(&self) -> String {
        "add_row".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Broadcast(0)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    /// `add_row_to`, or with a product it computes, one GEMM from the broadcast row
    /// ([`broadcast_summed_forward`](super::product::broadcast_summed_forward)).
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        if let Some(f) = super::product::broadcast_summed_forward(s, n, true) {
            return f;
        }
        let (rt, out, text) = (n.rt(), n.out(), n.text(s.id));
        let (m, r) = (n.view(s.arg_id(0)), n.view(s.arg_id(1)));
        Forward::Matrix(quote!(#rt::add_row_to(&mut #out, #m, #r, #text);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        broadcast_static(s, n, quote!(row_iter_mut))
    }
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        vec![
            (0, copy(Sym::Lit(1.0), false)),
            (
                1,
                Contrib::Kernel(KernelRef(&ColumnSums), vec![KArg::Mat(Operand::Grad)]),
            ),
        ]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        app(
            "+",
            vec![
                value(s, f, 0),
                app("*", vec![Term::sym("𝟙"), value(s, f, 1)]),
            ],
        )
    }
    /// ẏ = ṁ + 𝟙 ṙ (the same broadcast of the tangents).
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let m = tg::arg(s, t, 0);
        Ok(match (tg::darg(s, t, 0), tg::darg(s, t, 1)) {
            (Some(dm), Some(dr)) => Some(t.push(s.node().op.clone(), vec![dm, dr])),
            (Some(dm), None) => Some(dm),
            (None, Some(dr)) => {
                let z = tg::zeros_like(t, m);
                Some(t.push(s.node().op.clone(), vec![z, dr]))
            }
            (None, None) => None,
        })
    }
}

/// `m + c 𝟙ᵀ` (`add_col(&m, &c)`)  →  m̄ += Ḡ, c̄ += Ḡ 𝟙 (the row sums of Ḡ).
pub struct AddCol;

impl Rule for AddCol {
    fn name(&self) -> String {
        "add_col".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Broadcast(0)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries(s, shapes)
    }
    /// `add_col_to`, or with a product it computes, one GEMM from the broadcast
    /// column ([`broadcast_summed_forward`](super::product::broadcast_summed_forward)).
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        if let Some(f) = super::product::broadcast_summed_forward(s, n, false) {
            return f;
        }
        let (rt, out, text) = (n.rt(), n.out(), n.text(s.id));
        let (m, c) = (n.view(s.arg_id(0)), n.view(s.arg_id(1)));
        Forward::Matrix(quote!(#rt::add_col_to(&mut #out, #m, #c, #text);))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        broadcast_static(s, n, quote!(column_iter_mut))
    }
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        vec![
            (0, copy(Sym::Lit(1.0), false)),
            (
                1,
                Contrib::Kernel(KernelRef(&RowSums), vec![KArg::Mat(Operand::Grad)]),
            ),
        ]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        app(
            "+",
            vec![
                value(s, f, 0),
                app("*", vec![value(s, f, 1), app("t", vec![Term::sym("𝟙")])]),
            ],
        )
    }
    /// ẏ = ṁ + 𝟙 ṙ (the same broadcast of the tangents).
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let m = tg::arg(s, t, 0);
        Ok(match (tg::darg(s, t, 0), tg::darg(s, t, 1)) {
            (Some(dm), Some(dr)) => Some(t.push(s.node().op.clone(), vec![dm, dr])),
            (Some(dm), None) => Some(dm),
            (None, Some(dr)) => {
                let z = tg::zeros_like(t, m);
                Some(t.push(s.node().op.clone(), vec![z, dr]))
            }
            (None, None) => None,
        })
    }
}

/// `𝟙ᵀ Ḡ`, the 1×n row of Ḡ's column sums (nalgebra's `row_sum`); args (Ḡ).
struct ColumnSums;

impl Kernel for ColumnSums {
    fn runtime(&self) -> &'static str {
        "row_sum_to"
    }
    fn lower_static(&self, args: &[StaticArg], _: Shape, _: &dyn StaticNames) -> TokenStream {
        let (g, _) = StaticArg::mat(args, 0);
        quote!(#g.row_sum())
    }
    fn formula(&self, args: &[Term]) -> Term {
        let g = args.first().cloned().unwrap_or(Term::Num(0.0));
        app("*", vec![app("t", vec![Term::sym("𝟙")]), g])
    }
}

/// `Ḡ 𝟙`, the m×1 column of Ḡ's row sums (nalgebra's `column_sum`); args (Ḡ).
struct RowSums;

impl Kernel for RowSums {
    fn runtime(&self) -> &'static str {
        "column_sum_to"
    }
    fn lower_static(&self, args: &[StaticArg], _: Shape, _: &dyn StaticNames) -> TokenStream {
        let (g, _) = StaticArg::mat(args, 0);
        quote!(#g.column_sum())
    }
    fn formula(&self, args: &[Term]) -> Term {
        let g = args.first().cloned().unwrap_or(Term::Num(0.0));
        app("*", vec![g, Term::sym("𝟙")])
    }
}

/// `ln |det a|`  →  ā += s̄ a⁻ᵀ: the inverse kept from the forward factorisation, or
/// the function's own `try_inverse()` of the same matrix when it has one.
pub struct LnDet;

impl Rule for LnDet {
    fn name(&self) -> String {
        "ln_det".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Scalar
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::cubic(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, text, a) = (n.rt(), n.text(s.id), n.view(s.arg_id(0)));
        let (inv, scratch) = n.aux(s.id);
        let shared = super::matrix_fn::inverse_of(s.g, s.arg_id(0)).is_some();
        Forward::Scalar(if n.differentiated(s.id) && !shared {
            quote!(#rt::ln_det_inverse_to(&mut #inv, #a, &mut #scratch, #text))
        } else {
            quote!(#rt::ln_det_with(#a, &mut #scratch, #text))
        })
    }
    /// ā += s̄ a⁻ᵀ reads the inverse, from the same factorisation on the stack
    /// (non-finite when a is singular, as the dynamic kernel's).
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let a = n.value(s.arg_id(0));
        if !n.differentiated(s.id) {
            return StaticForward::Expr(call("ln_det", &[a]));
        }
        let (v, w) = (n.value(s.id), n.aux(s.id));
        StaticForward::Stmts(
            quote!(let (#v, #w) = ::matgrad::__private::ln_det_inverse_static(&#a);),
        )
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        let inverse = super::matrix_fn::inverse_of(s.g, s.arg_id(0))
            .map_or(Operand::Aux(s.id), Operand::Value);
        vec![(
            0,
            Contrib::Axpy {
                alpha: Sym::Grad,
                a: inverse,
                ta: true,
            },
        )]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "lndet", 1)
    }
    /// The inverse, and the factorisation's scratch.
    fn keeps(&self, _: Site<'_>) -> Keeps {
        Keeps::AUX
    }
    fn aux_formula(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        app("inv", vec![value(s, f, 0)])
    }
    /// ẏ = tr(a⁻¹ ȧ).
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let Some(da) = tg::darg(s, t, 0) else {
            return Ok(None);
        };
        let a = tg::arg(s, t, 0);
        let inv = t.push(Op::FactorInverse, vec![a]);
        Ok(Some(t.push(Op::TraceMul, vec![inv, da])))
    }
}

/// `ℓ = ln Σ eᵃ`  →  ā += s̄ e^(a − ℓ) = s̄ softmax(a).
pub struct LogSumExp;

impl Rule for LogSumExp {
    fn name(&self) -> String {
        "log_sum_exp".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Scalar
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries_of(s, shapes, 0)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, a) = (n.rt(), n.view(s.arg_id(0)));
        Forward::Scalar(quote!(#rt::log_sum_exp(#a)))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        StaticForward::Expr(call("log_sum_exp", &[n.value(s.arg_id(0))]))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        let args = vec![
            KArg::Scal(Sym::Grad),
            KArg::Mat(s.arg(0)),
            KArg::Scal(Sym::Val(s.id)),
        ];
        vec![(0, Contrib::Kernel(KernelRef(&LogSumExpAdjoint), args))]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "logsumexp", 1)
    }
    /// ẏ = ⟨softmax(a), ȧ⟩, softmax(a) = e^(a − y).
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let Some(da) = tg::darg(s, t, 0) else {
            return Ok(None);
        };
        let (a, y) = (tg::arg(s, t, 0), tg::this(s, t));
        let p = Sym::call(Method::Exp, Sym::sub(Sym::Var, Sym::Val(y)));
        let p = tg::entrywise(t, &[a], p);
        Ok(tg::push_all(t, Op::Dot, &[p, Some(da)]))
    }
}

/// `s̄ e^(a − ℓ)`; args (s̄, a, ℓ).
struct LogSumExpAdjoint;

impl Kernel for LogSumExpAdjoint {
    fn runtime(&self) -> &'static str {
        "log_sum_exp_adjoint_to"
    }
    fn lower_static(&self, args: &[StaticArg], _: Shape, _: &dyn StaticNames) -> TokenStream {
        let (alpha, (a, _), l) = (
            StaticArg::scal(args, 0),
            StaticArg::mat(args, 1),
            StaticArg::scal(args, 2),
        );
        let x = mixed("__mg_x");
        quote!(#a.map(|#x| (#x - #l).exp() * #alpha))
    }
    fn formula(&self, args: &[Term]) -> Term {
        let at = |i: usize| args.get(i).cloned().unwrap_or(Term::Num(0.0));
        app("scale", vec![at(0), app("softmax", vec![at(1)])])
    }
}

/// `Σ_rows (lse(z_r) − y_r · z_r)`  →  z̄ += s̄ (diag(y 𝟙) softmax(z) − y) (each row of
/// softmax(z) scaled by the sum of y's row: not `softmax(z) − y` unless the rows of y
/// sum to 1), ȳ −= s̄ log softmax(z). The forward pass keeps the bracket when z is
/// differentiated.
pub struct SoftmaxCrossEntropy;

impl Rule for SoftmaxCrossEntropy {
    fn name(&self) -> String {
        "softmax_ce".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Scalar
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::entries_of(s, shapes, 0)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, text) = (n.rt(), n.text(s.id));
        let (z, y) = (n.view(s.arg_id(0)), n.view(s.arg_id(1)));
        Forward::Scalar(if n.differentiated(s.arg_id(0)) {
            let (adjoint, _) = n.aux(s.id);
            quote!(#rt::softmax_cross_entropy_with_adjoint(&mut #adjoint, #z, #y, #text))
        } else {
            quote!(#rt::softmax_cross_entropy(#z, #y, #text))
        })
    }
    /// The bracket of z̄, row by row on the stack.
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let (z, y) = (n.value(s.arg_id(0)), n.value(s.arg_id(1)));
        let value = call("softmax_cross_entropy", &[z.clone(), y.clone()]);
        if !n.differentiated(s.arg_id(0)) {
            return StaticForward::Expr(value);
        }
        let (v, w) = (n.value(s.id), n.aux(s.id));
        let [o, orow, zr, yr, m, e, x] =
            ["o", "orow", "zr", "yr", "m", "e", "x"].map(|k| mixed(&format!("__mg_{k}")));
        StaticForward::Stmts(quote!(
            let #v = #value;
            let #w = {
                let mut #o = #z;
                for (mut #orow, (#zr, #yr)) in #o.row_iter_mut().zip(#z.row_iter().zip(#y.row_iter())) {
                    let #m = #zr.max();
                    let #e = #zr.map(|#x| (#x - #m).exp());
                    #orow.copy_from(&(#e * (#yr.sum() / #e.sum()) - #yr));
                }
                #o
            };
        ))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        vec![
            (
                0,
                Contrib::Axpy {
                    alpha: Sym::Grad,
                    a: Operand::Aux(s.id),
                    ta: false,
                },
            ),
            (
                1,
                Contrib::Kernel(
                    KernelRef(&SoftmaxCeAdjointY),
                    vec![KArg::Scal(Sym::Grad), KArg::Mat(s.arg(0))],
                ),
            ),
        ]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "softmax_ce", 2)
    }
    /// The bracket of z̄.
    fn keeps(&self, _: Site<'_>) -> Keeps {
        Keeps::AUX
    }
    /// `diag(y 𝟙) softmax(z) − y`.
    fn aux_formula(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        let (z, y) = (value(s, f, 0), value(s, f, 1));
        let row_sums = app("diag", vec![app("*", vec![y.clone(), Term::sym("𝟙")])]);
        app(
            "+",
            vec![
                app("*", vec![row_sums, app("softmax", vec![z])]),
                app("neg", vec![y]),
            ],
        )
    }
    /// ẏ = ⟨diag(y 𝟙) softmax(z) − y, ż⟩ − ⟨log softmax(z), ẏ⟩, from existing
    /// operations: each row's log-sum-exp is `ln(row_sum(e^(z − c))) + c`, shifted by
    /// the largest entry c of all z (so it overflows nowhere; a row whose entries all
    /// lie ~700 (f64) or ~87 (f32) below c underflows).
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let (dz, dy) = (tg::darg(s, t, 0), tg::darg(s, t, 1));
        if dz.is_none() && dy.is_none() {
            return Ok(None);
        }
        let (z, y) = (tg::arg(s, t, 0), tg::arg(s, t, 1));
        let c = t.push(Op::Extreme { max: true }, vec![z]);
        let shifted = Sym::call(Method::Exp, Sym::sub(Sym::Var, Sym::Val(c)));
        let e = t.push(Op::Map(Closure { body: shifted }), vec![z, c]);
        let sums = t.push(Op::ColumnSum { mean: false }, vec![e]);
        let ln = Sym::add(Sym::call(Method::Ln, Sym::Var), Sym::Val(c));
        let lse = t.push(Op::Map(Closure { body: ln }), vec![sums, c]);
        let zero = tg::zeros_like(t, z);
        let lse = t.push(Op::AddCol, vec![zero, lse]);
        let mut terms = Vec::new();
        if let Some(dz) = dz {
            let p = Sym::call(Method::Exp, Sym::sub(Sym::Arg(0), Sym::Arg(1)));
            let p = t.push(Op::ZipMap(Closure { body: p }), vec![z, lse]);
            let rows = t.push(Op::ColumnSum { mean: false }, vec![y]);
            let rows = t.push(Op::AddCol, vec![zero, rows]);
            let scaled = t.push(Op::ComponentMul, vec![p, rows]);
            let bracket = t.push(Op::Sub, vec![scaled, y]);
            terms.push(Some(t.push(Op::Dot, vec![bracket, dz])));
        }
        if let Some(dy) = dy {
            let minus_log_softmax = t.push(Op::Sub, vec![lse, z]);
            terms.push(Some(t.push(Op::Dot, vec![minus_log_softmax, dy])));
        }
        Ok(tg::sum(t, terms))
    }
}

/// `−s̄ log softmax(z)`, row by row; args (s̄, z).
struct SoftmaxCeAdjointY;

impl Kernel for SoftmaxCeAdjointY {
    fn runtime(&self) -> &'static str {
        "softmax_ce_adjoint_y_to"
    }
    fn lower_static(&self, args: &[StaticArg], _: Shape, _: &dyn StaticNames) -> TokenStream {
        let (alpha, (z, _)) = (StaticArg::scal(args, 0), StaticArg::mat(args, 1));
        let [o, orow, zr, mx, l, x] =
            ["o", "orow", "zr", "m", "l", "x"].map(|k| mixed(&format!("__mg_{k}")));
        quote!({
            let mut #o = #z;
            for (mut #orow, #zr) in #o.row_iter_mut().zip(#z.row_iter()) {
                let #mx = #zr.max();
                let #l = #mx + #zr.map(|#x| (#x - #mx).exp()).sum().ln();
                #orow.copy_from(&#zr.map(|#x| (#l - #x) * #alpha));
            }
            #o
        })
    }
    fn formula(&self, args: &[Term]) -> Term {
        let at = |i: usize| args.get(i).cloned().unwrap_or(Term::Num(0.0));
        app(
            "neg",
            vec![app("scale", vec![at(0), app("log_softmax", vec![at(1)])])],
        )
    }
}

//! Functions of a square matrix: `determinant`, `try_inverse().unwrap()`, and the
//! factorisation and solves that replace an inverse used only in products (see
//! [`crate::solve`]).

use super::tangent::{self as tg, Tangent};
use super::Tangents;
use super::{
    app, apply, value, Contrib, Formula, Forward, KArg, Keeps, Kernel, KernelRef, Names, Rule,
    ShapeRule, Site, StaticArg, StaticForward, StaticNames,
};
use crate::cost::{self, Cost, Poly};
use crate::ir::{Graph, NodeId, Op, Shape};
use crate::simplify::Term;
use crate::sym::{Operand, Sym};
use proc_macro2::TokenStream;
use quote::quote;

/// A node computing `a.try_inverse()` of node `a` in the forward pass, whose value
/// the adjoints of `det a` and `ln |det a|` reuse instead of inverting `a` again.
pub(super) fn inverse_of(g: &Graph, a: NodeId) -> Option<NodeId> {
    g.nodes
        .iter()
        .position(|n| matches!(n.op, Op::Inverse(_)) && n.args.first() == Some(&a))
}

/// `Some(msg)` or `None`, as tokens.
fn option(msg: Option<&str>) -> TokenStream {
    match msg {
        Some(m) => quote!(::core::option::Option::Some(#m)),
        None => quote!(::core::option::Option::None),
    }
}

/// The static backend has no solves: [`crate::solve`] leaves static sizes alone.
fn no_static_solves() -> TokenStream {
    quote!(::core::compile_error!(
        "matgrad: solves are not written for static sizes"
    ))
}

/// `det a`  →  ā += s̄ det(a) a⁻ᵀ (the function's own inverse of `a` when it has one).
pub struct Determinant;

impl Rule for Determinant {
    fn name(&self) -> String {
        "det".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Scalar
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::cubic(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, text, a) = (n.rt(), n.text(s.id), n.view(s.arg_id(0)));
        Forward::Scalar(quote!(#rt::determinant(#a, #text)))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let a = n.value(s.arg_id(0));
        StaticForward::Expr(quote!(#a.determinant()))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        let alpha = Sym::mul(Sym::Grad, Sym::Val(s.id));
        let c = match inverse_of(s.g, s.arg_id(0)) {
            Some(inv) => Contrib::Axpy {
                alpha,
                a: Operand::Value(inv),
                ta: true,
            },
            None => Contrib::Kernel(
                KernelRef(&InvTranspose),
                vec![
                    KArg::Scal(alpha),
                    KArg::Mat(s.arg(0)),
                    KArg::Scratch,
                    KArg::Scratch,
                ],
            ),
        };
        vec![(0, c)]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "det", 1)
    }
    /// ẏ = y tr(a⁻¹ ȧ).
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let Some(da) = tg::darg(s, t, 0) else {
            return Ok(None);
        };
        let (a, y) = (tg::arg(s, t, 0), tg::this(s, t));
        let inv = t.push(Op::FactorInverse, vec![a]);
        let tr = t.push(Op::TraceMul, vec![inv, da]);
        Ok(tg::expr(t, Sym::mul(Sym::Val(y), Sym::Val(tr))))
    }
}

/// `alpha · a⁻ᵀ`; args (alpha, a, scratch, scratch). A singular `a` gives
/// non-finite entries.
struct InvTranspose;

impl Kernel for InvTranspose {
    fn runtime(&self) -> &'static str {
        "inv_transpose_to"
    }
    fn lower_static(&self, args: &[StaticArg], target: Shape, n: &dyn StaticNames) -> TokenStream {
        let (alpha, (a, _)) = (StaticArg::scal(args, 0), StaticArg::mat(args, 1));
        let (t, nan) = (n.ty(target), n.sym(&Sym::Lit(f64::NAN), 0));
        quote!(#a.try_inverse().unwrap_or_else(|| #t::from_element(#nan)).transpose() * #alpha)
    }
    fn formula(&self, args: &[Term]) -> Term {
        let at = |i: usize| args.get(i).cloned().unwrap_or(Term::Num(0.0));
        app(
            "scale",
            vec![at(0), app("t", vec![app("inv", vec![at(1)])])],
        )
    }
}

/// `y = a⁻¹`  →  ā += −yᵀ Ḡ yᵀ, a chain in its cheapest order (for Ḡ = u vᵀ
/// unstored: −(yᵀu)(vᵀyᵀ), two matrix–vector products).
pub struct Inverse<'a>(pub Kind<'a>);

/// How an inverse is computed (its rule is otherwise one).
#[derive(Clone, Copy)]
pub enum Kind<'a> {
    /// The user's `try_inverse().unwrap()` (or `.expect(msg)`): nalgebra's bits.
    Nalgebra(Option<&'a str>),
    /// An inverse a tangent needs ([`Op::FactorInverse`]): matgrad's factorisation,
    /// in the workspace.
    Factored,
}

impl Rule for Inverse<'_> {
    fn name(&self) -> String {
        match self.0 {
            Kind::Nalgebra(_) => "inv".into(),
            Kind::Factored => "inv_factored".into(),
        }
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Like(0)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::cubic(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, text) = (n.rt(), n.out(), n.text(s.id));
        let a = n.view(s.arg_id(0));
        match self.0 {
            Kind::Nalgebra(msg) => {
                let msg = option(msg);
                Forward::Matrix(quote!(#rt::inverse_to(&mut #out, #a, #text, #msg);))
            }
            Kind::Factored => {
                let (_, scratch) = n.aux(s.id);
                Forward::Matrix(
                    quote!(let _ = #rt::ln_det_inverse_to(&mut #out, #a, &mut #scratch, #text);),
                )
            }
        }
    }
    /// The factorisation's scratch, for [`Kind::Factored`].
    fn keeps(&self, _: Site<'_>) -> Keeps {
        match self.0 {
            Kind::Nalgebra(_) => Keeps::NOTHING,
            Kind::Factored => Keeps::AUX,
        }
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        let a = n.value(s.arg_id(0));
        let expect = match self.0 {
            Kind::Nalgebra(msg) => msg,
            Kind::Factored => None,
        };
        let msg = expect.map_or_else(
            || {
                let text = &s.node().text;
                format!("matgrad: `{text}`: the matrix is singular, it has no inverse")
            },
            str::to_owned,
        );
        StaticForward::Expr(quote!(#a.try_inverse().expect(#msg)))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        vec![(
            0,
            Contrib::Chain {
                alpha: Sym::Lit(-1.0),
                factors: vec![
                    (Operand::Value(s.id), true),
                    (Operand::Grad, false),
                    (Operand::Value(s.id), true),
                ],
            },
        )]
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        apply(s, f, "inv", 1)
    }
    /// ẏ = −y ȧ y.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let Some(da) = tg::darg(s, t, 0) else {
            return Ok(None);
        };
        let y = tg::this(s, t);
        let left = t.push(Op::MatMul, vec![y, da]);
        let both = t.push(Op::MatMul, vec![left, y]);
        Ok(Some(t.push(Op::Neg, vec![both])))
    }
}

/// `a` itself, held factorised (Cholesky `a = L Lᵀ` when `a` is exactly symmetric
/// positive definite, else LU with partial pivoting, `P a = L U`; pivots and kind in
/// the aux buffer), for the solves of an inverse used only in products  →  ā += Ḡ.
pub struct Factor<'a>(pub Option<&'a str>);

impl Rule for Factor<'_> {
    fn name(&self) -> String {
        "factor".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Like(0)
    }
    /// LU with partial pivoting: n³/3.
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        Cost::fixed(cost::arg(s, shapes, 0).map_or(Poly::num(1), |(r, _)| r.mul(&r).mul(&r).div(3)))
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, text) = (n.rt(), n.out(), n.text(s.id));
        let (a, msg, (piv, _)) = (n.view(s.arg_id(0)), option(self.0), n.aux(s.id));
        Forward::Matrix(quote!(#rt::factor_to(&mut #out, &mut #piv, #a, #text, #msg);))
    }
    fn forward_static(&self, _: Site<'_>, _: &dyn StaticNames) -> StaticForward {
        StaticForward::Expr(no_static_solves())
    }
    fn adjoint(&self, _: Site<'_>) -> Vec<(usize, Contrib)> {
        vec![(0, super::copy(Sym::Lit(1.0), false))]
    }
    /// The factors are the matrix.
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        value(s, f, 0)
    }
    /// The pivots and the kind of factorisation.
    fn keeps(&self, _: Site<'_>) -> Keeps {
        Keeps::AUX
    }
    /// The factorised matrix itself: its tangent is ȧ (the solves read it).
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        Ok(tg::darg(s, t, 0))
    }
}

/// `y = a⁻¹ b` by triangular solves with the factors of an [`Op::Factor`] of `a`; args
/// (the `Factor` node, b)  →  b̄ += a⁻ᵀ Ḡ, ā −= (a⁻ᵀ Ḡ) yᵀ.
pub struct Solve;

impl Rule for Solve {
    fn name(&self) -> String {
        "solve".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Product(0, 1)
    }
    /// Two triangular solves per right-hand side column: n² each, what the product
    /// with the inverse costs.
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        cost::product(s, shapes)
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, text) = (n.rt(), n.out(), n.text(s.id));
        let ((piv, _), lu, b) = (n.aux(s.arg_id(0)), n.view(s.arg_id(0)), n.view(s.arg_id(1)));
        Forward::Matrix(quote!(#rt::factor_solve_to(&mut #out, #lu, #rt::view(&#piv), #b, #text);))
    }
    fn forward_static(&self, _: Site<'_>, _: &dyn StaticNames) -> StaticForward {
        StaticForward::Expr(no_static_solves())
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        solve_adjoint(s, 0, &SOLVE_X, &SOLVE_B)
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        app("*", vec![app("inv", vec![value(s, f, 0)]), value(s, f, 1)])
    }
    /// y = a⁻¹ b: ẏ = a⁻¹ (ḃ − ȧ y), one more solve with the same factors.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let (f, y) = (tg::arg(s, t, 0), tg::this(s, t));
        let d0 = tg::darg(s, t, 0);
        let ay = tg::push_all(t, Op::MatMul, &[d0, Some(y)]);
        let db = tg::darg(s, t, 1);
        let rhs = tg::sub(t, db, ay);
        Ok(tg::push_all(t, Op::Solve, &[Some(f), rhs]))
    }
}

/// `y = b a⁻¹ = (a⁻ᵀ bᵀ)ᵀ` by triangular solves with the factors of an [`Op::Factor`]
/// of `a`; args (b, the `Factor` node)  →  b̄ += Ḡ a⁻ᵀ, ā −= yᵀ (Ḡ a⁻ᵀ).
pub struct SolveRight;

impl Rule for SolveRight {
    fn name(&self) -> String {
        "rsolve".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Like(0)
    }
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
        match (cost::arg(s, shapes, 0), cost::arg(s, shapes, 1)) {
            (Some(b), Some(a)) => Cost::fixed(b.0.mul(&a.0).mul(&a.1)),
            _ => Cost::fixed(Poly::num(1)),
        }
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        let (rt, out, text) = (n.rt(), n.out(), n.text(s.id));
        let ((piv, _), (tmp, _)) = (n.aux(s.arg_id(1)), n.aux(s.id));
        let (b, lu) = (n.view(s.arg_id(0)), n.view(s.arg_id(1)));
        Forward::Matrix(quote!(
            #rt::factor_solve_right_to(&mut #out, #b, #lu, #rt::view(&#piv), &mut #tmp, #text);
        ))
    }
    fn forward_static(&self, _: Site<'_>, _: &dyn StaticNames) -> StaticForward {
        StaticForward::Expr(no_static_solves())
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        solve_adjoint(s, 1, &RSOLVE_X, &RSOLVE_B)
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        app("*", vec![value(s, f, 0), app("inv", vec![value(s, f, 1)])])
    }
    /// The right-hand side, transposed.
    fn keeps(&self, _: Site<'_>) -> Keeps {
        Keeps::AUX
    }
    /// y = b a⁻¹: ẏ = (ḃ − y ȧ) a⁻¹, one more solve with the same factors.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let (f, y) = (tg::arg(s, t, 1), tg::this(s, t));
        let d1 = tg::darg(s, t, 1);
        let ya = tg::push_all(t, Op::MatMul, &[Some(y), d1]);
        let db = tg::darg(s, t, 0);
        let rhs = tg::sub(t, db, ya);
        Ok(tg::push_all(t, Op::SolveRight, &[rhs, Some(f)]))
    }
}

/// The adjoints of a solve whose factorisation is argument `f` (the other argument
/// is the right-hand side): each a solve with the factors and pivots (transposed for
/// `y = a⁻¹ b`) and, for `a`, one product.
fn solve_adjoint(
    s: Site<'_>,
    f: usize,
    for_a: &'static SolveAdjoint,
    for_b: &'static SolveAdjoint,
) -> Vec<(usize, Contrib)> {
    let lu = s.arg_id(f);
    let factors = || vec![KArg::Mat(Operand::Value(lu)), KArg::Mat(Operand::Aux(lu))];
    let with = |mut args: Vec<KArg>, more: Vec<KArg>| {
        args.extend(more);
        args
    };
    let g = KArg::Mat(Operand::Grad);
    let y = KArg::Mat(Operand::Value(s.id));
    vec![
        (
            f,
            Contrib::Kernel(
                KernelRef(for_a),
                with(factors(), vec![g.clone(), y, KArg::Scratch]),
            ),
        ),
        (
            1 - f,
            Contrib::Kernel(KernelRef(for_b), with(factors(), vec![g, KArg::Scratch])),
        ),
    ]
}

/// The adjoint of one argument of a solve; args (factors, pivots, Ḡ[, y], scratch).
struct SolveAdjoint {
    runtime: &'static str,
    /// `y = b a⁻¹`, else `y = a⁻¹ b`.
    right: bool,
    /// For the factorised matrix, else for the right-hand side.
    of_matrix: bool,
}

static SOLVE_X: SolveAdjoint = SolveAdjoint {
    runtime: "factor_solve_adjoint_x_to",
    right: false,
    of_matrix: true,
};
static SOLVE_B: SolveAdjoint = SolveAdjoint {
    runtime: "factor_solve_adjoint_b_to",
    right: false,
    of_matrix: false,
};
static RSOLVE_X: SolveAdjoint = SolveAdjoint {
    runtime: "factor_solve_right_adjoint_x_to",
    right: true,
    of_matrix: true,
};
static RSOLVE_B: SolveAdjoint = SolveAdjoint {
    runtime: "factor_solve_right_adjoint_b_to",
    right: true,
    of_matrix: false,
};

impl Kernel for SolveAdjoint {
    fn runtime(&self) -> &'static str {
        self.runtime
    }
    fn lower_static(&self, _: &[StaticArg], _: Shape, _: &dyn StaticNames) -> TokenStream {
        no_static_solves()
    }
    /// x⁻ᵀ Ḡ, −x⁻ᵀ Ḡ yᵀ, Ḡ x⁻ᵀ, −yᵀ Ḡ x⁻ᵀ.
    fn formula(&self, args: &[Term]) -> Term {
        let at = |i: usize| args.get(i).cloned().unwrap_or(Term::Num(0.0));
        let xt = app("t", vec![app("inv", vec![at(0)])]);
        let (g, yt) = (at(2), app("t", vec![at(3)]));
        match (self.right, self.of_matrix) {
            (false, false) => app("*", vec![xt, g]),
            (false, true) => app("neg", vec![app("*", vec![xt, g, yt])]),
            (true, false) => app("*", vec![g, xt]),
            (true, true) => app("neg", vec![app("*", vec![yt, g, xt])]),
        }
    }
}

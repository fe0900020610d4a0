//! Scalars: arithmetic and scalar methods, whose derivatives come from the one
//! table [`SOp::partials`].

use super::tangent::{self as tg, Tangent};
use super::{
    Contrib, Formula, Forward, Names, Rule, ShapeRule, Site, StaticForward, StaticNames, Tangents,
};
use crate::cost::{Cost, Poly};
use crate::ir::Closure;
use crate::simplify::Term;
use crate::sym::{SOp, Sym, UserFn};

/// `y = op(x, e)`  →  x̄ += s̄ ∂y/∂x, ē += s̄ ∂y/∂e.
pub struct Scalar(pub SOp);

impl Scalar {
    /// The operation applied to the node's arguments.
    fn applied(&self, s: Site<'_>) -> Sym {
        let args = (0..s.node().args.len()).map(|k| s.sarg(k)).collect();
        Sym::apply(self.0, args)
    }
}

impl Rule for Scalar {
    fn name(&self) -> String {
        match self.0 {
            SOp::Add => "+".into(),
            SOp::Sub => "-".into(),
            SOp::Mul => "*".into(),
            SOp::Div => "/".into(),
            SOp::Neg => "neg".into(),
            SOp::Powi(n) => format!("powi{n}"),
            SOp::Method(m) => m.name().into(),
        }
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Scalar
    }
    fn cost(&self, _: Site<'_>, _: &[Option<(Poly, Poly)>]) -> Cost {
        Cost::fixed(Poly::num(1))
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        Forward::Scalar(n.sym(&self.applied(s)))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        StaticForward::Expr(n.sym(&self.applied(s), 0))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        let nargs = s.node().args.len();
        let e = (nargs > 1).then(|| s.sarg(1));
        self.0
            .partials(&s.sarg(0), e.as_ref(), &Sym::Val(s.id))
            .into_iter()
            .take(nargs)
            .enumerate()
            .map(|(k, p)| (k, Contrib::Scalar(Sym::mul(Sym::Grad, p))))
            .collect()
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        f.sym(&self.applied(s), &[])
    }
    /// ẏ = Σₖ ∂y/∂aₖ ȧₖ, the partials of the adjoint's table.
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let nargs = s.node().args.len();
        let x = Sym::Val(tg::arg(s, t, 0));
        let e = (nargs > 1).then(|| Sym::Val(tg::arg(s, t, 1)));
        let y = Sym::Val(tg::this(s, t));
        let mut total = Sym::Lit(0.0);
        for (k, p) in self
            .0
            .partials(&x, e.as_ref(), &y)
            .into_iter()
            .take(nargs)
            .enumerate()
        {
            if let Some(d) = tg::darg(s, t, k) {
                total = Sym::add(total, Sym::mul(p, Sym::Val(d)));
            }
        }
        Ok(tg::expr(t, total))
    }
}

/// A scalar expression of scalar nodes (made by the tangent transform): its
/// arguments are the [`Sym::Val`]s it reads  →  each receives s̄ ∂body/∂arg.
pub struct Expr<'a>(pub &'a Closure);

impl Rule for Expr<'_> {
    fn name(&self) -> String {
        "expr".into()
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Scalar
    }
    fn cost(&self, _: Site<'_>, _: &[Option<(Poly, Poly)>]) -> Cost {
        Cost::fixed(Poly::num(1))
    }
    fn forward(&self, _: Site<'_>, n: &dyn Names) -> Forward {
        Forward::Scalar(n.sym(&self.0.body))
    }
    fn forward_static(&self, _: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        StaticForward::Expr(n.sym(&self.0.body, 0))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        s.node()
            .args
            .iter()
            .enumerate()
            .map(|(k, &a)| {
                let d = self.0.body.derivative(&Sym::Val(a));
                (k, Contrib::Scalar(Sym::mul(Sym::Grad, d)))
            })
            .collect()
    }
    fn definition(&self, _: Site<'_>, f: &dyn Formula) -> Term {
        f.sym(&self.0.body, &[])
    }
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
        let body = tg::remap(&self.0.body, t);
        let mut total = Sym::Lit(0.0);
        for &a in &s.node().args {
            if let Some(d) = t.tangent(a) {
                let p = body.derivative(&Sym::Val(t.value(a)));
                total = Sym::add(total, Sym::mul(p, Sym::Val(d)));
            }
        }
        Ok(tg::expr(t, total))
    }
}

/// Why a function calling a `#[custom_adjoint]` function has no second-order form.
pub const USER_SECOND_ORDER: &str = "a `#[custom_adjoint]` function has no second-order form: its adjoint is the user's, and a Hessian would need that adjoint's own derivative; write the function's formula in the body to get second derivatives";

/// `y = f(a, b, …)`, a user's scalar function with a user-supplied adjoint
/// (`#[custom_adjoint(f_adjoint)]`)  →  the k-th argument receives the k-th share of
/// `f_adjoint(a, b, …, s̄)`.
pub struct User<'a>(pub &'a UserFn);

impl User<'_> {
    /// The call on the node's arguments.
    fn applied(&self, s: Site<'_>) -> Sym {
        let args = (0..s.node().args.len()).map(|k| s.sarg(k)).collect();
        Sym::User(Box::new(self.0.clone()), args)
    }
}

impl Rule for User<'_> {
    fn name(&self) -> String {
        format!("user[{}]", self.0.name())
    }
    fn shape(&self) -> ShapeRule {
        ShapeRule::Scalar
    }
    fn cost(&self, _: Site<'_>, _: &[Option<(Poly, Poly)>]) -> Cost {
        Cost::fixed(Poly::num(1))
    }
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward {
        Forward::Scalar(n.sym(&self.applied(s)))
    }
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward {
        StaticForward::Expr(n.sym(&self.applied(s), 0))
    }
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)> {
        let args: Vec<Sym> = (0..s.node().args.len()).map(|k| s.sarg(k)).collect();
        (0..args.len())
            .map(|k| {
                let share = Sym::UserAdjoint(
                    Box::new(self.0.clone()),
                    args.clone(),
                    Box::new(Sym::Grad),
                    k,
                );
                (k, Contrib::Scalar(share))
            })
            .collect()
    }
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term {
        f.sym(&self.applied(s), &[])
    }
    fn tangent(&self, _: Site<'_>, _: &mut dyn Tangents) -> Tangent {
        Err(super::Unsupported(USER_SECOND_ORDER.to_owned()))
    }
}

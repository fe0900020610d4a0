//! Scalars: arithmetic and scalar methods, whose derivatives come from the one
//! table [`SOp::partials`].

use super::{Contrib, Formula, Forward, Names, Rule, ShapeRule, Site, StaticForward, StaticNames};
use crate::cost::{Cost, Poly};
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
}

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
}

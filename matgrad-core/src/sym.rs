//! Scalar symbolic expressions, and the derivative rules of scalar operations.
//!
//! A [`Sym`] is a small expression tree over scalars: literals, node values, the
//! adjoint of the node being differentiated, the variable of a `map` closure, and
//! the arguments of an elementwise kernel's closure. The rules of differentiation
//! build `Sym`s; the emitter turns them into Rust and the renderer into math. Smart
//! constructors fold the obvious (`1 · a = a`, `a + 0 = a`) so neither has to.
//!
//! [`SOp::partials`] is the one table of scalar derivatives: the reverse sweep uses
//! it for scalar nodes, and [`Sym::derivative`] uses it for `map` closures.

use crate::ir::NodeId;

/// A scalar operation: arithmetic, or one of the accepted scalar methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SOp {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b`
    Div,
    /// `-a`
    Neg,
    /// `a.powi(n)` with an integer literal.
    Powi(i32),
    /// A method of one argument (`a.tanh()`), or of two (`a.powf(b)`, `a.max(b)`).
    Method(Method),
}

/// Scalar methods accepted in bodies and closures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Method {
    Ln,
    Exp,
    Sqrt,
    Sin,
    Cos,
    Tan,
    Tanh,
    Sinh,
    Cosh,
    Abs,
    Recip,
    Ln1p,
    ExpM1,
    Powf,
    Max,
    Min,
}

impl Method {
    /// Every method, for lookups by name.
    pub const ALL: [Method; 16] = [
        Method::Ln,
        Method::Exp,
        Method::Sqrt,
        Method::Sin,
        Method::Cos,
        Method::Tan,
        Method::Tanh,
        Method::Sinh,
        Method::Cosh,
        Method::Abs,
        Method::Recip,
        Method::Ln1p,
        Method::ExpM1,
        Method::Powf,
        Method::Max,
        Method::Min,
    ];

    /// The Rust method name.
    pub fn name(self) -> &'static str {
        match self {
            Method::Ln => "ln",
            Method::Exp => "exp",
            Method::Sqrt => "sqrt",
            Method::Sin => "sin",
            Method::Cos => "cos",
            Method::Tan => "tan",
            Method::Tanh => "tanh",
            Method::Sinh => "sinh",
            Method::Cosh => "cosh",
            Method::Abs => "abs",
            Method::Recip => "recip",
            Method::Ln1p => "ln_1p",
            Method::ExpM1 => "exp_m1",
            Method::Powf => "powf",
            Method::Max => "max",
            Method::Min => "min",
        }
    }

    /// The method called `name`, if accepted.
    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Whether it takes a second argument (`x.powf(e)`, `x.max(e)`).
    pub fn is_binary(self) -> bool {
        matches!(self, Method::Powf | Method::Max | Method::Min)
    }
}

impl SOp {
    /// The partial derivatives of `y = op(x, e)` with respect to each argument, as
    /// expressions in the arguments `x` (and `e`) and the result `y`.
    ///
    /// | op | ∂y/∂x | ∂y/∂e |
    /// | --- | --- | --- |
    /// | x + e, x − e | 1 | ±1 |
    /// | x e | e | x |
    /// | x / e | 1/e | −y/e |
    /// | −x | −1 | |
    /// | xⁿ (powi) | n xⁿ⁻¹ | |
    /// | ln x | 1/x | |
    /// | eˣ | y | |
    /// | √x | 1/(2y) | |
    /// | sin, cos, tan | cos x, −sin x, 1 + y² | |
    /// | tanh, sinh, cosh | 1 − y², cosh x, sinh x | |
    /// | \|x\| | signum x | |
    /// | 1/x (recip) | −y² | |
    /// | ln(1 + x), eˣ − 1 | 1/(1 + x), y + 1 | |
    /// | x^e (powf) | e x^(e−1) | y ln x |
    /// | max(x, e), min(x, e) | 𝟙(x ≥ e), 𝟙(x ≤ e) | 𝟙(x < e), 𝟙(x > e) |
    pub fn partials(self, x: &Sym, e: Option<&Sym>, y: &Sym) -> Vec<Sym> {
        let one = Sym::Lit(1.0);
        let e = e.cloned().unwrap_or(Sym::Lit(0.0));
        match self {
            SOp::Add => vec![one.clone(), one],
            SOp::Sub => vec![one, Sym::Lit(-1.0)],
            SOp::Mul => vec![e, x.clone()],
            SOp::Div => vec![Sym::div(one, e.clone()), Sym::neg(Sym::div(y.clone(), e))],
            SOp::Neg => vec![Sym::Lit(-1.0)],
            SOp::Powi(n) => vec![Sym::mul(
                Sym::Lit(f64::from(n)),
                Sym::powi(x.clone(), n - 1),
            )],
            SOp::Method(m) => match m {
                Method::Ln => vec![Sym::div(one, x.clone())],
                Method::Exp => vec![y.clone()],
                Method::Sqrt => vec![Sym::div(one, Sym::mul(Sym::Lit(2.0), y.clone()))],
                Method::Sin => vec![Sym::call(Method::Cos, x.clone())],
                Method::Cos => vec![Sym::neg(Sym::call(Method::Sin, x.clone()))],
                Method::Tan => vec![Sym::add(one, Sym::mul(y.clone(), y.clone()))],
                Method::Tanh => vec![Sym::sub(one, Sym::mul(y.clone(), y.clone()))],
                Method::Sinh => vec![Sym::call(Method::Cosh, x.clone())],
                Method::Cosh => vec![Sym::call(Method::Sinh, x.clone())],
                Method::Abs => vec![Sym::Signum(Box::new(x.clone()))],
                Method::Recip => vec![Sym::neg(Sym::mul(y.clone(), y.clone()))],
                Method::Ln1p => vec![Sym::div(one.clone(), Sym::add(one, x.clone()))],
                Method::ExpM1 => vec![Sym::add(y.clone(), one)],
                Method::Powf => vec![
                    Sym::mul(
                        e.clone(),
                        Sym::call2(Method::Powf, x.clone(), Sym::sub(e, one)),
                    ),
                    Sym::mul(y.clone(), Sym::call(Method::Ln, x.clone())),
                ],
                Method::Max => vec![
                    Sym::Step(Cmp::Ge, Box::new(x.clone()), Box::new(e.clone())),
                    Sym::Step(Cmp::Lt, Box::new(x.clone()), Box::new(e)),
                ],
                Method::Min => vec![
                    Sym::Step(Cmp::Le, Box::new(x.clone()), Box::new(e.clone())),
                    Sym::Step(Cmp::Gt, Box::new(x.clone()), Box::new(e)),
                ],
            },
        }
    }

    /// Whether the partial with respect to the first argument can be written from the
    /// result `y` alone (so a `map` adjoint can read the stored output instead of
    /// recomputing a transcendental function).
    pub fn partial_uses_only_output(self) -> bool {
        matches!(
            self,
            SOp::Method(
                Method::Exp
                    | Method::Sqrt
                    | Method::Tan
                    | Method::Tanh
                    | Method::Recip
                    | Method::ExpM1
            )
        )
    }
}

/// A comparison inside a [`Sym::Step`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Cmp {
    Gt,
    Ge,
    Lt,
    Le,
}

/// The parts of a [`Sym::Select`]: `if a cmp b { then } else { other }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Select {
    /// The comparison.
    pub cmp: Cmp,
    /// Its left side.
    pub a: Sym,
    /// Its right side.
    pub b: Sym,
    /// The value when the comparison holds.
    pub then: Sym,
    /// The value otherwise.
    pub other: Sym,
}

impl Select {
    /// Each part rebuilt by `f`.
    fn map(&self, f: impl Fn(&Sym) -> Sym) -> Sym {
        Sym::Select(Box::new(Select {
            cmp: self.cmp,
            a: f(&self.a),
            b: f(&self.b),
            then: f(&self.then),
            other: f(&self.other),
        }))
    }
}

/// Where a matrix operand of a scalar expression comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    /// The (matrix) adjoint of the node being differentiated.
    Grad,
    /// The value of a node.
    Value(NodeId),
    /// The auxiliary result a node's forward pass keeps for its adjoint
    /// (the inverse computed beside `ln_det`).
    Aux(NodeId),
    /// The adjoint of a node (what [`Operand::Grad`] becomes once the sweep knows
    /// whose adjoint it is).
    Adj(NodeId),
    /// Part `k` of what a node's reverse sweep computes at once: the adjoint a
    /// run-time loop sends its argument `k` (a scalar one as a 1×1 matrix).
    Part(NodeId, usize),
}

/// A scalar function of the runtime (`::matgrad::__private::NAME`), for the
/// entrywise derivatives of matgrad's activations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RtFn {
    /// σ(x), the logistic function: the derivative of `softplus`.
    SigmoidScalar,
    /// `[x > 0]`: the derivative of `relu`.
    ReluStep,
}

impl RtFn {
    /// The runtime function's name.
    pub fn runtime(self) -> &'static str {
        match self {
            RtFn::SigmoidScalar => "sigmoid_scalar",
            RtFn::ReluStep => "relu_step",
        }
    }

    /// Its name in formulas: `σ`, `step`.
    pub fn math(self) -> &'static str {
        match self {
            RtFn::SigmoidScalar => "σ",
            RtFn::ReluStep => "step",
        }
    }
}

/// A scalar function of the user's with a user-supplied adjoint
/// (`#[custom_adjoint(f_adjoint)] fn f(a: f64, b: f64) -> f64`): matgrad calls `f`
/// for the value and `f_adjoint(a, b, ḡ)` (a tuple `(ā, b̄)`, or `ā` alone for one
/// argument) for the adjoints, and never looks inside either.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserFn {
    /// The path of the function, as called (`special::j0`).
    pub path: String,
    /// The path of its adjoint, as the attribute names it.
    pub adjoint: String,
    /// Its number of arguments.
    pub arity: usize,
}

impl UserFn {
    /// `path` as tokens (it was a path when read).
    pub fn path_tokens(&self) -> proc_macro2::TokenStream {
        self.path.parse().unwrap_or_default()
    }

    /// `adjoint` as tokens.
    pub fn adjoint_tokens(&self) -> proc_macro2::TokenStream {
        self.adjoint.parse().unwrap_or_default()
    }

    /// Its name in formulas: the last segment of its path.
    pub fn name(&self) -> &str {
        self.path.rsplit("::").next().unwrap_or(&self.path).trim()
    }
}

/// A scalar expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Sym {
    /// A float constant.
    Lit(f64),
    /// The value of a scalar node.
    Val(NodeId),
    /// The adjoint of the scalar node being differentiated (s̄).
    Grad,
    /// The adjoint of a scalar node ([`Sym::Grad`] made absolute).
    Adj(NodeId),
    /// A scalar function of the runtime (`sigmoid_scalar`, `relu_step`).
    Rt(RtFn, Box<Sym>),
    /// The variable of a `map` closure.
    Var,
    /// Argument `k` of an elementwise kernel's closure.
    Arg(usize),
    /// `-a`
    Neg(Box<Sym>),
    /// `a + b`
    Add(Box<Sym>, Box<Sym>),
    /// `a - b`
    Sub(Box<Sym>, Box<Sym>),
    /// `a * b`
    Mul(Box<Sym>, Box<Sym>),
    /// `a / b`
    Div(Box<Sym>, Box<Sym>),
    /// `a.powi(n)`
    Powi(Box<Sym>, i32),
    /// `a.method()` or `a.method(b)`
    Call(Method, Box<Sym>, Option<Box<Sym>>),
    /// `signum(a)`, the derivative of `abs`.
    Signum(Box<Sym>),
    /// `1` when `a cmp b`, else `0`.
    Step(Cmp, Box<Sym>, Box<Sym>),
    /// `if a cmp b { then } else { other }`: a piecewise expression, whose derivative
    /// is the derivative of the branch taken (the branch the comparison picks, also
    /// on the boundary).
    Select(Box<Select>),
    /// Σ of a matrix's entries.
    Sum(Operand),
    /// Σ a ⊙ b.
    Dot(Operand, Operand),
    /// The number of entries of a matrix, as a float.
    Len(Operand),
    /// Entry `(i, j)` of a matrix.
    Entry(Operand, usize, usize),
    /// `f(args…)`, a user's function with a user-supplied adjoint.
    User(Box<UserFn>, Vec<Sym>),
    /// Argument `k`'s share of `f_adjoint(args…, g)`: the user's adjoint of `f`.
    UserAdjoint(Box<UserFn>, Vec<Sym>, Box<Sym>, usize),
    /// `Σ_ij f(args_0[i, j], args_1[i, j])`, `f` written in [`Sym::Arg`]s.
    ZipSum(Vec<Operand>, Box<Sym>),
}

// `add`, `sub`, `mul`, `div`, `neg` are folding constructors taking two owned trees,
// named after the operation they build; the `std::ops` traits would hide the folding.
#[allow(clippy::should_implement_trait)]
impl Sym {
    /// Whether this is the literal `v`.
    pub fn is_lit(&self, v: f64) -> bool {
        matches!(self, Sym::Lit(x) if *x == v)
    }

    /// `a + b`, folding zeros and literals.
    pub fn add(a: Sym, b: Sym) -> Sym {
        match (a, b) {
            (Sym::Lit(x), Sym::Lit(y)) => Sym::Lit(x + y),
            (a, b) if b.is_lit(0.0) => a,
            (a, b) if a.is_lit(0.0) => b,
            (a, Sym::Neg(b)) => Sym::sub(a, *b),
            (a, b) => Sym::Add(Box::new(a), Box::new(b)),
        }
    }

    /// `a - b`, folding zeros and literals.
    pub fn sub(a: Sym, b: Sym) -> Sym {
        match (a, b) {
            (Sym::Lit(x), Sym::Lit(y)) => Sym::Lit(x - y),
            (a, b) if b.is_lit(0.0) => a,
            (a, b) if a.is_lit(0.0) => Sym::neg(b),
            (a, Sym::Neg(b)) => Sym::add(a, *b),
            (a, b) => Sym::Sub(Box::new(a), Box::new(b)),
        }
    }

    /// `a · b`, folding ones, zeros, signs and literals.
    pub fn mul(a: Sym, b: Sym) -> Sym {
        match (a, b) {
            (Sym::Lit(x), Sym::Lit(y)) => Sym::Lit(x * y),
            (a, b) if a.is_lit(0.0) || b.is_lit(0.0) => Sym::Lit(0.0),
            (a, b) if a.is_lit(1.0) => b,
            (a, b) if b.is_lit(1.0) => a,
            (a, b) if a.is_lit(-1.0) => Sym::neg(b),
            (a, b) if b.is_lit(-1.0) => Sym::neg(a),
            (Sym::Neg(a), Sym::Neg(b)) => Sym::mul(*a, *b),
            (Sym::Neg(a), b) => Sym::neg(Sym::mul(*a, b)),
            (a, Sym::Neg(b)) => Sym::neg(Sym::mul(a, *b)),
            // Literals first, so `2 · s̄ · a` reads (and folds) as expected.
            (a, Sym::Lit(y)) => Sym::Mul(Box::new(Sym::Lit(y)), Box::new(a)),
            (a, b) => Sym::Mul(Box::new(a), Box::new(b)),
        }
    }

    /// `a / b`, folding ones and signs.
    pub fn div(a: Sym, b: Sym) -> Sym {
        match (a, b) {
            (a, b) if b.is_lit(1.0) => a,
            (a, _) if a.is_lit(0.0) => Sym::Lit(0.0),
            (Sym::Neg(a), b) => Sym::neg(Sym::div(*a, b)),
            (a, b) => Sym::Div(Box::new(a), Box::new(b)),
        }
    }

    /// `-a`, folding double negation and literals.
    pub fn neg(a: Sym) -> Sym {
        match a {
            Sym::Lit(x) => Sym::Lit(-x),
            Sym::Neg(a) => *a,
            a => Sym::Neg(Box::new(a)),
        }
    }

    /// `a.powi(n)`, folding `n = 0, 1`.
    pub fn powi(a: Sym, n: i32) -> Sym {
        match n {
            0 => Sym::Lit(1.0),
            1 => a,
            n => Sym::Powi(Box::new(a), n),
        }
    }

    /// `a.method()`.
    pub fn call(m: Method, a: Sym) -> Sym {
        Sym::Call(m, Box::new(a), None)
    }

    /// `a.method(b)`.
    pub fn call2(m: Method, a: Sym, b: Sym) -> Sym {
        Sym::Call(m, Box::new(a), Some(Box::new(b)))
    }

    /// Applies `op` to `args` (one or two).
    pub fn apply(op: SOp, args: Vec<Sym>) -> Sym {
        let mut it = args.into_iter();
        let a = it.next().unwrap_or(Sym::Lit(0.0));
        let b = it.next();
        match (op, b) {
            (SOp::Add, Some(b)) => Sym::Add(Box::new(a), Box::new(b)),
            (SOp::Sub, Some(b)) => Sym::Sub(Box::new(a), Box::new(b)),
            (SOp::Mul, Some(b)) => Sym::Mul(Box::new(a), Box::new(b)),
            (SOp::Div, Some(b)) => Sym::Div(Box::new(a), Box::new(b)),
            (SOp::Neg, _) => Sym::Neg(Box::new(a)),
            (SOp::Powi(n), _) => Sym::Powi(Box::new(a), n),
            (SOp::Method(m), b) => Sym::Call(m, Box::new(a), b.map(Box::new)),
            (_, None) => a,
        }
    }

    /// Replaces every [`Sym::Var`] by `with`.
    pub fn subst_var(&self, with: &Sym) -> Sym {
        self.map_leaves(&|s| match s {
            Sym::Var => Some(with.clone()),
            _ => None,
        })
    }

    /// Rebuilds the tree, replacing the leaves for which `f` answers `Some`.
    pub fn map_leaves(&self, f: &dyn Fn(&Sym) -> Option<Sym>) -> Sym {
        if let Some(s) = f(self) {
            return s;
        }
        let b = |s: &Sym| Box::new(s.map_leaves(f));
        match self {
            Sym::Neg(a) => Sym::Neg(b(a)),
            Sym::Add(x, y) => Sym::Add(b(x), b(y)),
            Sym::Sub(x, y) => Sym::Sub(b(x), b(y)),
            Sym::Mul(x, y) => Sym::Mul(b(x), b(y)),
            Sym::Div(x, y) => Sym::Div(b(x), b(y)),
            Sym::Powi(x, n) => Sym::Powi(b(x), *n),
            Sym::Call(m, x, y) => Sym::Call(*m, b(x), y.as_ref().map(|y| b(y))),
            Sym::Signum(x) => Sym::Signum(b(x)),
            Sym::Rt(n, x) => Sym::Rt(*n, b(x)),
            Sym::Step(c, x, y) => Sym::Step(*c, b(x), b(y)),
            Sym::Select(sel) => sel.map(|x| x.map_leaves(f)),
            Sym::User(u, args) => {
                Sym::User(u.clone(), args.iter().map(|a| a.map_leaves(f)).collect())
            }
            Sym::UserAdjoint(u, args, g, k) => Sym::UserAdjoint(
                u.clone(),
                args.iter().map(|a| a.map_leaves(f)).collect(),
                b(g),
                *k,
            ),
            Sym::Sum(o) => Sym::Sum(f_operand(*o, f)),
            Sym::Dot(x, y) => Sym::Dot(f_operand(*x, f), f_operand(*y, f)),
            Sym::Len(o) => Sym::Len(f_operand(*o, f)),
            Sym::Entry(o, i, j) => Sym::Entry(f_operand(*o, f), *i, *j),
            Sym::ZipSum(ops, body) => {
                Sym::ZipSum(ops.iter().map(|o| f_operand(*o, f)).collect(), body.clone())
            }
            leaf => leaf.clone(),
        }
    }

    /// The tree rebuilt through the smart constructors (folding what they fold).
    pub fn simplified(&self) -> Sym {
        match self {
            Sym::Neg(a) => Sym::neg(a.simplified()),
            Sym::Add(x, y) => Sym::add(x.simplified(), y.simplified()),
            Sym::Sub(x, y) => Sym::sub(x.simplified(), y.simplified()),
            Sym::Mul(x, y) => Sym::mul(x.simplified(), y.simplified()),
            Sym::Div(x, y) => Sym::div(x.simplified(), y.simplified()),
            Sym::Powi(x, n) => Sym::powi(x.simplified(), *n),
            Sym::Call(m, x, y) => Sym::Call(
                *m,
                Box::new(x.simplified()),
                y.as_ref().map(|y| Box::new(y.simplified())),
            ),
            Sym::Signum(x) => Sym::Signum(Box::new(x.simplified())),
            Sym::Rt(n, x) => Sym::Rt(*n, Box::new(x.simplified())),
            Sym::Step(c, x, y) => Sym::Step(*c, Box::new(x.simplified()), Box::new(y.simplified())),
            // Both branches alike: no comparison needed.
            Sym::Select(sel) => match sel.map(Sym::simplified) {
                Sym::Select(s) if s.then == s.other => s.then,
                other => other,
            },
            Sym::ZipSum(o, f) => Sym::ZipSum(o.clone(), Box::new(f.simplified())),
            Sym::User(u, args) => Sym::User(u.clone(), args.iter().map(Sym::simplified).collect()),
            Sym::UserAdjoint(u, args, g, k) => Sym::UserAdjoint(
                u.clone(),
                args.iter().map(Sym::simplified).collect(),
                Box::new(g.simplified()),
                *k,
            ),
            leaf => leaf.clone(),
        }
    }

    /// Whether `pred` holds for some node of the tree.
    pub fn any(&self, pred: &dyn Fn(&Sym) -> bool) -> bool {
        if pred(self) {
            return true;
        }
        match self {
            Sym::Neg(a)
            | Sym::Powi(a, _)
            | Sym::Signum(a)
            | Sym::Rt(_, a)
            | Sym::Call(_, a, None) => a.any(pred),
            Sym::Add(x, y)
            | Sym::Sub(x, y)
            | Sym::Mul(x, y)
            | Sym::Div(x, y)
            | Sym::Step(_, x, y)
            | Sym::Call(_, x, Some(y)) => x.any(pred) || y.any(pred),
            Sym::Select(sel) => [&sel.a, &sel.b, &sel.then, &sel.other]
                .into_iter()
                .any(|x| x.any(pred)),
            Sym::User(_, args) => args.iter().any(|a| a.any(pred)),
            Sym::UserAdjoint(_, args, g, _) => args.iter().any(|a| a.any(pred)) || g.any(pred),
            _ => false,
        }
    }

    /// The top-level operation and arguments, when this is an operation node.
    pub fn as_op(&self) -> Option<(SOp, Vec<&Sym>)> {
        Some(match self {
            Sym::Neg(a) => (SOp::Neg, vec![a]),
            Sym::Add(x, y) => (SOp::Add, vec![x, y]),
            Sym::Sub(x, y) => (SOp::Sub, vec![x, y]),
            Sym::Mul(x, y) => (SOp::Mul, vec![x, y]),
            Sym::Div(x, y) => (SOp::Div, vec![x, y]),
            Sym::Powi(x, n) => (SOp::Powi(*n), vec![x]),
            Sym::Call(m, x, None) => (SOp::Method(*m), vec![x]),
            Sym::Call(m, x, Some(y)) => (SOp::Method(*m), vec![x, y]),
            _ => return None,
        })
    }

    /// The derivative of this expression with respect to the leaf `wrt` (forward
    /// mode over the tree), simplified by the smart constructors.
    pub fn derivative(&self, wrt: &Sym) -> Sym {
        if self == wrt {
            return Sym::Lit(1.0);
        }
        // The derivative of the branch taken, under the same comparison.
        if let Sym::Select(sel) = self {
            let (then, other) = (sel.then.derivative(wrt), sel.other.derivative(wrt));
            if then == other {
                return then;
            }
            return Sym::Select(Box::new(Select {
                then,
                other,
                ..(**sel).clone()
            }));
        }
        // A user's function: its partials are its adjoint at ḡ = 1.
        if let Sym::User(u, args) = self {
            let mut total = Sym::Lit(0.0);
            for (k, arg) in args.iter().enumerate() {
                let d = arg.derivative(wrt);
                if !d.is_lit(0.0) {
                    let partial =
                        Sym::UserAdjoint(u.clone(), args.clone(), Box::new(Sym::Lit(1.0)), k);
                    total = Sym::add(total, Sym::mul(partial, d));
                }
            }
            return total;
        }
        // σ′ = σ (1 − σ); the step of relu is flat where it is differentiable.
        if let Sym::Rt(f, a) = self {
            return match f {
                RtFn::SigmoidScalar => {
                    let d = a.derivative(wrt);
                    if d.is_lit(0.0) {
                        return d;
                    }
                    let s = self.clone();
                    Sym::mul(Sym::mul(s.clone(), Sym::sub(Sym::Lit(1.0), s)), d)
                }
                RtFn::ReluStep => Sym::Lit(0.0),
            };
        }
        let Some((op, args)) = self.as_op() else {
            return Sym::Lit(0.0);
        };
        let Some((&first, rest)) = args.split_first() else {
            return Sym::Lit(0.0);
        };
        let partials = op.partials(first, rest.first().copied(), self);
        let mut total = Sym::Lit(0.0);
        for (arg, partial) in args.iter().zip(partials) {
            let d = arg.derivative(wrt);
            if !d.is_lit(0.0) {
                total = Sym::add(total, Sym::mul(partial, d));
            }
        }
        total
    }
}

/// Operands inside a [`Sym`] are rewritten by [`Sym::map_leaves`] through their
/// [`Sym::Sum`]-style wrappers: `f` sees `Sym::Sum(o)` for each operand `o` alone.
fn f_operand(o: Operand, f: &dyn Fn(&Sym) -> Option<Sym>) -> Operand {
    match f(&Sym::Sum(o)) {
        Some(Sym::Sum(o2)) => o2,
        _ => o,
    }
}

/// Makes rule-relative names absolute: [`Sym::Grad`] and [`Operand::Grad`] become
/// the adjoint of node `of`.
pub fn absolute(s: &Sym, of: NodeId) -> Sym {
    s.map_leaves(&|x| match x {
        Sym::Grad => Some(Sym::Adj(of)),
        Sym::Sum(Operand::Grad) => Some(Sym::Sum(Operand::Adj(of))),
        _ => None,
    })
}

/// [`absolute`] for an operand.
pub fn absolute_operand(o: Operand, of: NodeId) -> Operand {
    match o {
        Operand::Grad => Operand::Adj(of),
        o => o,
    }
}

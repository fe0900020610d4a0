//! The rules: everything matgrad knows about each operation, in one place per
//! operation.
//!
//! Each IR operation has one [`Rule`]: its name in the s-expression text, its shape
//! ([`ShapeRule`], one formula read both on the parser's concrete shapes and on the
//! cost model's symbolic ones), its cost, its forward form for both backends (the
//! dynamic one calls a runtime kernel, the static one writes a nalgebra
//! expression), the contributions its adjoint sends back to each argument, and the
//! formula of its value. [`rule`] is the one dispatch from an [`Op`] to its rule: an
//! exhaustive `match` with no default arm, so an operation added to the IR without a
//! rule does not compile, and every method of [`Rule`] without a default must be
//! written for it, so a rule cannot forget its adjoint (no silent zero gradient).
//!
//! The rules live one family per file, each operation's pieces side by side:
//!
//! | file | operations |
//! | --- | --- |
//! | [`leaf`] | parameters, float literals, outside constants, counts as floats |
//! | [`scalar`] | scalar arithmetic and scalar methods |
//! | [`construct`] | `identity`, `zeros`, `from_element` |
//! | [`linear`] | `+ - neg`, scaling, `/ s`, transpose, `add_scalar`, `[(i, j)]`, ones |
//! | [`part`] | parts of a matrix: `diagonal()`, `column(j)`, `row(i)`, `rows(i, n)`, `columns(j, n)` |
//! | [`product`] | `*`, chains, `component_mul`/`component_div`, `kronecker`, `map`, `zip_map` |
//! | [`reduce`] | `sum mean norm_squared norm dot trace`, trace of a product, `row_sum` `column_sum` `row_mean` `column_mean`, `max` `min` |
//! | [`matrix_fn`] | `determinant`, `try_inverse`, factorisations and solves |
//! | [`runtime_fn`] | matgrad's vocabulary: `sigmoid` … `softmax_cross_entropy` |
//! | [`looped`] | `for` loops with a run-time trip count (their passes: `emit::looped`) |
//!
//! An adjoint is described, not emitted: a [`Contrib`] says "the argument's adjoint
//! receives Ḡ Bᵀ" in terms of [`Operand`]s and [`Sym`]s. The backends lower each kind
//! of `Contrib` (first contribution overwrites, later ones accumulate in place); the
//! renderer prints it as math. An adjoint that is none of the shared kinds is a
//! [`Kernel`]: a typed value, defined beside its rule with its runtime name, its
//! static lowering and its formula.
//!
//! Second order: [`Rule::tangent`] is each operation's forward-mode (JVP) rule,
//! written beside its adjoint: the nodes of ẏ built from the tangents of the
//! arguments, out of operations that already exist (see [`crate::tangent`]).

pub mod construct;
pub mod leaf;
pub mod linear;
pub mod looped;
pub mod matrix_fn;
pub mod part;
pub mod product;
pub mod reduce;
pub mod runtime_fn;
pub mod scalar;
pub mod tangent;
#[cfg(test)]
mod tests;

use crate::cost::{Cost, Poly};
use crate::ir::{Count, Dim, Float, Graph, Kind, Node, NodeId, Op, Shape};
use crate::simplify::Term;
use crate::sym::{absolute, absolute_operand, Operand, Sym};
use proc_macro2::TokenStream;
use std::fmt;

/// Everything about one operation. See the [module docs](self).
pub trait Rule {
    /// The operation's name in the IR's text form (`matmul`, `idx01`), which formulas,
    /// tests and [`crate::ir::Graph::parse`] use.
    fn name(&self) -> String;

    /// The shape of the result, from the shapes of the arguments.
    fn shape(&self) -> ShapeRule;

    /// The multiply-adds (or entry operations) of the forward form, over the
    /// symbolic shapes of [`crate::cost::shapes`].
    fn cost(&self, s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost;

    /// The forward form for the dynamic backend: a runtime kernel writing the
    /// node's buffer, or a scalar expression.
    fn forward(&self, s: Site<'_>, n: &dyn Names) -> Forward;

    /// The forward form for the static backend: a nalgebra expression on stack
    /// values.
    fn forward_static(&self, s: Site<'_>, n: &dyn StaticNames) -> StaticForward;

    /// What the node's adjoint sends back: `(argument position, contribution)`, with
    /// [`Operand::Grad`] and [`Sym::Grad`] standing for the node's own adjoint. An
    /// operation with nothing to send back (a constant) returns an empty list.
    fn adjoint(&self, s: Site<'_>) -> Vec<(usize, Contrib)>;

    /// The node's value as math, from its arguments' values.
    fn definition(&self, s: Site<'_>, f: &dyn Formula) -> Term;

    /// The tangent (forward mode, JVP) of the node: nodes of the tangent graph
    /// computing ẏ from the arguments' tangents ([`Tangents::tangent`], `None` for a
    /// constant argument), built from existing operations with [`Tangents::push`].
    /// `Ok(None)` when ẏ is zero (a constant); [`Unsupported`] when the operation has
    /// no second-order form yet (a spanned compile error naming it, never a zero).
    fn tangent(&self, s: Site<'_>, t: &mut dyn Tangents) -> Result<Option<NodeId>, Unsupported>;

    /// What the forward pass keeps beside the value, in the workspace.
    fn keeps(&self, _s: Site<'_>) -> Keeps {
        Keeps::NOTHING
    }

    /// The value kept in the auxiliary buffer ([`Operand::Aux`]), as math; only
    /// rules whose [`Rule::keeps`] has `aux` are asked.
    fn aux_formula(&self, _s: Site<'_>, _f: &dyn Formula) -> Term {
        Term::sym("aux")
    }
}

/// The rule of `op`: the one dispatch, exhaustive.
pub fn rule(op: &Op) -> Box<dyn Rule + '_> {
    match op {
        Op::Param(i) => Box::new(leaf::Param(*i)),
        Op::Lit(v) => Box::new(leaf::Lit(*v)),
        Op::Const(t) => Box::new(leaf::Const(t)),
        Op::Cast(c) => Box::new(leaf::Cast(c)),
        Op::Scalar(o) => Box::new(scalar::Scalar(*o)),
        Op::User(u) => Box::new(scalar::User(u)),
        Op::UserCall(u) => Box::new(looped::UserCall(u)),
        Op::Add => Box::new(linear::Add),
        Op::Sub => Box::new(linear::Sub),
        Op::Neg => Box::new(linear::Neg),
        Op::Scale => Box::new(linear::Scale),
        Op::DivScalar => Box::new(linear::DivScalar),
        Op::Transpose => Box::new(linear::Transpose),
        Op::AddScalar => Box::new(linear::AddScalar),
        Op::Index(i, j) => Box::new(linear::Index(i, j)),
        Op::Ones { of, row } => Box::new(linear::Ones(*of, *row)),
        Op::Identity(r, c) => Box::new(construct::Identity(r, c)),
        Op::Fill(r, c) => Box::new(construct::Fill(r, c)),
        Op::FromDiagonal => Box::new(construct::FromDiagonal),
        Op::FromScalars(r, c) => Box::new(construct::FromScalars(*r, *c)),
        Op::Diagonal => Box::new(part::Diagonal),
        Op::Triangle { lower } => Box::new(part::Triangle(*lower)),
        Op::Column(j) => Box::new(part::Column(j)),
        Op::Row(i) => Box::new(part::Row(i)),
        Op::Rows(i, n) => Box::new(part::Lines {
            start: i,
            len: n,
            rows: true,
        }),
        Op::Columns(j, n) => Box::new(part::Lines {
            start: j,
            len: n,
            rows: false,
        }),
        Op::View(c) => Box::new(part::View(c)),
        Op::MatMul => Box::new(product::MatMul),
        Op::Chain => Box::new(product::Chain),
        Op::ComponentMul => Box::new(product::ComponentMul),
        Op::ComponentDiv => Box::new(product::ComponentDiv),
        Op::Kronecker => Box::new(product::Kronecker),
        Op::Map(c) => Box::new(product::Map(c)),
        Op::ZipMap(c) => Box::new(product::ZipMap(c)),
        Op::Sum => Box::new(reduce::Sum),
        Op::Mean => Box::new(reduce::Mean),
        Op::NormSquared => Box::new(reduce::NormSquared),
        Op::Norm => Box::new(reduce::Norm),
        Op::Dot => Box::new(reduce::Dot),
        Op::Trace => Box::new(reduce::Trace),
        Op::RowSum { mean } => Box::new(reduce::LineSum {
            rows: true,
            mean: *mean,
        }),
        Op::ColumnSum { mean } => Box::new(reduce::LineSum {
            rows: false,
            mean: *mean,
        }),
        Op::Extreme { max } => Box::new(reduce::Extreme(*max)),
        Op::TraceMul => Box::new(reduce::TraceMul),
        Op::Determinant => Box::new(matrix_fn::Determinant),
        Op::Inverse(m) => Box::new(matrix_fn::Inverse(matrix_fn::Kind::Nalgebra(m.as_deref()))),
        Op::FactorInverse => Box::new(matrix_fn::Inverse(matrix_fn::Kind::Factored)),
        Op::Factor(m) => Box::new(matrix_fn::Factor(m.as_deref())),
        Op::Solve => Box::new(matrix_fn::Solve),
        Op::SolveRight => Box::new(matrix_fn::SolveRight),
        Op::Sigmoid => Box::new(runtime_fn::Sigmoid),
        Op::Relu => Box::new(runtime_fn::Relu),
        Op::Softplus => Box::new(runtime_fn::Softplus),
        Op::AddRow => Box::new(runtime_fn::AddRow),
        Op::AddCol => Box::new(runtime_fn::AddCol),
        Op::LnDet => Box::new(runtime_fn::LnDet),
        Op::LogSumExp => Box::new(runtime_fn::LogSumExp),
        Op::SoftmaxCrossEntropy => Box::new(runtime_fn::SoftmaxCrossEntropy),
        Op::Expr(c) => Box::new(scalar::Expr(c)),
        Op::Loop(l) => Box::new(looped::RunTimeLoop(l)),
        Op::LoopOut(j) => Box::new(looped::LoopOut(*j)),
    }
}

/// Why an operation has no tangent: shown as a compile error at the operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported(pub String);

/// The tangent graph under construction, as [`Rule::tangent`] sees it. Ids given and
/// returned are the tangent graph's; [`Site`] ids are the original graph's.
pub trait Tangents {
    /// The tangent graph's node holding the value of the original node `id`.
    fn value(&self, id: NodeId) -> NodeId;
    /// The tangent of the original node `id`; `None` when it is constant.
    fn tangent(&self, id: NodeId) -> Option<NodeId>;
    /// The direction of parameter `i`: `Some` for a `wrt` variable.
    fn direction(&self, i: usize) -> Option<NodeId>;
    /// Adds `op(args)` (tangent-graph ids) and returns its id; its kind comes from the
    /// operation's [`ShapeRule`] (the current node's kind for [`ShapeRule::Declared`]).
    fn push(&mut self, op: Op, args: Vec<NodeId>) -> NodeId;
    /// The kind of a tangent-graph node.
    fn kind(&self, id: NodeId) -> Kind;
    /// Declares `item` before the tangent graph's forward pass (the step function of
    /// a run-time loop's tangent).
    fn item(&mut self, item: proc_macro2::TokenStream);
}

/// One node of a graph, as a rule sees it.
#[derive(Clone, Copy)]
pub struct Site<'a> {
    /// The graph.
    pub g: &'a Graph,
    /// The node.
    pub id: NodeId,
}

impl<'a> Site<'a> {
    /// Node `id` of `g`.
    pub fn new(g: &'a Graph, id: NodeId) -> Site<'a> {
        Site { g, id }
    }

    /// The node.
    pub fn node(&self) -> &'a Node {
        self.g.node(self.id)
    }

    /// The id of argument `k` (the node itself when there is no such argument, which
    /// a graph built by the parser never asks for).
    pub fn arg_id(&self, k: usize) -> NodeId {
        self.node().args.get(k).copied().unwrap_or(self.id)
    }

    /// The value of argument `k`, as a matrix operand.
    pub fn arg(&self, k: usize) -> Operand {
        Operand::Value(self.arg_id(k))
    }

    /// The value of argument `k`, as a scalar.
    pub fn sarg(&self, k: usize) -> Sym {
        Sym::Val(self.arg_id(k))
    }
}

/// What the forward pass keeps for a node beside its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keeps {
    /// An auxiliary buffer and a scratch buffer ([`Operand::Aux`]).
    pub aux: bool,
    /// Buffers for the products inside the node (and as many for their adjoints).
    pub temps: usize,
}

impl Keeps {
    /// Nothing beside the value.
    pub const NOTHING: Keeps = Keeps {
        aux: false,
        temps: 0,
    };
    /// An auxiliary and a scratch buffer.
    pub const AUX: Keeps = Keeps {
        aux: true,
        temps: 0,
    };
}

/// Whether node `id` keeps an auxiliary buffer (and a scratch buffer) in the workspace.
pub fn needs_aux(g: &Graph, id: NodeId) -> bool {
    rule(&g.node(id).op).keeps(Site::new(g, id)).aux
}

/// How many buffers node `id` keeps for the products inside it (and as many for
/// their adjoints): `n − 2` for a chain of `n` factors.
pub fn chain_temps(g: &Graph, id: NodeId) -> usize {
    rule(&g.node(id).op).keeps(Site::new(g, id)).temps
}

/// The contributions node `id` sends to its arguments: `(argument position, contribution)`.
/// [`Operand::Grad`] and [`Sym::Grad`] stand for node `id`'s own adjoint.
pub fn adjoint(g: &Graph, id: NodeId) -> Vec<(usize, Contrib)> {
    rule(&g.node(id).op).adjoint(Site::new(g, id))
}

/// The forward form of node `id` for the dynamic backend.
pub fn forward(g: &Graph, id: NodeId, n: &dyn Names) -> Forward {
    rule(&g.node(id).op).forward(Site::new(g, id), n)
}

// ---------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------

/// The shape of an operation's result, as a formula in its arguments' shapes. Read
/// on concrete [`Dim`]s by the parser and on symbolic [`Poly`]s by the cost model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShapeRule {
    /// A scalar.
    Scalar,
    /// A parameter: the shape its type gives.
    Declared,
    /// The shape of argument `k`.
    Like(usize),
    /// The shape of an entrywise operation of arguments `a` and `b`: a dimension
    /// either fixes is fixed in the result (nalgebra's rule); symbolically, `a`'s.
    Entrywise(usize, usize),
    /// The shape of argument `k`, transposed.
    Transposed(usize),
    /// The rows of argument `a` by the columns of argument `b`.
    Product(usize, usize),
    /// The rows of the first argument by the columns of the last.
    Chain,
    /// The sizes of arguments `a` and `b` multiplied.
    Kronecker(usize, usize),
    /// Argument `k`'s shape when its type fixes it, else a `DMatrix` (`add_row`).
    Broadcast(usize),
    /// `1 × rows(of)` when `row`, else `cols(of) × 1`: a vector of ones.
    Ones {
        /// The node whose size it takes.
        of: NodeId,
        /// A row, else a column.
        row: bool,
    },
    /// `rows(k) × 1`: a column of argument `k`, or the diagonal of a square one.
    Column(usize),
    /// `1 × cols(k)`: a row of argument `k`.
    Row(usize),
    /// A block of argument `of`: `rows` of its rows by `cols` of its columns
    /// (`a.rows(i, n)` is `Block { of: 0, rows: Extent::Lit(n), cols: Extent::All }`).
    Block {
        /// The argument the block is taken from.
        of: usize,
        /// How many of its rows.
        rows: Extent,
        /// How many of its columns.
        cols: Extent,
    },
}

/// How much of one dimension a [`ShapeRule::Block`] takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extent {
    /// All of it.
    All,
    /// `n`, an integer literal: static when the dimension is (nalgebra's fixed views,
    /// `a.fixed_rows::<n>(i)`), dynamic when it is dynamic (`a.rows(i, n)`).
    Lit(usize),
    /// A count known at run time: a dynamic dimension, unknown symbolically.
    Expr,
}

impl Extent {
    /// The extent a count gives.
    pub fn of(n: &Count) -> Extent {
        match n {
            Count::Lit(n) => Extent::Lit(*n),
            Count::Expr(_) => Extent::Expr,
        }
    }

    /// The part of dimension `d` it takes; `None` when it cannot be written.
    fn of_dim<D: Dimension>(self, d: D) -> Option<D> {
        match self {
            Extent::All => Some(d),
            Extent::Lit(n) => Some(d.part(n)),
            Extent::Expr => D::dynamic(),
        }
    }
}

/// A dimension a [`ShapeRule`] can be read on.
pub trait Dimension: Clone {
    /// The dimension 1.
    fn one() -> Self;
    /// The dimension of a product of sizes (a Kronecker product's).
    fn times(&self, other: &Self) -> Self;
    /// The dimension of an entrywise result of two operands.
    fn entrywise(&self, other: &Self) -> Self;
    /// `Some(true)` when known static, `Some(false)` when known dynamic.
    fn is_static(&self) -> Option<bool>;
    /// A dynamic dimension, for a broadcast result.
    fn dynamic() -> Option<Self>;
    /// The dimension of `n` entries taken from this one (a block's): static when this
    /// one is.
    fn part(&self, n: usize) -> Self;
}

impl Dimension for Dim {
    fn one() -> Dim {
        Dim::One
    }
    fn times(&self, other: &Dim) -> Dim {
        match (self.size(), other.size()) {
            (Some(m), Some(n)) => Dim::fixed(m * n),
            _ => Dim::Dyn,
        }
    }
    fn entrywise(&self, other: &Dim) -> Dim {
        match (*self, *other) {
            (Dim::One, _) | (_, Dim::One) => Dim::One,
            (Dim::Fixed(n), _) | (_, Dim::Fixed(n)) => Dim::Fixed(n),
            _ => Dim::Dyn,
        }
    }
    fn is_static(&self) -> Option<bool> {
        Some(*self != Dim::Dyn)
    }
    fn dynamic() -> Option<Dim> {
        Some(Dim::Dyn)
    }
    fn part(&self, n: usize) -> Dim {
        match self {
            Dim::Dyn => Dim::Dyn,
            _ => Dim::fixed(n),
        }
    }
}

impl Dimension for Poly {
    fn one() -> Poly {
        Poly::num(1)
    }
    fn times(&self, other: &Poly) -> Poly {
        self.mul(other)
    }
    fn entrywise(&self, _other: &Poly) -> Poly {
        self.clone()
    }
    fn is_static(&self) -> Option<bool> {
        None
    }
    fn dynamic() -> Option<Poly> {
        None
    }
    fn part(&self, n: usize) -> Poly {
        Poly::num(n as u64)
    }
}

impl ShapeRule {
    /// The shape of the result, given the shape of each node (`None` for a scalar or
    /// an unknown one), read at the node's arguments `args`. `None` for a scalar
    /// result, a parameter, or a dimension that cannot be written.
    pub fn eval<D: Dimension>(
        self,
        args: &[NodeId],
        shape_of: impl Fn(NodeId) -> Option<(D, D)>,
    ) -> Option<(D, D)> {
        let arg = |k: usize| args.get(k).and_then(|&a| shape_of(a));
        match self {
            ShapeRule::Scalar | ShapeRule::Declared => None,
            ShapeRule::Like(k) => arg(k),
            ShapeRule::Broadcast(k) => match arg(k) {
                s if keeps_shape(&s) => s,
                _ => D::dynamic().map(|d| (d.clone(), d)),
            },
            ShapeRule::Entrywise(a, b) => match (arg(a), arg(b)) {
                (Some(x), Some(y)) => Some((x.0.entrywise(&y.0), x.1.entrywise(&y.1))),
                (x, y) => x.or(y),
            },
            ShapeRule::Transposed(k) => arg(k).map(|(r, c)| (c, r)),
            ShapeRule::Product(a, b) => arg(a).zip(arg(b)).map(|(a, b)| (a.0, b.1)),
            ShapeRule::Chain => arg(0)
                .zip(args.last().and_then(|&l| shape_of(l)))
                .map(|(a, c)| (a.0, c.1)),
            ShapeRule::Kronecker(a, b) => arg(a)
                .zip(arg(b))
                .map(|(a, b)| (a.0.times(&b.0), a.1.times(&b.1))),
            ShapeRule::Ones { of, row: true } => shape_of(of).map(|(r, _)| (D::one(), r)),
            ShapeRule::Ones { of, row: false } => shape_of(of).map(|(_, c)| (c, D::one())),
            ShapeRule::Column(k) => arg(k).map(|(r, _)| (r, D::one())),
            ShapeRule::Row(k) => arg(k).map(|(_, c)| (D::one(), c)),
            ShapeRule::Block { of, rows, cols } => {
                let (r, c) = arg(of)?;
                Some((rows.of_dim(r)?, cols.of_dim(c)?))
            }
        }
    }

    /// The kind of the result when the arguments have kinds `kind_of(arg)`
    /// (`declared` for a parameter).
    pub fn kind(self, args: &[NodeId], kind_of: impl Fn(NodeId) -> Kind, declared: Kind) -> Kind {
        match self {
            ShapeRule::Scalar => Kind::Scalar,
            ShapeRule::Declared => declared,
            _ => {
                let shape = |id: NodeId| match kind_of(id) {
                    Kind::Matrix(s) => Some((s.rows, s.cols)),
                    Kind::Scalar => None,
                };
                match self.eval(args, shape) {
                    Some((rows, cols)) => Kind::Matrix(Shape { rows, cols }),
                    None => Kind::Matrix(Shape::MATRIX),
                }
            }
        }
    }
}

/// Whether a broadcast keeps this shape: a static one (a `Matrix3`) is kept; a
/// dynamic one becomes a `DMatrix`. Symbolic shapes are always kept.
fn keeps_shape<D: Dimension>(s: &Option<(D, D)>) -> bool {
    match s {
        Some((r, c)) => r.is_static() != Some(false) && c.is_static() != Some(false),
        None => true,
    }
}

// ---------------------------------------------------------------------------
// Adjoints
// ---------------------------------------------------------------------------

/// What one use of a value sends back to that value's adjoint.
#[derive(Clone, Debug, PartialEq)]
pub enum Contrib {
    /// `alpha · op(a)`, with `op(a) = aᵀ` when `ta`.
    Axpy {
        /// Scalar factor.
        alpha: Sym,
        /// The matrix.
        a: Operand,
        /// Transposed?
        ta: bool,
    },
    /// `alpha · op(a) · op(b)`.
    Gemm {
        /// Scalar factor.
        alpha: Sym,
        /// Left factor.
        a: Operand,
        /// Left transposed?
        ta: bool,
        /// Right factor.
        b: Operand,
        /// Right transposed?
        tb: bool,
    },
    /// `alpha · a ⊙ b`.
    Hadamard {
        /// Scalar factor.
        alpha: Sym,
        /// Left.
        a: Operand,
        /// Right.
        b: Operand,
    },
    /// `alpha · op(f₀) op(f₁) ⋯`, `op` transposing the flagged factors, in the
    /// association with the fewest multiply-adds for the shapes at run time; an
    /// unstored product adjoint among the factors is read as its own two factors (so
    /// `−X⁻ᵀ (v wᵀ) X⁻ᵀ` is `−(X⁻ᵀ v)(wᵀ X⁻ᵀ)`, no matrix product).
    Chain {
        /// Scalar factor.
        alpha: Sym,
        /// The factors and whether each is transposed.
        factors: Vec<(Operand, bool)>,
    },
    /// `alpha · ā_f`, the adjoint of factor `f` of the chain whose adjoint is `g`: by
    /// reverse mode through the chain's association, its parent's adjoint times its
    /// sibling's value, transposed (`(a₀ ⋯ a_{f−1})ᵀ ḡ (a_{f+1} ⋯ a_{n−1})ᵀ` in all).
    ChainFactor {
        /// Scalar factor.
        alpha: Sym,
        /// The chain's adjoint.
        g: Operand,
        /// Which factor.
        factor: usize,
    },
    /// `s · 1`, shaped like the target.
    Fill(Sym),
    /// `s · I`, shaped like the (square) target.
    Diag(Sym),
    /// `s · e_i e_jᵀ`, shaped like the target (`i`, `j` counts).
    Index(Sym, Count, Count),
    /// Entrywise `f(args_0[i, j], args_1[i, j], …)`, `f` written in [`Sym::Arg`]s.
    ZipMap(Vec<Operand>, Sym),
    /// An adjoint kernel of one operation (see [`Kernel`]).
    Kernel(KernelRef, Vec<KArg>),
    /// A scalar: the target is a scalar node.
    Scalar(Sym),
}

impl Contrib {
    /// The contribution with [`Operand::Grad`]/[`Sym::Grad`] resolved to node `of`'s adjoint.
    pub fn absolute(&self, of: NodeId) -> Contrib {
        let s = |x: &Sym| absolute(x, of);
        let o = |x: &Operand| absolute_operand(*x, of);
        match self {
            Contrib::Axpy { alpha, a, ta } => Contrib::Axpy {
                alpha: s(alpha),
                a: o(a),
                ta: *ta,
            },
            Contrib::Gemm {
                alpha,
                a,
                ta,
                b,
                tb,
            } => Contrib::Gemm {
                alpha: s(alpha),
                a: o(a),
                ta: *ta,
                b: o(b),
                tb: *tb,
            },
            Contrib::Chain { alpha, factors } => Contrib::Chain {
                alpha: s(alpha),
                factors: factors.iter().map(|(f, t)| (o(f), *t)).collect(),
            },
            Contrib::ChainFactor { alpha, g, factor } => Contrib::ChainFactor {
                alpha: s(alpha),
                g: o(g),
                factor: *factor,
            },
            Contrib::Hadamard { alpha, a, b } => Contrib::Hadamard {
                alpha: s(alpha),
                a: o(a),
                b: o(b),
            },
            Contrib::Fill(x) => Contrib::Fill(s(x)),
            Contrib::Diag(x) => Contrib::Diag(s(x)),
            Contrib::Index(x, i, j) => Contrib::Index(s(x), i.clone(), j.clone()),
            Contrib::ZipMap(ops, f) => Contrib::ZipMap(ops.iter().map(o).collect(), s(f)),
            Contrib::Kernel(k, args) => Contrib::Kernel(
                *k,
                args.iter()
                    .map(|a| match a {
                        KArg::Scal(x) => KArg::Scal(s(x)),
                        KArg::Mat(m) => KArg::Mat(o(m)),
                        KArg::Count(c) => KArg::Count(c.clone()),
                        KArg::Scratch => KArg::Scratch,
                    })
                    .collect(),
            ),
            Contrib::Scalar(x) => Contrib::Scalar(s(x)),
        }
    }

    /// The contribution as one elementwise expression over its operands, when it is
    /// one (so the emitter can fuse it with others into a single pass).
    pub fn elementwise(&self) -> Option<(Vec<Operand>, Sym)> {
        Some(match self {
            Contrib::Axpy {
                alpha,
                a,
                ta: false,
            } => (vec![*a], Sym::mul(alpha.clone(), Sym::Arg(0))),
            Contrib::Hadamard { alpha, a, b } => (
                vec![*a, *b],
                Sym::mul(alpha.clone(), Sym::mul(Sym::Arg(0), Sym::Arg(1))),
            ),
            Contrib::ZipMap(ops, f) => (ops.clone(), f.clone()),
            Contrib::Fill(x) => (Vec::new(), x.clone()),
            _ => return None,
        })
    }
}

/// An argument of an adjoint kernel.
#[derive(Clone, Debug, PartialEq)]
pub enum KArg {
    /// A scalar.
    Scal(Sym),
    /// A matrix.
    Mat(Operand),
    /// A count (a column index).
    Count(Count),
    /// A scratch buffer from the workspace.
    Scratch,
}

/// An adjoint that is one operation's own (the Kronecker product's block sums, a
/// solve with kept factors), defined beside that operation's rule: the runtime
/// kernel the dynamic backend calls, the static backend's nalgebra expression, and
/// the formula shown to users, together.
pub trait Kernel: Sync {
    /// The runtime kernel, `::matgrad::__private::NAME(out, acc, args…)`.
    fn runtime(&self) -> &'static str;

    /// The same contribution as an expression of the target's static type, from the
    /// kernel's arguments (scratch buffers are not passed).
    fn lower_static(&self, args: &[StaticArg], target: Shape, n: &dyn StaticNames) -> TokenStream;

    /// The contribution as math, from the kernel's arguments (without scratch buffers).
    fn formula(&self, args: &[Term]) -> Term;
}

/// A [`Kernel`] by reference: compared and printed by its runtime name.
#[derive(Clone, Copy)]
pub struct KernelRef(pub &'static dyn Kernel);

impl PartialEq for KernelRef {
    fn eq(&self, other: &KernelRef) -> bool {
        self.0.runtime() == other.0.runtime()
    }
}

impl fmt::Debug for KernelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.runtime())
    }
}

impl std::ops::Deref for KernelRef {
    type Target = dyn Kernel;
    fn deref(&self) -> &(dyn Kernel + 'static) {
        self.0
    }
}

/// A kernel argument as the static backend passes it to [`Kernel::lower_static`].
pub enum StaticArg {
    /// A matrix value and its static shape.
    Mat(TokenStream, Shape),
    /// A scalar expression (binding strength of a unary operand).
    Scal(TokenStream),
    /// A count.
    Count(TokenStream),
}

impl StaticArg {
    /// The matrix at position `k` of `args` (empty tokens and a 1×1 shape when there
    /// is none, which a rule never asks for).
    pub fn mat(args: &[StaticArg], k: usize) -> (TokenStream, Shape) {
        match args.get(k) {
            Some(StaticArg::Mat(t, s)) => (t.clone(), *s),
            _ => (
                TokenStream::new(),
                Shape {
                    rows: Dim::One,
                    cols: Dim::One,
                },
            ),
        }
    }

    /// The scalar at position `k` of `args`.
    pub fn scal(args: &[StaticArg], k: usize) -> TokenStream {
        match args.get(k) {
            Some(StaticArg::Scal(t)) => t.clone(),
            _ => TokenStream::new(),
        }
    }

    /// The count at position `k` of `args`.
    pub fn count(args: &[StaticArg], k: usize) -> TokenStream {
        match args.get(k) {
            Some(StaticArg::Count(t)) => t.clone(),
            _ => TokenStream::new(),
        }
    }
}

// ---------------------------------------------------------------------------
// Backends and the formula renderer, as rules see them
// ---------------------------------------------------------------------------

/// How a node's value is computed by the dynamic backend.
pub enum Forward {
    /// A statement writing a matrix into the output buffer named by [`Names::out`].
    Matrix(TokenStream),
    /// An expression giving a scalar.
    Scalar(TokenStream),
    /// Nothing to compute (a parameter).
    Nothing,
}

/// How a node's value is computed by the static backend.
pub enum StaticForward {
    /// An expression: the backend binds it, `let v = expr;`.
    Expr(TokenStream),
    /// Statements binding the value (and anything kept beside it) themselves.
    Stmts(TokenStream),
}

/// The names dynamic forward rules write with; implemented by the dynamic backend.
pub trait Names {
    /// The path of the runtime kernels: `::matgrad::__private`.
    fn rt(&self) -> TokenStream;
    /// The buffer a matrix node writes into.
    fn out(&self) -> TokenStream;
    /// A `DMatrixView` of a matrix node's value.
    fn view(&self, id: NodeId) -> TokenStream;
    /// The buffer of a matrix node of the body (not a parameter), to write into.
    fn buffer(&self, id: NodeId) -> TokenStream;
    /// A scalar node's value.
    fn scalar(&self, id: NodeId) -> TokenStream;
    /// A scalar expression.
    fn sym(&self, s: &Sym) -> TokenStream;
    /// The node's source text as a string literal, for panic messages.
    fn text(&self, id: NodeId) -> TokenStream;
    /// The auxiliary buffer and the scratch buffer of a node that keeps them
    /// (see [`Keeps`]).
    fn aux(&self, id: NodeId) -> (TokenStream, TokenStream);
    /// The buffers of a chain's kept products (see [`Keeps`]), as `&mut [&mut t₀, …]`.
    fn temps(&self, id: NodeId) -> TokenStream;
    /// Whether node `id` is differentiated (some `wrt` variable flows through it).
    fn differentiated(&self, id: NodeId) -> bool;
}

/// The names static forward rules write with; implemented by the static backend.
pub trait StaticNames {
    /// The value of node `id` (a stack value of its static type, or a scalar).
    fn value(&self, id: NodeId) -> TokenStream;
    /// Parameter `i`, by value.
    fn param(&self, i: usize) -> TokenStream;
    /// A scalar expression, at binding strength `prec` (see `emit::scalar::sym`).
    fn sym(&self, s: &Sym, prec: u8) -> TokenStream;
    /// `SMatrix::<T, R, C>` of a static shape.
    fn ty(&self, shape: Shape) -> TokenStream;
    /// The static shape of node `id` (1×1 for a scalar).
    fn shape(&self, id: NodeId) -> Shape;
    /// The float type.
    fn float(&self) -> Float;
    /// The auxiliary value a node keeps (see [`Keeps`]).
    fn aux(&self, id: NodeId) -> TokenStream;
    /// Whether node `id` is differentiated.
    fn differentiated(&self, id: NodeId) -> bool;
}

/// What definitions need from the formula renderer.
pub trait Formula {
    /// The value of node `id` as math: its name, or its definition.
    fn value(&self, id: NodeId) -> Term;
    /// A scalar expression as math; `args` give the matrices of [`Sym::Arg`]s, whose
    /// products are then entrywise.
    fn sym(&self, s: &Sym, args: &[Term]) -> Term;
    /// Whether node `id` is a 1×1 matrix.
    fn is_one_by_one(&self, id: NodeId) -> bool;
}

/// `head(args…)`.
pub fn app(head: &str, args: Vec<Term>) -> Term {
    Term::app(head, args)
}

/// `head(value of argument 0, …, value of argument n − 1)`.
pub fn apply(s: Site<'_>, f: &dyn Formula, head: &str, n: usize) -> Term {
    app(head, (0..n).map(|k| f.value(s.arg_id(k))).collect())
}

/// The value of argument `k` as math.
pub fn value(s: Site<'_>, f: &dyn Formula, k: usize) -> Term {
    f.value(s.arg_id(k))
}

/// `ā += alpha Ḡ` (transposed when `ta`): the adjoint of a linear map that copies.
pub fn copy(alpha: Sym, ta: bool) -> Contrib {
    Contrib::Axpy {
        alpha,
        a: Operand::Grad,
        ta,
    }
}

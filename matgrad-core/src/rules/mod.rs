//! The rules: for each operation, how its value is computed and what it sends back
//! to each argument in the reverse sweep. One file per family, and in each file an
//! operation's forward form and its adjoint sit side by side.
//!
//! An adjoint is described, not emitted: a [`Contrib`] says "the argument's adjoint
//! receives Ḡ Bᵀ" in terms of [`Operand`]s and [`Sym`]s. The emitter lowers a
//! `Contrib` to a kernel call (first contribution overwrites, later ones
//! accumulate in place); the renderer prints it as math.

mod linear;
mod matrix_fn;
mod product;
mod reduce;
mod runtime_fn;
mod scalar;

use crate::ir::{Graph, NodeId};
use crate::sym::{absolute, absolute_operand, Operand, Sym};
use proc_macro2::TokenStream;

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
    /// `s · e_i e_jᵀ`, shaped like the target.
    Index(Sym, usize, usize),
    /// Entrywise `f(args_0[i, j], args_1[i, j], …)`, `f` written in [`Sym::Arg`]s.
    ZipMap(Vec<Operand>, Sym),
    /// A runtime adjoint kernel `name(out, acc, args…)`.
    Kernel(&'static str, Vec<KArg>),
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
            Contrib::Index(x, i, j) => Contrib::Index(s(x), *i, *j),
            Contrib::ZipMap(ops, f) => Contrib::ZipMap(ops.iter().map(o).collect(), s(f)),
            Contrib::Kernel(name, args) => Contrib::Kernel(
                name,
                args.iter()
                    .map(|a| match a {
                        KArg::Scal(x) => KArg::Scal(s(x)),
                        KArg::Mat(m) => KArg::Mat(o(m)),
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

/// An argument of a runtime adjoint kernel.
#[derive(Clone, Debug, PartialEq)]
pub enum KArg {
    /// A scalar.
    Scal(Sym),
    /// A matrix.
    Mat(Operand),
    /// A scratch buffer from the workspace.
    Scratch,
}

/// How a node's value is computed.
pub enum Forward {
    /// A statement writing a matrix into the output buffer named by [`Names::out`].
    Matrix(TokenStream),
    /// An expression giving a scalar.
    Scalar(TokenStream),
    /// Nothing to compute (a parameter).
    Nothing,
}

/// The names forward rules write with; implemented by the emitter.
pub trait Names {
    /// The path of the runtime kernels: `::matgrad::__private`.
    fn rt(&self) -> TokenStream;
    /// The buffer a matrix node writes into.
    fn out(&self) -> TokenStream;
    /// A `DMatrixView` of a matrix node's value.
    fn view(&self, id: NodeId) -> TokenStream;
    /// A scalar node's value.
    fn scalar(&self, id: NodeId) -> TokenStream;
    /// A scalar expression.
    fn sym(&self, s: &Sym) -> TokenStream;
    /// The node's source text as a string literal, for panic messages.
    fn text(&self, id: NodeId) -> TokenStream;
    /// The auxiliary buffer and the scratch buffer of a node that keeps them
    /// (see [`needs_aux`]).
    fn aux(&self, id: NodeId) -> (TokenStream, TokenStream);
    /// The buffers of a chain's kept products (see [`chain_temps`]), as
    /// `&mut [&mut t₀, …]`.
    fn temps(&self, id: NodeId) -> TokenStream;
    /// Whether node `id` is differentiated (some `wrt` variable flows through it).
    fn differentiated(&self, id: NodeId) -> bool;
}

/// The forward form of node `id`.
pub fn forward(g: &Graph, id: NodeId, n: &dyn Names) -> Forward {
    linear::forward(g, id, n)
        .or_else(|| product::forward(g, id, n))
        .or_else(|| reduce::forward(g, id, n))
        .or_else(|| matrix_fn::forward(g, id, n))
        .or_else(|| runtime_fn::forward(g, id, n))
        .or_else(|| scalar::forward(g, id, n))
        .unwrap_or(Forward::Nothing)
}

/// The contributions node `id` sends to its arguments: `(argument position, contribution)`.
/// [`Operand::Grad`] and [`Sym::Grad`] stand for node `id`'s own adjoint.
pub fn adjoint(g: &Graph, id: NodeId) -> Vec<(usize, Contrib)> {
    linear::adjoint(g, id)
        .or_else(|| product::adjoint(g, id))
        .or_else(|| reduce::adjoint(g, id))
        .or_else(|| matrix_fn::adjoint(g, id))
        .or_else(|| runtime_fn::adjoint(g, id))
        .or_else(|| scalar::adjoint(g, id))
        .unwrap_or_default()
}

/// Whether node `id` keeps an auxiliary buffer (and a scratch buffer) in the workspace.
pub fn needs_aux(g: &Graph, id: NodeId) -> bool {
    matches!(
        g.node(id).op,
        crate::ir::Op::LnDet | crate::ir::Op::SoftmaxCrossEntropy
            // the pivots of a factorisation; a right solve's transposed right-hand side
            | crate::ir::Op::Lu(_) | crate::ir::Op::SolveRight
    )
}

/// How many buffers node `id` keeps for the products inside it (and as many for
/// their adjoints): `n − 2` for a chain of `n` factors, whose tree has `n − 1`
/// products and writes the last into the node's value.
pub fn chain_temps(g: &Graph, id: NodeId) -> usize {
    match g.node(id).op {
        crate::ir::Op::Chain => g.node(id).args.len().saturating_sub(2),
        _ => 0,
    }
}

/// `Operand::Value(g.args[k])`.
fn arg(g: &Graph, id: NodeId, k: usize) -> Operand {
    Operand::Value(g.node(id).args[k])
}

/// `Sym::Val(g.args[k])`.
fn sarg(g: &Graph, id: NodeId, k: usize) -> Sym {
    Sym::Val(g.node(id).args[k])
}

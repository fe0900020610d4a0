//! Fusion of elementwise adjoints.
//!
//! A matrix adjoint whose only contribution is elementwise (`Ḡ ⊙ g′(a)`,
//! `2 s̄ a`, `−Ḡ`) need not be stored when what reads it can take the expression
//! instead: a single elementwise reader inlines it, and a *scaled alias*
//! (`s · m`, one operand) can be read by any number of elementwise readers and by
//! products, which fold `s` into their `alpha`. A stored adjoint is then computed
//! in one pass by one n-ary kernel (`zip_n_to`) over the sum of its elementwise
//! contributions, followed by its products accumulated in place. So
//! `‖tanh(X W) − Y‖²` gets `∂f/∂(XW) = 2 (a − y) ⊙ (1 − a²)` in one pass and no
//! temporary for `∂f/∂a`.
//!
//! Two more unstored forms are read only by products and axpys: a *transposed alias*
//! `s · mᵀ` (the adjoint `Ḡ Bᵀ` of a product whose own adjoint is `s̄ I`) flips the
//! reader's transpose flag, and a *scaled identity* `s · I` (the adjoint of a trace)
//! turns a product with it into an axpy and an axpy of it into a diagonal. So
//! `tr(A X B)` sends `∂f/∂X = s̄ Aᵀ Bᵀ` with one product, where storing each adjoint
//! would build `s̄ I` and multiply by it twice.

use crate::diff::Adjoints;
use crate::ir::{Graph, NodeId, Op};
use crate::rules::{Contrib, KArg};
use crate::sym::{Operand, Sym};

/// An elementwise expression `f` over `ops`, written in [`Sym::Arg`]s.
#[derive(Clone, Debug, PartialEq)]
pub struct Fused {
    /// The matrices read, each once.
    pub ops: Vec<Operand>,
    /// The entry of the result, in `Arg(k)` = entry of `ops[k]`.
    pub f: Sym,
}

fn remap(f: &Sym, map: &[Sym]) -> Sym {
    f.map_leaves(&|x| match x {
        Sym::Arg(k) => map.get(*k).cloned(),
        _ => None,
    })
}

fn push_unique(ops: &mut Vec<Operand>, o: Operand) -> usize {
    if let Some(k) = ops.iter().position(|x| *x == o) {
        return k;
    }
    ops.push(o);
    ops.len() - 1
}

impl Fused {
    /// Inlines the operands that are unstored elementwise adjoints.
    pub fn expand(&self, lazy: &[Option<Lazy>]) -> Fused {
        let mut ops = Vec::new();
        let mut map = Vec::new();
        for o in &self.ops {
            let unstored = match o {
                Operand::Adj(t) => match lazy.get(*t) {
                    Some(Some(Lazy::Expr(inner))) => Some(inner),
                    _ => None,
                },
                _ => None,
            };
            match unstored {
                Some(inner) => {
                    let inner_map: Vec<Sym> = inner
                        .ops
                        .iter()
                        .map(|io| Sym::Arg(push_unique(&mut ops, *io)))
                        .collect();
                    map.push(remap(&inner.f, &inner_map));
                }
                None => map.push(Sym::Arg(push_unique(&mut ops, *o))),
            }
        }
        Fused {
            ops,
            f: remap(&self.f, &map).simplified(),
        }
    }

    /// `self + other`, sharing operands.
    pub fn plus(self, other: Fused) -> Fused {
        let mut ops = self.ops;
        let map: Vec<Sym> = other
            .ops
            .iter()
            .map(|o| Sym::Arg(push_unique(&mut ops, *o)))
            .collect();
        Fused {
            ops,
            f: Sym::add(self.f, remap(&other.f, &map)),
        }
    }

    /// `Some((s, m))` when the expression is `s · m` for one operand `m` (`m`, `−m`,
    /// `s m`, `m s`, `m / s`, nested: `−(2 s̄ m)`).
    pub fn scaled_alias(&self) -> Option<(Sym, Operand)> {
        let [op] = self.ops.as_slice() else {
            return None;
        };
        fn scale(f: &Sym) -> Option<Sym> {
            let free = |s: &Sym| !s.any(&|x| matches!(x, Sym::Arg(_)));
            match f {
                Sym::Arg(0) => Some(Sym::Lit(1.0)),
                Sym::Neg(a) => scale(a).map(Sym::neg),
                Sym::Mul(s, a) if free(s) => scale(a).map(|k| Sym::mul((**s).clone(), k)),
                Sym::Mul(a, s) if free(s) => scale(a).map(|k| Sym::mul(k, (**s).clone())),
                Sym::Div(a, s) if free(s) => scale(a).map(|k| Sym::div(k, (**s).clone())),
                _ => None,
            }
        }
        Some((scale(&self.f)?.simplified(), *op))
    }
}

/// An adjoint that is not stored: what its readers compute with instead.
#[derive(Clone, Debug, PartialEq)]
pub enum Lazy {
    /// An elementwise expression, inlined into elementwise readers (and, when it is a
    /// scaled alias `s · m`, folded into products).
    Expr(Fused),
    /// `s · mᵀ`: readers take `m` with their transpose flag flipped.
    Transposed(Sym, Operand),
    /// `s · I`: a product with it is an axpy, an axpy of it a diagonal.
    Identity(Sym),
    /// `s · 𝟙𝟙ᵀ` (every entry `s`: the adjoint of a sum or a mean), read only by
    /// products: `(s 𝟙𝟙ᵀ) B = s 𝟙 (𝟙ᵀB)` broadcasts `B`'s column sums, `A (s 𝟙𝟙ᵀ) =
    /// s (A𝟙) 𝟙ᵀ` `A`'s row sums, with no matrix product.
    Fill(Sym),
    /// `alpha · op(f₀) op(f₁) ⋯`, read only by chains, which take its factors as their
    /// own (see [`splice`]): `v (ḡ vᵀ)` inside the inverse's `−Pᵀ Ḡ Pᵀ` makes it
    /// `−(Pᵀ v) ḡ (vᵀ Pᵀ)`.
    Factors {
        /// Scalar factor.
        alpha: Sym,
        /// The factors and whether each is transposed.
        factors: Vec<(Operand, bool)>,
    },
    /// `alpha · op(a) · op(b)`, read by one axpy only: the reader becomes the product
    /// itself, written straight into its target (GEMM's `beta = 1` when it
    /// accumulates), transposed as `(A B)ᵀ = Bᵀ Aᵀ` when the axpy reads it
    /// transposed. So `∂/∂V` of `U Vᵀ` is `Ḡᵀ U`, in `V`'s orientation, not
    /// `(Uᵀ Ḡ)ᵀ` stored and then added transposed.
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
    /// `alpha · op(a) · op(b)`, read only by products: each reads it as a chain of
    /// three factors, and the generated code decides at run time, from the shapes,
    /// whether to store it once or let each chain take its cheaper order (see
    /// [`chain`]).
    Product {
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
}

/// A product `alpha · op(f₀) · op(f₁) · op(f₂)` that reads an unstored product adjoint
/// `p̄` as `f₀ f₁` (`left`) or as `f₁ f₂`.
#[derive(Clone, Debug, PartialEq)]
pub struct Chain {
    /// The product adjoint read.
    pub of: NodeId,
    /// Scalar factor (the reader's times `p̄`'s).
    pub alpha: Sym,
    /// The three factors with their transpose flags.
    pub factors: [(Operand, bool); 3],
    /// Whether `p̄` is the left pair.
    pub left: bool,
}

/// `c` as a [`Chain`] when it is a product with an unstored product adjoint: for
/// `p̄ = s · op(x) op(y)`, `op(p̄) op(b)` is `op(x) op(y) op(b)`, or `op(y)ᵀ op(x)ᵀ op(b)`
/// when `p̄` is read transposed (and likewise on the right).
pub fn chain(c: &Contrib, lazy: &[Option<Lazy>]) -> Option<Chain> {
    let Contrib::Gemm {
        alpha,
        a,
        ta,
        b,
        tb,
    } = c
    else {
        return None;
    };
    let product = |o: &Operand| match o {
        Operand::Adj(t) => match lazy.get(*t) {
            Some(Some(Lazy::Product {
                alpha,
                a,
                ta,
                b,
                tb,
            })) => Some((*t, alpha.clone(), (*a, *ta), (*b, *tb))),
            _ => None,
        },
        _ => None,
    };
    // The pair, in the order it is read: op(p̄) = x y, op(p̄)ᵀ = yᵀ xᵀ.
    let pair = |x: (Operand, bool), y: (Operand, bool), t: bool| {
        if t {
            [(y.0, !y.1), (x.0, !x.1)]
        } else {
            [x, y]
        }
    };
    if let Some((of, s, x, y)) = product(a) {
        let [f0, f1] = pair(x, y, *ta);
        return Some(Chain {
            of,
            alpha: Sym::mul(alpha.clone(), s),
            factors: [f0, f1, (*b, *tb)],
            left: true,
        });
    }
    let (of, s, x, y) = product(b)?;
    let [f1, f2] = pair(x, y, *tb);
    Some(Chain {
        of,
        alpha: Sym::mul(alpha.clone(), s),
        factors: [(*a, *ta), f1, f2],
        left: false,
    })
}

/// A product one of whose factors is an unstored fill `s 𝟙𝟙ᵀ` (see [`Lazy::Fill`]):
/// `(node, s, left)`, `left` when the fill is the left factor.
pub fn filled(c: &Contrib, lazy: &[Option<Lazy>]) -> Option<(NodeId, Sym, bool)> {
    let Contrib::Gemm { a, b, .. } = c else {
        return None;
    };
    let fill = |o: &Operand| match o {
        Operand::Adj(t) => match lazy.get(*t) {
            Some(Some(Lazy::Fill(s))) => Some((*t, s.clone())),
            _ => None,
        },
        _ => None,
    };
    match (fill(a), fill(b)) {
        (Some((t, s)), None) => Some((t, s, true)),
        (None, Some((t, s))) => Some((t, s, false)),
        // Both (never from one product's adjoints): stored, multiplied as it stands.
        _ => None,
    }
}

/// The most factors an unstored [`Lazy::Factors`] adjoint may stand for.
const MAX_SPLICED: usize = 8;

/// The factors of a [`Contrib::Chain`] with the unstored adjoints among them read
/// through: a scale into `alpha`, a transpose into the flag, an identity dropped, a
/// product as its two factors (`(x y)ᵀ = yᵀ xᵀ`). Returns `(alpha, factors)`.
pub fn splice(
    alpha: &Sym,
    factors: &[(Operand, bool)],
    lazy: &[Option<Lazy>],
) -> (Sym, Vec<(Operand, bool)>) {
    let mut alpha = alpha.clone();
    let mut out = Vec::new();
    let scale = |alpha: &mut Sym, s: &Sym| {
        if !s.is_lit(1.0) {
            *alpha = Sym::mul(alpha.clone(), s.clone());
        }
    };
    for &(o, t) in factors {
        let entry = match o {
            Operand::Adj(n) => lazy.get(n).and_then(Option::as_ref),
            _ => None,
        };
        match entry {
            Some(Lazy::Factors { alpha: s, factors }) => {
                let (s, mut inner) = splice(s, factors, lazy);
                scale(&mut alpha, &s);
                if t {
                    inner.reverse();
                    inner.iter_mut().for_each(|f| f.1 = !f.1);
                }
                out.extend(inner);
            }
            Some(Lazy::Product {
                alpha: s,
                a,
                ta,
                b,
                tb,
            }) => {
                let (s, mut inner) = splice(s, &[(*a, *ta), (*b, *tb)], lazy);
                scale(&mut alpha, &s);
                if t {
                    inner.reverse();
                    inner.iter_mut().for_each(|f| f.1 = !f.1);
                }
                out.extend(inner);
            }
            _ => match factor(o, t, lazy) {
                Factor::Matrix(s, m, t) => {
                    scale(&mut alpha, &s);
                    out.push((m, t));
                }
                Factor::Identity(s) => scale(&mut alpha, &s),
            },
        }
    }
    (alpha.simplified(), out)
}

/// How a contribution reads an adjoint.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Read {
    /// As an operand of an elementwise expression.
    Elementwise,
    /// As the matrix of an untransposed axpy: elementwise, and a factor too.
    Scaled,
    /// As a factor of a product, which can fold a scale or take a chain.
    Product,
    /// As a factor of a [`Contrib::Chain`], which reads scales, transposes, identities
    /// and products through (see [`splice`]), but not fills.
    Chain,
    /// As the matrix of a transposed axpy, which can fold a scale.
    Factor,
    /// Any other way (a kernel, a scalar reduction): the adjoint must be stored.
    Other,
}

fn reads(c: &Contrib, t: NodeId) -> Vec<Read> {
    let me = Operand::Adj(t);
    let mut out = Vec::new();
    if let Some((ops, f)) = c.elementwise() {
        let how = match c {
            Contrib::Axpy { .. } => Read::Scaled,
            _ => Read::Elementwise,
        };
        out.extend(ops.iter().filter(|o| **o == me).map(|_| how));
        if f.any(&|x| mentions(x, t)) {
            out.push(Read::Other);
        }
        return out;
    }
    match c {
        Contrib::Chain { alpha, factors } => {
            out.extend(
                factors
                    .iter()
                    .filter(|(o, _)| *o == me)
                    .map(|_| Read::Chain),
            );
            if alpha.any(&|x| mentions(x, t)) {
                out.push(Read::Other);
            }
        }
        // A chain's backward pass reads its adjoint as a stored matrix.
        Contrib::ChainFactor { alpha, g, .. } => {
            if *g == me || alpha.any(&|x| mentions(x, t)) {
                out.push(Read::Other);
            }
        }
        Contrib::Gemm { alpha, a, b, .. } => {
            out.extend(
                [a, b]
                    .into_iter()
                    .filter(|o| **o == me)
                    .map(|_| Read::Product),
            );
            if alpha.any(&|x| mentions(x, t)) {
                out.push(Read::Other);
            }
        }
        Contrib::Axpy { alpha, a, .. } => {
            if *a == me {
                out.push(Read::Factor);
            }
            if alpha.any(&|x| mentions(x, t)) {
                out.push(Read::Other);
            }
        }
        Contrib::Kernel(_, args) => {
            for a in args {
                let hit = match a {
                    KArg::Mat(o) => *o == me,
                    KArg::Scal(s) => s.any(&|x| mentions(x, t)),
                    KArg::Count(_) | KArg::Scratch => false,
                };
                if hit {
                    out.push(Read::Other);
                }
            }
        }
        Contrib::Diag(s) | Contrib::Index(s, ..) | Contrib::Scalar(s) | Contrib::Fill(s) => {
            if s.any(&|x| mentions(x, t)) {
                out.push(Read::Other);
            }
        }
        Contrib::Hadamard { .. } | Contrib::ZipMap(..) => {}
    }
    out
}

fn mentions(s: &Sym, t: NodeId) -> bool {
    match s {
        Sym::Adj(x) => *x == t,
        Sym::Sum(o) | Sym::Len(o) | Sym::Entry(o, ..) => *o == Operand::Adj(t),
        Sym::Dot(a, b) => *a == Operand::Adj(t) || *b == Operand::Adj(t),
        Sym::ZipSum(ops, _) => ops.contains(&Operand::Adj(t)),
        _ => false,
    }
}

/// `lazy[t]`: how every matrix adjoint that is not stored is read instead.
pub fn plan(g: &Graph, adj: &Adjoints) -> Vec<Option<Lazy>> {
    let n = g.nodes.len();
    let mut lazy: Vec<Option<Lazy>> = vec![None; n];
    for t in (0..n).rev() {
        let planned = lazy_adjoint(g, adj, t, &lazy);
        if let Some(slot) = lazy.get_mut(t) {
            *slot = planned;
        }
    }
    lazy
}

/// How the adjoint of node `t` is read instead of stored, given the plan `lazy` of
/// the later nodes; `None` when it is stored.
fn lazy_adjoint(g: &Graph, adj: &Adjoints, t: NodeId, lazy: &[Option<Lazy>]) -> Option<Lazy> {
    let node = g.node(t);
    // A loop reads its adjoints (and those of its `LoopOut`s) itself.
    if !adj.is_differentiated(t)
        || !node.kind.is_matrix()
        || matches!(
            node.op,
            Op::Param(_) | Op::Loop(_) | Op::LoopOut(_) | Op::UserCall(_)
        )
    {
        return None;
    }
    let [(_, only)] = adj.incoming_to(t) else {
        return None;
    };
    // Read through the unstored adjoints already planned (all later nodes).
    let only = fold_aliases(only, lazy);
    let all: Vec<Read> = adj
        .incoming
        .iter()
        .flatten()
        .filter(|(c, _)| *c == t)
        .flat_map(|(_, k)| reads(k, t))
        .collect();
    let chains_only = !all.is_empty() && all.iter().all(|r| *r == Read::Chain);
    if chains_only {
        if let Some(factors) = spliced_factors(&only, lazy) {
            return Some(factors);
        }
    }
    lazy_from(&only, &all, lazy)
}

/// Read only by chains: an adjoint `only` whose factors become theirs, however many
/// levels deep (within a bound that keeps every chain within the kernel's 16
/// factors).
fn spliced_factors(only: &Contrib, lazy: &[Option<Lazy>]) -> Option<Lazy> {
    let (alpha, factors) = match only {
        Contrib::Gemm {
            alpha,
            a,
            ta,
            b,
            tb,
        } => (alpha.clone(), vec![(*a, *ta), (*b, *tb)]),
        Contrib::Chain { alpha, factors } => (alpha.clone(), factors.clone()),
        _ => return None,
    };
    // Every factor it stands for is a value or a stored adjoint (a fill, say, is
    // read only by its own product kernels).
    let spliced = splice(&alpha, &factors, lazy).1;
    let stored = |o: &Operand| match o {
        Operand::Adj(x) => matches!(lazy.get(*x), Some(None)),
        _ => true,
    };
    (spliced.len() <= MAX_SPLICED && spliced.iter().all(|(o, _)| stored(o)))
        .then_some(Lazy::Factors { alpha, factors })
}

/// How an adjoint that is `only` and read as `all` is read instead of stored, given
/// the plan `lazy` of the later nodes, when it is no spliced chain; `None` when it is
/// stored.
fn lazy_from(only: &Contrib, all: &[Read], lazy: &[Option<Lazy>]) -> Option<Lazy> {
    let factors_only = all
        .iter()
        .all(|r| matches!(r, Read::Product | Read::Factor | Read::Scaled | Read::Chain));
    let products_only =
        !all.is_empty() && all.iter().all(|r| matches!(r, Read::Product | Read::Chain));
    let gemms_only = !all.is_empty() && all.iter().all(|r| *r == Read::Product);
    match only {
        Contrib::Diag(s) if factors_only => Some(Lazy::Identity(s.clone())),
        Contrib::Axpy { alpha, a, ta: true } if factors_only => {
            Some(Lazy::Transposed(alpha.clone(), *a))
        }
        Contrib::Fill(s) if gemms_only => Some(Lazy::Fill(s.clone())),
        Contrib::Gemm {
            alpha,
            a,
            ta,
            b,
            tb,
        } if matches!(all, [Read::Factor | Read::Scaled]) && chain(only, lazy).is_none() => {
            Some(Lazy::Gemm {
                alpha: alpha.clone(),
                a: *a,
                ta: *ta,
                b: *b,
                tb: *tb,
            })
        }
        // Not a product of a product (a chain has three factors), nor of a fill
        // (which its own kernel reads).
        Contrib::Gemm {
            alpha,
            a,
            ta,
            b,
            tb,
        } if products_only && chain(only, lazy).is_none() && filled(only, lazy).is_none() => {
            Some(Lazy::Product {
                alpha: alpha.clone(),
                a: *a,
                ta: *ta,
                b: *b,
                tb: *tb,
            })
        }
        _ => only.elementwise().and_then(|(ops, f)| {
            let fused = Fused { ops, f }.expand(lazy);
            let single_elementwise = matches!(all, [Read::Elementwise | Read::Scaled]);
            let alias = fused.scaled_alias().is_some() && !all.contains(&Read::Other);
            (single_elementwise || alias).then_some(Lazy::Expr(fused))
        }),
    }
}

/// A factor as a product or an axpy reads it: `s · op(m)`, where `op` transposes when
/// the flag is set; an identity has no matrix.
enum Factor {
    Matrix(Sym, Operand, bool),
    Identity(Sym),
}

fn factor(o: Operand, t: bool, lazy: &[Option<Lazy>]) -> Factor {
    let Operand::Adj(n) = o else {
        return Factor::Matrix(Sym::Lit(1.0), o, t);
    };
    match lazy.get(n).and_then(Option::as_ref) {
        Some(Lazy::Expr(e)) => match e.scaled_alias() {
            Some((s, m)) => Factor::Matrix(s, m, t),
            None => Factor::Matrix(Sym::Lit(1.0), o, t),
        },
        Some(Lazy::Transposed(s, m)) => Factor::Matrix(s.clone(), *m, !t),
        Some(Lazy::Identity(s)) => Factor::Identity(s.clone()),
        Some(Lazy::Product { .. } | Lazy::Gemm { .. } | Lazy::Fill(_) | Lazy::Factors { .. })
        | None => Factor::Matrix(Sym::Lit(1.0), o, t),
    }
}

/// `c` with every product/axpy factor that is an unstored adjoint replaced by what it
/// stands for: a scale folded into `alpha`, a transpose into the flag, an identity
/// dropped (a product becomes an axpy, an axpy a diagonal).
pub fn fold_aliases(c: &Contrib, lazy: &[Option<Lazy>]) -> Contrib {
    let scaled = |alpha: &Sym, s: Sym| {
        if s.is_lit(1.0) {
            alpha.clone()
        } else {
            Sym::mul(alpha.clone(), s)
        }
    };
    match c {
        Contrib::Gemm {
            alpha,
            a,
            ta,
            b,
            tb,
        } => match (factor(*a, *ta, lazy), factor(*b, *tb, lazy)) {
            (Factor::Matrix(sa, a, ta), Factor::Matrix(sb, b, tb)) => Contrib::Gemm {
                alpha: scaled(&scaled(alpha, sa), sb),
                a,
                ta,
                b,
                tb,
            },
            (Factor::Identity(s), Factor::Matrix(sm, m, tm))
            | (Factor::Matrix(sm, m, tm), Factor::Identity(s)) => Contrib::Axpy {
                alpha: scaled(&scaled(alpha, s), sm),
                a: m,
                ta: tm,
            },
            (Factor::Identity(_), Factor::Identity(_)) => c.clone(),
        },
        Contrib::Axpy { alpha, a, ta } => {
            // An axpy of a product read by it alone: that product, into the target.
            if let Operand::Adj(n) = a {
                if let Some(Some(Lazy::Gemm {
                    alpha: s,
                    a: x,
                    ta: tx,
                    b: y,
                    tb: ty,
                })) = lazy.get(*n)
                {
                    let alpha = Sym::mul(alpha.clone(), s.clone());
                    let gemm = if *ta {
                        Contrib::Gemm {
                            alpha,
                            a: *y,
                            ta: !*ty,
                            b: *x,
                            tb: !*tx,
                        }
                    } else {
                        Contrib::Gemm {
                            alpha,
                            a: *x,
                            ta: *tx,
                            b: *y,
                            tb: *ty,
                        }
                    };
                    return fold_aliases(&gemm, lazy);
                }
            }
            // An untransposed axpy of an elementwise adjoint is inlined by `expand`.
            if !*ta
                && matches!(a, Operand::Adj(n) if matches!(lazy.get(*n), Some(Some(Lazy::Expr(_)))))
            {
                return c.clone();
            }
            match factor(*a, *ta, lazy) {
                Factor::Matrix(s, m, t) => Contrib::Axpy {
                    alpha: scaled(alpha, s),
                    a: m,
                    ta: t,
                },
                Factor::Identity(s) => Contrib::Diag(scaled(alpha, s)),
            }
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::Fused;
    use crate::sym::{Operand, Sym};

    fn alias(f: Sym) -> Option<Sym> {
        let e = Fused {
            ops: vec![Operand::Value(7)],
            f,
        };
        e.scaled_alias().map(|(s, m)| {
            assert_eq!(m, Operand::Value(7));
            s
        })
    }

    #[test]
    fn scaled_aliases() {
        let (a, s) = (|| Sym::Arg(0), || Sym::Adj(3));
        assert_eq!(alias(a()), Some(Sym::Lit(1.0)));
        assert_eq!(alias(Sym::neg(a())), Some(Sym::Lit(-1.0)));
        // −(2 s̄ a): the scale of the dictionary loss's ∂f/∂(D R)
        let nested = Sym::Neg(Box::new(Sym::Mul(
            Box::new(Sym::Mul(Box::new(Sym::Lit(2.0)), Box::new(s()))),
            Box::new(a()),
        )));
        let got = alias(nested).expect("a scaled alias");
        assert!(!got.any(&|x| matches!(x, Sym::Arg(_))));
        assert!(alias(Sym::Div(Box::new(a()), Box::new(s()))).is_some());
        // Not an alias: the operand twice, or under a function.
        assert_eq!(alias(Sym::Mul(Box::new(a()), Box::new(a()))), None);
        assert_eq!(
            alias(Sym::Rt(crate::sym::RtFn::ReluStep, Box::new(a()))),
            None
        );
    }
}

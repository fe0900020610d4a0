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
    /// Inlines the operands that are unstored adjoints.
    pub fn expand(&self, lazy: &[Option<Fused>]) -> Fused {
        let mut ops = Vec::new();
        let mut map = Vec::new();
        for o in &self.ops {
            match o {
                Operand::Adj(t) if lazy.get(*t).is_some_and(Option::is_some) => {
                    let inner = lazy[*t].clone().unwrap_or_else(|| Fused {
                        ops: vec![],
                        f: Sym::Lit(0.0),
                    });
                    let inner_map: Vec<Sym> = inner
                        .ops
                        .iter()
                        .map(|io| Sym::Arg(push_unique(&mut ops, *io)))
                        .collect();
                    map.push(remap(&inner.f, &inner_map));
                }
                o => map.push(Sym::Arg(push_unique(&mut ops, *o))),
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

    /// `Some((s, m))` when the expression is `s · m` for one operand `m`.
    pub fn scaled_alias(&self) -> Option<(Sym, Operand)> {
        let [op] = self.ops.as_slice() else {
            return None;
        };
        let free = |s: &Sym| !s.any(&|x| matches!(x, Sym::Arg(_)));
        match &self.f {
            Sym::Arg(0) => Some((Sym::Lit(1.0), *op)),
            Sym::Neg(a) if **a == Sym::Arg(0) => Some((Sym::Lit(-1.0), *op)),
            Sym::Mul(s, a) if **a == Sym::Arg(0) && free(s) => Some(((**s).clone(), *op)),
            Sym::Mul(a, s) if **a == Sym::Arg(0) && free(s) => Some(((**s).clone(), *op)),
            _ => None,
        }
    }
}

/// How a contribution reads an adjoint.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Read {
    /// As an operand of an elementwise expression.
    Elementwise,
    /// As a factor of a product or an axpy, which can fold a scale.
    Factor,
    /// Any other way (a kernel, a scalar reduction): the adjoint must be stored.
    Other,
}

fn reads(c: &Contrib, t: NodeId) -> Vec<Read> {
    let me = Operand::Adj(t);
    let mut out = Vec::new();
    if let Some((ops, f)) = c.elementwise() {
        out.extend(ops.iter().filter(|o| **o == me).map(|_| Read::Elementwise));
        if f.any(&|x| mentions(x, t)) {
            out.push(Read::Other);
        }
        return out;
    }
    match c {
        Contrib::Gemm { alpha, a, b, .. } => {
            out.extend(
                [a, b]
                    .into_iter()
                    .filter(|o| **o == me)
                    .map(|_| Read::Factor),
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
                    KArg::Scratch => false,
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
        Sym::Sum(o) | Sym::Len(o) => *o == Operand::Adj(t),
        Sym::Dot(a, b) => *a == Operand::Adj(t) || *b == Operand::Adj(t),
        Sym::ZipSum(ops, _) => ops.contains(&Operand::Adj(t)),
        _ => false,
    }
}

/// `lazy[t]`: the expression of every matrix adjoint that is not stored.
pub fn plan(g: &Graph, adj: &Adjoints) -> Vec<Option<Fused>> {
    let n = g.nodes.len();
    let mut lazy: Vec<Option<Fused>> = vec![None; n];
    for t in (0..n).rev() {
        let node = g.node(t);
        if !adj.differentiated[t] || !node.kind.is_matrix() || matches!(node.op, Op::Param(_)) {
            continue;
        }
        let [(_, only)] = adj.incoming[t].as_slice() else {
            continue;
        };
        let Some((ops, f)) = only.elementwise() else {
            continue;
        };
        let fused = Fused { ops, f }.expand(&lazy);
        let all: Vec<Read> = adj
            .incoming
            .iter()
            .flatten()
            .filter(|(c, _)| *c == t)
            .flat_map(|(_, k)| reads(k, t))
            .collect();
        let single_elementwise = all.as_slice() == [Read::Elementwise];
        let alias = fused.scaled_alias().is_some() && all.iter().all(|r| *r != Read::Other);
        if single_elementwise || alias {
            lazy[t] = Some(fused);
        }
    }
    lazy
}

/// `c` with every product/axpy factor that is an unstored scaled alias replaced by
/// what it aliases, its scale folded into `alpha`.
pub fn fold_aliases(c: &Contrib, lazy: &[Option<Fused>]) -> Contrib {
    let alias = |o: &Operand| -> Option<(Sym, Operand)> {
        match o {
            Operand::Adj(t) => lazy
                .get(*t)
                .and_then(Option::as_ref)
                .and_then(Fused::scaled_alias),
            _ => None,
        }
    };
    match c {
        Contrib::Gemm {
            alpha,
            a,
            ta,
            b,
            tb,
        } => {
            let mut alpha = alpha.clone();
            let (mut a, mut b) = (*a, *b);
            if let Some((s, m)) = alias(&a) {
                alpha = Sym::mul(alpha, s);
                a = m;
            }
            if let Some((s, m)) = alias(&b) {
                alpha = Sym::mul(alpha, s);
                b = m;
            }
            Contrib::Gemm {
                alpha,
                a,
                ta: *ta,
                b,
                tb: *tb,
            }
        }
        Contrib::Axpy { alpha, a, ta: true } => match alias(a) {
            Some((s, m)) => Contrib::Axpy {
                alpha: Sym::mul(alpha.clone(), s),
                a: m,
                ta: true,
            },
            None => c.clone(),
        },
        other => other.clone(),
    }
}

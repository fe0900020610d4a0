//! The vocabulary [`Rule::tangent`](super::Rule::tangent)s are written in: sums,
//! differences and products of tangent-graph nodes, any of which may be absent (a
//! constant, whose tangent is zero), and scalar expressions as nodes.

use super::{Site, Tangents, Unsupported};
use crate::ir::{Closure, Kind, NodeId, Op};
use crate::sym::Sym;
use std::cell::RefCell;

/// What a tangent rule returns: the node of ẏ, `None` for zero.
pub type Tangent = Result<Option<NodeId>, Unsupported>;

/// The tangent graph's node of argument `k`'s value.
pub fn arg(s: Site<'_>, t: &dyn Tangents, k: usize) -> NodeId {
    t.value(s.arg_id(k))
}

/// The tangent of argument `k`.
pub fn darg(s: Site<'_>, t: &dyn Tangents, k: usize) -> Option<NodeId> {
    t.tangent(s.arg_id(k))
}

/// The tangent graph's node of the node's own value.
pub fn this(s: Site<'_>, t: &dyn Tangents) -> NodeId {
    t.value(s.id)
}

/// The tangent graph ids a scalar expression reads ([`Sym::Val`] leaves), once each,
/// in order of first appearance.
pub fn vals(body: &Sym) -> Vec<NodeId> {
    let ids = RefCell::new(Vec::new());
    let _ = body.map_leaves(&|x| {
        if let Sym::Val(id) = x {
            let mut ids = ids.borrow_mut();
            if !ids.contains(id) {
                ids.push(*id);
            }
        }
        None
    });
    ids.into_inner()
}

/// A scalar node computing `body` (in [`Sym::Val`]s of tangent-graph nodes); `None`
/// when `body` is the literal zero.
pub fn expr(t: &mut dyn Tangents, body: Sym) -> Option<NodeId> {
    let body = body.simplified();
    if body.is_lit(0.0) {
        return None;
    }
    if let Sym::Val(id) = body {
        return Some(id);
    }
    let args = vals(&body);
    Some(t.push(Op::Expr(Closure { body }), args))
}

/// The value of an optional scalar node in an expression (zero when absent).
pub fn val(x: Option<NodeId>) -> Sym {
    x.map_or(Sym::Lit(0.0), Sym::Val)
}

/// `a + b`, either absent (zero); matrices or scalars.
pub fn add(t: &mut dyn Tangents, a: Option<NodeId>, b: Option<NodeId>) -> Option<NodeId> {
    match (a, b) {
        (Some(a), Some(b)) if t.kind(a) == Kind::Scalar => {
            expr(t, Sym::add(Sym::Val(a), Sym::Val(b)))
        }
        (Some(a), Some(b)) => Some(t.push(Op::Add, vec![a, b])),
        (a, b) => a.or(b),
    }
}

/// The sum of all the present terms.
pub fn sum(t: &mut dyn Tangents, terms: Vec<Option<NodeId>>) -> Option<NodeId> {
    terms.into_iter().fold(None, |acc, x| add(t, acc, x))
}

/// `-a`.
pub fn neg(t: &mut dyn Tangents, a: Option<NodeId>) -> Option<NodeId> {
    let a = a?;
    if t.kind(a) == Kind::Scalar {
        return expr(t, Sym::neg(Sym::Val(a)));
    }
    Some(t.push(Op::Neg, vec![a]))
}

/// `a − b`, either absent (zero).
pub fn sub(t: &mut dyn Tangents, a: Option<NodeId>, b: Option<NodeId>) -> Option<NodeId> {
    match (a, b) {
        (Some(a), Some(b)) if t.kind(a) == Kind::Scalar => {
            expr(t, Sym::sub(Sym::Val(a), Sym::Val(b)))
        }
        (Some(a), Some(b)) => Some(t.push(Op::Sub, vec![a, b])),
        (a, None) => a,
        (None, b) => neg(t, b),
    }
}

/// `op(args)` when every argument is present.
pub fn push_all(t: &mut dyn Tangents, op: Op, args: &[Option<NodeId>]) -> Option<NodeId> {
    let args: Option<Vec<NodeId>> = args.iter().copied().collect();
    Some(t.push(op, args?))
}

/// The tangent of a linear map of argument 0 (`aᵀ`, `a.sum()`, `a.column(j)`, …):
/// the same operation on ȧ, the other arguments unchanged.
pub fn linear(s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
    let Some(d) = darg(s, t, 0) else {
        return Ok(None);
    };
    let mut args = vec![d];
    args.extend((1..s.node().args.len()).map(|k| arg(s, t, k)));
    Ok(Some(t.push(s.node().op.clone(), args)))
}

/// The tangent of a bilinear operation `op(a, b)`: `op(ȧ, b) + op(a, ḃ)`.
pub fn bilinear(s: Site<'_>, t: &mut dyn Tangents) -> Tangent {
    let op = s.node().op.clone();
    let (a, b) = (arg(s, t, 0), arg(s, t, 1));
    let (da, db) = (darg(s, t, 0), darg(s, t, 1));
    let left = push_all(t, op.clone(), &[da, Some(b)]);
    let right = push_all(t, op, &[Some(a), db]);
    Ok(add(t, left, right))
}

/// A matrix of zeros shaped like node `like`.
pub fn zeros_like(t: &mut dyn Tangents, like: NodeId) -> NodeId {
    t.push(
        Op::Map(Closure {
            body: Sym::Lit(0.0),
        }),
        vec![like],
    )
}

/// A closure body over the original graph's captured nodes, read in the tangent
/// graph: each [`Sym::Val`] of an original node becomes its tangent-graph node.
pub fn remap(body: &Sym, t: &dyn Tangents) -> Sym {
    body.map_leaves(&|x| match x {
        Sym::Val(id) => Some(Sym::Val(t.value(*id))),
        _ => None,
    })
}

/// `Σ_c ∂body/∂c · ċ` over the captured scalars `caps` (original ids) of a closure
/// whose body is already in tangent-graph ids: the part of an entrywise tangent the
/// captured scalars give.
pub fn captured(body: &Sym, caps: &[NodeId], t: &dyn Tangents) -> Sym {
    let mut total = Sym::Lit(0.0);
    for &c in caps {
        if let Some(dc) = t.tangent(c) {
            let d = body.derivative(&Sym::Val(t.value(c)));
            total = Sym::add(total, Sym::mul(d, Sym::Val(dc)));
        }
    }
    total
}

/// An entrywise closure (`map` over one operand, `zip_map` over two) of `body`, its
/// captured scalars being the [`Sym::Val`]s it reads: `None` when `body` is zero.
pub fn entrywise(t: &mut dyn Tangents, operands: &[NodeId], body: Sym) -> Option<NodeId> {
    let body = body.simplified();
    if body.is_lit(0.0) {
        return None;
    }
    let mut args = operands.to_vec();
    args.extend(vals(&body));
    let c = Closure { body };
    Some(match operands.len() {
        1 => t.push(Op::Map(c), args),
        _ => t.push(Op::ZipMap(c), args),
    })
}

//! Scalars: literals, outside constants, arithmetic and scalar methods, whose
//! derivatives come from the one table [`SOp::partials`](crate::sym::SOp::partials).

use super::{sarg, Contrib, Forward, Names};
use crate::ir::{Graph, NodeId, Op};
use crate::sym::Sym;

pub(super) fn forward(g: &Graph, id: NodeId, n: &dyn Names) -> Option<Forward> {
    let node = g.node(id);
    Some(Forward::Scalar(match &node.op {
        Op::Lit(v) => n.sym(&Sym::Lit(*v)),
        Op::Const(tokens) => tokens.clone(),
        // y = op(x, e)  →  x̄ += s̄ ∂y/∂x, ē += s̄ ∂y/∂e
        Op::Scalar(op) => {
            let args = (0..node.args.len()).map(|k| sarg(g, id, k)).collect();
            n.sym(&Sym::apply(*op, args))
        }
        _ => return None,
    }))
}

pub(super) fn adjoint(g: &Graph, id: NodeId) -> Option<Vec<(usize, Contrib)>> {
    let node = g.node(id);
    let Op::Scalar(op) = &node.op else {
        return matches!(node.op, Op::Lit(_) | Op::Const(_) | Op::Param(_)).then(Vec::new);
    };
    let x = sarg(g, id, 0);
    let e = (node.args.len() > 1).then(|| sarg(g, id, 1));
    let partials = op.partials(&x, e.as_ref(), &Sym::Val(id));
    Some(
        partials
            .into_iter()
            .take(node.args.len())
            .enumerate()
            .map(|(k, p)| (k, Contrib::Scalar(Sym::mul(Sym::Grad, p))))
            .collect(),
    )
}

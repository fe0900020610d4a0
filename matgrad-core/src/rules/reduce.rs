//! Reductions to a scalar: `sum`, `mean`, `norm_squared`, `norm`, `dot`, `trace`.

use super::{arg, Contrib, Forward, Names};
use crate::ir::{Graph, NodeId, Op};
use crate::sym::{Operand, Sym};
use quote::quote;

pub(super) fn forward(g: &Graph, id: NodeId, n: &dyn Names) -> Option<Forward> {
    let node = g.node(id);
    let (rt, text) = (n.rt(), n.text(id));
    let v0 = node.args.first().map(|&x| n.view(x)).unwrap_or_default();
    let v1 = node.args.get(1).map(|&x| n.view(x)).unwrap_or_default();
    Some(Forward::Scalar(match &node.op {
        // Σ a  →  ā += s̄ 1
        Op::Sum => quote!(#v0.sum()),
        // Σ a / (m n)  →  ā += s̄ / (m n) 1
        Op::Mean => quote!(#v0.mean()),
        // ‖a‖²  →  ā += 2 s̄ a
        Op::NormSquared => quote!(#v0.norm_squared()),
        // ‖a‖  →  ā += s̄ a / ‖a‖
        Op::Norm => quote!(#v0.norm()),
        // Σ a ⊙ b  →  ā += s̄ b, b̄ += s̄ a
        Op::Dot => quote!(#rt::dot(#v0, #v1, #text)),
        // tr a  →  ā += s̄ I
        Op::Trace => quote!(#rt::trace(#v0, #text)),
        // tr(p q) = Σ p ⊙ qᵀ  →  p̄ += s̄ qᵀ, q̄ += s̄ pᵀ
        Op::TraceMul => quote!(#rt::trace_of_product(#v0, #v1, #text)),
        _ => return None,
    }))
}

pub(super) fn adjoint(g: &Graph, id: NodeId) -> Option<Vec<(usize, Contrib)>> {
    let node = g.node(id);
    let axpy = |alpha: Sym, a: Operand| Contrib::Axpy {
        alpha,
        a,
        ta: false,
    };
    Some(match &node.op {
        Op::Sum => vec![(0, Contrib::Fill(Sym::Grad))],
        Op::Mean => vec![(
            0,
            Contrib::Fill(Sym::div(Sym::Grad, Sym::Len(arg(g, id, 0)))),
        )],
        Op::NormSquared => vec![(0, axpy(Sym::mul(Sym::Lit(2.0), Sym::Grad), arg(g, id, 0)))],
        Op::Norm => vec![(0, axpy(Sym::div(Sym::Grad, Sym::Val(id)), arg(g, id, 0)))],
        Op::Dot => vec![
            (0, axpy(Sym::Grad, arg(g, id, 1))),
            (1, axpy(Sym::Grad, arg(g, id, 0))),
        ],
        Op::Trace => vec![(0, Contrib::Diag(Sym::Grad))],
        Op::TraceMul => vec![
            (
                0,
                Contrib::Axpy {
                    alpha: Sym::Grad,
                    a: arg(g, id, 1),
                    ta: true,
                },
            ),
            (
                1,
                Contrib::Axpy {
                    alpha: Sym::Grad,
                    a: arg(g, id, 0),
                    ta: true,
                },
            ),
        ],
        _ => return None,
    })
}

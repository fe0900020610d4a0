//! Functions of a square matrix: `determinant`, `try_inverse().unwrap()`.

use super::{arg, Contrib, Forward, KArg, Names};
use crate::ir::{Graph, NodeId, Op};
use crate::sym::{Operand, Sym};
use quote::quote;

pub(super) fn forward(g: &Graph, id: NodeId, n: &dyn Names) -> Option<Forward> {
    let node = g.node(id);
    let (rt, out, text) = (n.rt(), n.out(), n.text(id));
    let v0 = node.args.first().map(|&x| n.view(x)).unwrap_or_default();
    Some(match &node.op {
        // det a  →  ā += s̄ det(a) a⁻ᵀ
        Op::Determinant => Forward::Scalar(quote!(#rt::determinant(#v0, #text))),
        // y = a⁻¹  →  ā += −yᵀ Ḡ yᵀ
        Op::Inverse(msg) => {
            let msg = match msg {
                Some(m) => quote!(::core::option::Option::Some(#m)),
                None => quote!(::core::option::Option::None),
            };
            Forward::Matrix(quote!(#rt::inverse_to(&mut #out, #v0, #text, #msg);))
        }
        _ => return None,
    })
}

/// A node computing `a.try_inverse()` of node `a` in the forward pass, whose value
/// the adjoints of `det a` and `ln |det a|` reuse instead of inverting `a` again.
pub(super) fn inverse_of(g: &Graph, a: NodeId) -> Option<NodeId> {
    g.nodes
        .iter()
        .position(|n| matches!(n.op, Op::Inverse(_)) && n.args.first() == Some(&a))
}

pub(super) fn adjoint(g: &Graph, id: NodeId) -> Option<Vec<(usize, Contrib)>> {
    let node = g.node(id);
    Some(match &node.op {
        Op::Determinant if inverse_of(g, node.args[0]).is_some() => vec![(
            0,
            Contrib::Axpy {
                alpha: Sym::mul(Sym::Grad, Sym::Val(id)),
                a: Operand::Value(inverse_of(g, node.args[0]).unwrap_or(id)),
                ta: true,
            },
        )],
        Op::Determinant => vec![(
            0,
            Contrib::Kernel(
                "inv_transpose_to",
                vec![
                    KArg::Scal(Sym::mul(Sym::Grad, Sym::Val(id))),
                    KArg::Mat(arg(g, id, 0)),
                    KArg::Scratch,
                    KArg::Scratch,
                ],
            ),
        )],
        Op::Inverse(_) => vec![(
            0,
            Contrib::Kernel(
                "inv_adjoint_to",
                vec![
                    KArg::Mat(Operand::Value(id)),
                    KArg::Mat(Operand::Grad),
                    KArg::Scratch,
                ],
            ),
        )],
        _ => return None,
    })
}

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

pub(super) fn adjoint(g: &Graph, id: NodeId) -> Option<Vec<(usize, Contrib)>> {
    let node = g.node(id);
    Some(match &node.op {
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

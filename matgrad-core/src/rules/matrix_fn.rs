//! Functions of a square matrix: `determinant`, `try_inverse().unwrap()`, and the LU
//! factorisation and solves that replace an inverse used only in products (see
//! [`crate::solve`]).

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
        // a held as L Lᵀ or P a = L U (pivots and kind in the aux buffer); it is a itself  →  ā += Ḡ
        Op::Lu(msg) => {
            let msg = match msg {
                Some(m) => quote!(::core::option::Option::Some(#m)),
                None => quote!(::core::option::Option::None),
            };
            let (piv, _) = n.aux(id);
            Forward::Matrix(quote!(#rt::lu_to(&mut #out, &mut #piv, #v0, #text, #msg);))
        }
        // y = a⁻¹ b  →  b̄ += a⁻ᵀ Ḡ, ā −= (a⁻ᵀ Ḡ) yᵀ (arg 0 is the Lu of a)
        Op::Solve => {
            let (piv, _) = n.aux(node.args[0]);
            let v1 = n.view(node.args[1]);
            Forward::Matrix(quote!(#rt::lu_solve_to(&mut #out, #v0, #rt::view(&#piv), #v1, #text);))
        }
        // y = b a⁻¹  →  b̄ += Ḡ a⁻ᵀ, ā −= yᵀ (Ḡ a⁻ᵀ) (arg 1 is the Lu of a)
        Op::SolveRight => {
            let (piv, _) = n.aux(node.args[1]);
            let (tmp, _) = n.aux(id);
            let v1 = n.view(node.args[1]);
            Forward::Matrix(quote!(
                #rt::lu_solve_right_to(&mut #out, #v0, #v1, #rt::view(&#piv), &mut #tmp, #text);
            ))
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
        // P = a⁻¹  →  ā += −Pᵀ Ḡ Pᵀ, a chain in its cheapest order (for Ḡ = u vᵀ unstored:
        // −(Pᵀu)(vᵀPᵀ), two matrix–vector products)
        Op::Inverse(_) => vec![(
            0,
            Contrib::Chain {
                alpha: Sym::Lit(-1.0),
                factors: vec![
                    (Operand::Value(id), true),
                    (Operand::Grad, false),
                    (Operand::Value(id), true),
                ],
            },
        )],
        Op::Lu(_) => vec![(
            0,
            Contrib::Axpy {
                alpha: Sym::Lit(1.0),
                a: Operand::Grad,
                ta: false,
            },
        )],
        // The factors and pivots of `a`, then Ḡ (and y): each adjoint is a solve with
        // them (transposed for y = a⁻¹ b) and, for `a`, one product.
        Op::Solve | Op::SolveRight => {
            let right = matches!(node.op, Op::SolveRight);
            let (f, b) = if right { (1, 0) } else { (0, 1) };
            let lu = node.args[f];
            let factors = || vec![KArg::Mat(Operand::Value(lu)), KArg::Mat(Operand::Aux(lu))];
            let with = |mut args: Vec<KArg>, more: Vec<KArg>| {
                args.extend(more);
                args
            };
            let (for_a, for_b) = if right {
                ("lu_solve_right_adjoint_x_to", "lu_solve_right_adjoint_b_to")
            } else {
                ("lu_solve_adjoint_x_to", "lu_solve_adjoint_b_to")
            };
            let g = KArg::Mat(Operand::Grad);
            let y = KArg::Mat(Operand::Value(id));
            vec![
                (
                    f,
                    Contrib::Kernel(for_a, with(factors(), vec![g.clone(), y, KArg::Scratch])),
                ),
                (
                    b,
                    Contrib::Kernel(for_b, with(factors(), vec![g, KArg::Scratch])),
                ),
            ]
        }
        _ => return None,
    })
}

//! Linear maps: `a + b`, `a - b`, `-a`, `s a`, `a / s`, `aᵀ`, `a.add_scalar(s)`, `a[(i, j)]`.

use super::{arg, sarg, Contrib, Forward, Names};
use crate::ir::{Graph, NodeId, Op};
use crate::sym::{Operand, Sym};
use quote::quote;

pub(super) fn forward(g: &Graph, id: NodeId, n: &dyn Names) -> Option<Forward> {
    let node = g.node(id);
    let (rt, out, text) = (n.rt(), n.out(), n.text(id));
    let v0 = node.args.first().map(|&x| n.view(x)).unwrap_or_default();
    let v1 = node.args.get(1).map(|&x| n.view(x)).unwrap_or_default();
    let s1 = node.args.get(1).map(|&x| n.scalar(x)).unwrap_or_default();
    Some(match &node.op {
        // a + b  →  ā += Ḡ, b̄ += Ḡ
        Op::Add => Forward::Matrix(quote!(#rt::add_to(&mut #out, #v0, #v1, #text);)),
        // a - b  →  ā += Ḡ, b̄ −= Ḡ
        Op::Sub => Forward::Matrix(quote!(#rt::sub_to(&mut #out, #v0, #v1, #text);)),
        // -a  →  ā −= Ḡ
        Op::Neg => Forward::Matrix(quote!(#rt::neg_to(&mut #out, #v0);)),
        // s a  →  ā += s Ḡ, s̄ += Σ Ḡ ⊙ a
        Op::Scale => Forward::Matrix(quote!(#rt::scale_to(&mut #out, #v0, #s1);)),
        // a / s  →  ā += Ḡ / s, s̄ −= Σ Ḡ ⊙ a / s²
        Op::DivScalar => Forward::Matrix(quote!(#rt::div_scalar_to(&mut #out, #v0, #s1);)),
        // aᵀ  →  ā += Ḡᵀ
        Op::Transpose => Forward::Matrix(quote!(#rt::transpose_to(&mut #out, #v0);)),
        // a + s 1  →  ā += Ḡ, s̄ += Σ Ḡ
        Op::AddScalar => Forward::Matrix(quote!(#rt::add_scalar_to(&mut #out, #v0, #s1);)),
        // a[(i, j)]  →  ā_ij += s̄
        Op::Index(i, j) => Forward::Scalar(quote!(#rt::index(#v0, #i, #j, #text))),
        // 𝟙ᵀ or 𝟙, sized by another node: a constant, no adjoint
        Op::Ones { of, row } => {
            let (v, one) = (n.view(*of), n.sym(&Sym::Lit(1.0)));
            Forward::Matrix(if *row {
                quote!(#rt::fill_to(&mut #out, false, #one, 1, #v.nrows());)
            } else {
                quote!(#rt::fill_to(&mut #out, false, #one, #v.ncols(), 1);)
            })
        }
        _ => return None,
    })
}

pub(super) fn adjoint(g: &Graph, id: NodeId) -> Option<Vec<(usize, Contrib)>> {
    let node = g.node(id);
    let copy = |alpha: Sym, ta: bool| Contrib::Axpy {
        alpha,
        a: Operand::Grad,
        ta,
    };
    Some(match &node.op {
        Op::Add => vec![
            (0, copy(Sym::Lit(1.0), false)),
            (1, copy(Sym::Lit(1.0), false)),
        ],
        Op::Sub => vec![
            (0, copy(Sym::Lit(1.0), false)),
            (1, copy(Sym::Lit(-1.0), false)),
        ],
        Op::Neg => vec![(0, copy(Sym::Lit(-1.0), false))],
        Op::Scale => vec![
            (0, copy(sarg(g, id, 1), false)),
            (1, Contrib::Scalar(Sym::Dot(Operand::Grad, arg(g, id, 0)))),
        ],
        Op::DivScalar => {
            let s = sarg(g, id, 1);
            vec![
                (0, copy(Sym::div(Sym::Lit(1.0), s.clone()), false)),
                (
                    1,
                    Contrib::Scalar(Sym::neg(Sym::div(
                        Sym::Dot(Operand::Grad, arg(g, id, 0)),
                        Sym::mul(s.clone(), s),
                    ))),
                ),
            ]
        }
        Op::Transpose => vec![(0, copy(Sym::Lit(1.0), true))],
        Op::AddScalar => vec![
            (0, copy(Sym::Lit(1.0), false)),
            (1, Contrib::Scalar(Sym::Sum(Operand::Grad))),
        ],
        Op::Index(i, j) => vec![(0, Contrib::Index(Sym::Grad, *i, *j))],
        _ => return None,
    })
}

//! matgrad's own vocabulary: `sigmoid`, `relu`, `softplus`, `add_row`, `add_col`,
//! `ln_det`, `log_sum_exp`, `softmax_cross_entropy`.

use super::{arg, Contrib, Forward, KArg, Names};
use crate::ir::{Graph, NodeId, Op};
use crate::sym::{Operand, Sym};
use quote::quote;

pub(super) fn forward(g: &Graph, id: NodeId, n: &dyn Names) -> Option<Forward> {
    let node = g.node(id);
    let (rt, out, text) = (n.rt(), n.out(), n.text(id));
    let v0 = node.args.first().map(|&x| n.view(x)).unwrap_or_default();
    let v1 = node.args.get(1).map(|&x| n.view(x)).unwrap_or_default();
    Some(match &node.op {
        // y = σ(a)  →  ā += Ḡ ⊙ y ⊙ (1 − y)
        Op::Sigmoid => Forward::Matrix(quote!(#rt::sigmoid_to(&mut #out, #v0);)),
        // max(a, 0)  →  ā += Ḡ ⊙ [a > 0]
        Op::Relu => Forward::Matrix(quote!(#rt::relu_to(&mut #out, #v0);)),
        // ln(1 + eᵃ)  →  ā += Ḡ ⊙ σ(a)
        Op::Softplus => Forward::Matrix(quote!(#rt::softplus_to(&mut #out, #v0);)),
        // m + 1 r  →  m̄ += Ḡ, r̄ += 1ᵀ Ḡ
        Op::AddRow => Forward::Matrix(quote!(#rt::add_row_to(&mut #out, #v0, #v1, #text);)),
        // m + c 1ᵀ  →  m̄ += Ḡ, c̄ += Ḡ 1
        Op::AddCol => Forward::Matrix(quote!(#rt::add_col_to(&mut #out, #v0, #v1, #text);)),
        // ln |det a|  →  ā += s̄ a⁻ᵀ (the inverse kept from the forward factorisation)
        Op::LnDet => {
            let (inv, scratch) = n.aux(id);
            let shared = super::matrix_fn::inverse_of(g, node.args[0]).is_some();
            Forward::Scalar(if n.differentiated(id) && !shared {
                quote!(#rt::ln_det_inverse_to(&mut #inv, #v0, &mut #scratch, #text))
            } else {
                quote!(#rt::ln_det_with(#v0, &mut #scratch, #text))
            })
        }
        // ℓ = ln Σ eᵃ  →  ā += s̄ e^(a − ℓ)
        Op::LogSumExp => Forward::Scalar(quote!(#rt::log_sum_exp(#v0))),
        // Σ_rows (lse(z_r) − y_r · z_r)  →  z̄ += s̄ (softmax(z) ⊙ rowsum(y) − y), ȳ −= s̄ log softmax(z);
        // the forward pass keeps softmax(z) ⊙ rowsum(y) − y when z is differentiated
        Op::SoftmaxCrossEntropy => Forward::Scalar(if n.differentiated(node.args[0]) {
            let (adjoint, _) = n.aux(id);
            quote!(#rt::softmax_cross_entropy_with_adjoint(&mut #adjoint, #v0, #v1, #text))
        } else {
            quote!(#rt::softmax_cross_entropy(#v0, #v1, #text))
        }),
        _ => return None,
    })
}

pub(super) fn adjoint(g: &Graph, id: NodeId) -> Option<Vec<(usize, Contrib)>> {
    let node = g.node(id);
    let kernel = |name: &'static str, args: Vec<KArg>| Contrib::Kernel(name, args);
    let mat = KArg::Mat;
    Some(match &node.op {
        // The three activations are elementwise, so their adjoints fuse with their neighbours'.
        Op::Sigmoid => {
            let y = Sym::Arg(1);
            let d = Sym::mul(y.clone(), Sym::sub(Sym::Lit(1.0), y));
            vec![(
                0,
                Contrib::ZipMap(
                    vec![Operand::Grad, Operand::Value(id)],
                    Sym::mul(Sym::Arg(0), d),
                ),
            )]
        }
        Op::Relu => {
            let d = Sym::Rt("relu_step", Box::new(Sym::Arg(1)));
            vec![(
                0,
                Contrib::ZipMap(vec![Operand::Grad, arg(g, id, 0)], Sym::mul(Sym::Arg(0), d)),
            )]
        }
        Op::Softplus => {
            let d = Sym::Rt("sigmoid_scalar", Box::new(Sym::Arg(1)));
            vec![(
                0,
                Contrib::ZipMap(vec![Operand::Grad, arg(g, id, 0)], Sym::mul(Sym::Arg(0), d)),
            )]
        }
        Op::AddRow => vec![
            (
                0,
                Contrib::Axpy {
                    alpha: Sym::Lit(1.0),
                    a: Operand::Grad,
                    ta: false,
                },
            ),
            (1, kernel("sum_rows_to", vec![mat(Operand::Grad)])),
        ],
        Op::AddCol => vec![
            (
                0,
                Contrib::Axpy {
                    alpha: Sym::Lit(1.0),
                    a: Operand::Grad,
                    ta: false,
                },
            ),
            (1, kernel("sum_cols_to", vec![mat(Operand::Grad)])),
        ],
        // The inverse kept by the forward factorisation, or the function's own
        // `try_inverse()` of the same matrix when it has one.
        Op::LnDet => vec![(
            0,
            Contrib::Axpy {
                alpha: Sym::Grad,
                a: super::matrix_fn::inverse_of(g, node.args[0])
                    .map_or(Operand::Aux(id), Operand::Value),
                ta: true,
            },
        )],
        Op::LogSumExp => vec![(
            0,
            kernel(
                "log_sum_exp_adjoint_to",
                vec![
                    KArg::Scal(Sym::Grad),
                    mat(arg(g, id, 0)),
                    KArg::Scal(Sym::Val(id)),
                ],
            ),
        )],
        Op::SoftmaxCrossEntropy => vec![
            (
                0,
                Contrib::Axpy {
                    alpha: Sym::Grad,
                    a: Operand::Aux(id),
                    ta: false,
                },
            ),
            (
                1,
                kernel(
                    "softmax_ce_adjoint_y_to",
                    vec![KArg::Scal(Sym::Grad), mat(arg(g, id, 0))],
                ),
            ),
        ],
        _ => return None,
    })
}

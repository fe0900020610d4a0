//! Products: `a * b`, `a.component_mul(&b)`, `a.component_div(&b)`, `a.kronecker(&b)`,
//! and elementwise maps `a.map(|v| g(v))`.

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
        // a b  →  ā += Ḡ bᵀ, b̄ += aᵀ Ḡ
        Op::MatMul => Forward::Matrix(quote!(#rt::mul_to(&mut #out, #v0, #v1, #text);)),
        // a₀ ⋯ a_{n−1}, associated by the shapes, the tree's products kept  →  by reverse
        // mode through that tree: ā_f += (a₀ ⋯ a_{f−1})ᵀ Ḡ (a_{f+1} ⋯ a_{n−1})ᵀ, each
        // shared partial product and partial adjoint computed once
        Op::Chain => {
            let views = node.args.iter().map(|&x| n.view(x));
            let temps = n.temps(id);
            Forward::Matrix(quote!(#rt::chain_to(&mut #out, &[#(#views),*], #temps, #text);))
        }
        // a ⊙ b  →  ā += Ḡ ⊙ b, b̄ += Ḡ ⊙ a
        Op::ComponentMul => {
            Forward::Matrix(quote!(#rt::component_mul_to(&mut #out, #v0, #v1, #text);))
        }
        // a ⊘ b  →  ā += Ḡ ⊘ b, b̄ −= Ḡ ⊙ a ⊘ b²
        Op::ComponentDiv => {
            Forward::Matrix(quote!(#rt::component_div_to(&mut #out, #v0, #v1, #text);))
        }
        // a ⊗ b  →  ā_ij += Σ Ḡ_block(i,j) ⊙ b, b̄ += Σ_ij a_ij Ḡ_block(i,j)
        Op::Kronecker => Forward::Matrix(quote!(#rt::kronecker_to(&mut #out, #v0, #v1);)),
        // g(a) entrywise  →  ā += Ḡ ⊙ g′(a); a captured scalar c: c̄ += Σ Ḡ ⊙ ∂g/∂c
        Op::Map(c) => {
            let x = quote::format_ident!("__mg_x", span = proc_macro2::Span::mixed_site());
            let body = n.sym(&c.body);
            Forward::Matrix(quote!(#rt::map_to(&mut #out, #v0, |#x| #body);))
        }
        _ => return None,
    })
}

pub(super) fn adjoint(g: &Graph, id: NodeId) -> Option<Vec<(usize, Contrib)>> {
    let node = g.node(id);
    let one = || Sym::Lit(1.0);
    Some(match &node.op {
        Op::MatMul => vec![
            (
                0,
                Contrib::Gemm {
                    alpha: one(),
                    a: Operand::Grad,
                    ta: false,
                    b: arg(g, id, 1),
                    tb: true,
                },
            ),
            (
                1,
                Contrib::Gemm {
                    alpha: one(),
                    a: arg(g, id, 0),
                    ta: true,
                    b: Operand::Grad,
                    tb: false,
                },
            ),
        ],
        Op::Chain => (0..node.args.len())
            .map(|factor| {
                let c = Contrib::ChainFactor {
                    alpha: one(),
                    g: Operand::Grad,
                    factor,
                };
                (factor, c)
            })
            .collect(),
        Op::ComponentMul => vec![
            (
                0,
                Contrib::Hadamard {
                    alpha: one(),
                    a: Operand::Grad,
                    b: arg(g, id, 1),
                },
            ),
            (
                1,
                Contrib::Hadamard {
                    alpha: one(),
                    a: Operand::Grad,
                    b: arg(g, id, 0),
                },
            ),
        ],
        Op::ComponentDiv => {
            let (g0, a, b) = (Sym::Arg(0), Sym::Arg(1), Sym::Arg(2));
            vec![
                (
                    0,
                    Contrib::ZipMap(
                        vec![Operand::Grad, arg(g, id, 1)],
                        Sym::div(g0.clone(), Sym::Arg(1)),
                    ),
                ),
                (
                    1,
                    Contrib::ZipMap(
                        vec![Operand::Grad, arg(g, id, 0), arg(g, id, 1)],
                        Sym::neg(Sym::div(Sym::mul(g0, a), Sym::mul(b.clone(), b))),
                    ),
                ),
            ]
        }
        Op::Kronecker => vec![
            (
                0,
                Contrib::Kernel(
                    "kron_adjoint_a_to",
                    vec![KArg::Mat(Operand::Grad), KArg::Mat(arg(g, id, 1))],
                ),
            ),
            (
                1,
                Contrib::Kernel(
                    "kron_adjoint_b_to",
                    vec![KArg::Mat(Operand::Grad), KArg::Mat(arg(g, id, 0))],
                ),
            ),
        ],
        Op::Map(c) => {
            let mut out = Vec::new();
            // ā += Ḡ ⊙ g′(a); read g′ from the stored output when it can be (tanh, exp, …).
            let from_output = match c.body.as_op() {
                Some((op, args))
                    if args.len() == 1 && *args[0] == Sym::Var && op.partial_uses_only_output() =>
                {
                    op.partials(&Sym::Var, None, &Sym::Arg(1))
                        .into_iter()
                        .next()
                }
                _ => None,
            };
            let zip = match from_output {
                Some(d) => Contrib::ZipMap(
                    vec![Operand::Grad, Operand::Value(id)],
                    Sym::mul(Sym::Arg(0), d),
                ),
                None => {
                    let d = c.body.derivative(&Sym::Var).subst_var(&Sym::Arg(1));
                    Contrib::ZipMap(vec![Operand::Grad, arg(g, id, 0)], Sym::mul(Sym::Arg(0), d))
                }
            };
            out.push((0, zip));
            for (k, &cap) in node.args.iter().enumerate().skip(1) {
                let d = c.body.derivative(&Sym::Val(cap)).subst_var(&Sym::Arg(1));
                out.push((
                    k,
                    Contrib::Scalar(Sym::ZipSum(
                        vec![Operand::Grad, arg(g, id, 0)],
                        Box::new(Sym::mul(Sym::Arg(0), d)),
                    )),
                ));
            }
            out
        }
        _ => return None,
    })
}

//! Rewrites of the forward pass, before differentiation.
//!
//! By default the value is computed as the user wrote it: `NAME_grad` returns the
//! bits `NAME` returns, so a rewrite must keep them. One does:
//!
//! | written | computed | saves |
//! | --- | --- | --- |
//! | `(p * q).trace()` | the product's diagonal entries only, each as the product computes it, summed in order (`trmul`) | the product: `2 m n k` flops become `2 m k` |
//!
//! (The gradient is free to be computed any way that is mathematically equal; see
//! `emit::fuse`.) With `#[grad(wrt = x, reassociate)]` the value may be computed
//! another way too, changing only its rounding:
//!
//! | written | computed | saves |
//! | --- | --- | --- |
//! | `a * b * c` | `(a b) c` or `a (b c)`, whichever the shapes make cheaper at run time (`chain3`) | up to a factor of `n` (`a * b * v` with `v` a vector: two matrix–vector products) |
//! | `(a * x * b).trace()`, `x` differentiated, `a` and `b` not | `⟨x, (b a)ᵀ⟩` | one product in all: the gradient `(b a)ᵀ` is the value's own factor |
//! | `x.try_inverse().unwrap() * b`, the inverse used only in products | `x⁻¹ b` by solves with one factorisation of `x`, before these rewrites ([`crate::solve`]) | the inverse: `n³` becomes `n³/3` |
//!
//! A product folded into another must have no other use: a named `let p = a * b`
//! used twice stays a product.

use crate::ir::{Graph, Kind, Node, NodeId, Op, Shape};

/// What becomes of one node.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Kept as it is.
    Kept,
    /// Folded into the one node that uses it.
    Folded,
    /// Rewritten to `op` over new arguments.
    Rewritten,
}

/// A node's new form.
enum Rewrite {
    /// `op` over these (old) arguments.
    To(Op, Vec<NodeId>),
    /// `tr(l x r)` as `⟨x, (r l)ᵀ⟩`.
    Isolate { x: NodeId, l: NodeId, r: NodeId },
}

/// `g` with its traces of products folded and, when `reassociate`, its chains of
/// three factors and its traces linear in a variable rewritten (see the module
/// docs), given the parameters differentiated (`wrt`, parameter indices). Parameters
/// keep their ids.
pub fn rewrite(g: &Graph, wrt: &[usize], reassociate: bool) -> Graph {
    let n = g.nodes.len();
    let mut active = vec![false; n];
    for (id, node) in g.nodes.iter().enumerate() {
        active[id] = match node.op {
            Op::Param(i) => wrt.contains(&i),
            _ => node.args.iter().any(|&a| active[a]),
        };
    }
    let mut uses = vec![0usize; n];
    for node in &g.nodes {
        for &a in &node.args {
            uses[a] += 1;
        }
    }
    if g.output < n {
        uses[g.output] += 1;
    }
    let mut fate = vec![Fate::Kept; n];
    let mut rewritten: Vec<Option<Rewrite>> = (0..n).map(|_| None).collect();
    // A product whose only use is this node, and that nothing has rewritten or folded.
    let sole_product = |fate: &[Fate], id: NodeId| {
        matches!(g.node(id).op, Op::MatMul) && uses[id] == 1 && fate[id] == Fate::Kept
    };
    // Outermost first, so that `(a * x * b).trace()` folds the trace (no product
    // formed) before the chain under it.
    for id in (0..n).rev() {
        if fate[id] != Fate::Kept {
            continue;
        }
        let node = g.node(id);
        let args = &node.args;
        let new = match node.op {
            Op::Trace if sole_product(&fate, args[0]) => {
                let (p, q) = (g.node(args[0]).args[0], g.node(args[0]).args[1]);
                let pair = |id: NodeId| g.node(id).args.clone();
                if reassociate
                    && sole_product(&fate, p)
                    && active[pair(p)[1]]
                    && !active[pair(p)[0]]
                    && !active[q]
                {
                    // tr(a x q) = ⟨x, (q a)ᵀ⟩
                    fate[p] = Fate::Folded;
                    let x = pair(p)[1];
                    let (l, r) = (pair(p)[0], q);
                    Some((args[0], Rewrite::Isolate { x, l, r }))
                } else if reassociate
                    && sole_product(&fate, q)
                    && active[pair(q)[0]]
                    && !active[pair(q)[1]]
                    && !active[p]
                {
                    // tr(p x b) = ⟨x, (b p)ᵀ⟩
                    fate[q] = Fate::Folded;
                    let x = pair(q)[0];
                    let (l, r) = (p, pair(q)[1]);
                    Some((args[0], Rewrite::Isolate { x, l, r }))
                } else {
                    Some((args[0], Rewrite::To(Op::TraceMul, vec![p, q])))
                }
            }
            // A chain of exactly three: in `((a b) c) d` the factor `a b` would be hidden
            // inside the chain (formed anyway, and out of the backward pass's reach), so
            // the chain is `(a b) c`, the innermost three.
            Op::MatMul
                if reassociate
                    && sole_product(&fate, args[0])
                    && !g.node(args[0]).args.iter().any(|&f| sole_product(&fate, f))
                    && !sole_product(&fate, args[1]) =>
            {
                let inner = &g.node(args[0]).args;
                let three = vec![inner[0], inner[1], args[1]];
                Some((args[0], Rewrite::To(Op::Chain3, three)))
            }
            Op::MatMul
                if reassociate
                    && sole_product(&fate, args[1])
                    && !g.node(args[1]).args.iter().any(|&f| sole_product(&fate, f))
                    && !sole_product(&fate, args[0]) =>
            {
                let inner = &g.node(args[1]).args;
                let three = vec![args[0], inner[0], inner[1]];
                Some((args[1], Rewrite::To(Op::Chain3, three)))
            }
            _ => None,
        };
        if let Some((folded, rewrite)) = new {
            fate[folded] = Fate::Folded;
            fate[id] = Fate::Rewritten;
            rewritten[id] = Some(rewrite);
        }
    }
    let mut map = vec![usize::MAX; n];
    let mut nodes: Vec<Node> = Vec::with_capacity(n);
    for (id, node) in g.nodes.iter().enumerate() {
        if fate[id] == Fate::Folded {
            continue;
        }
        let mut node = node.clone();
        match rewritten[id].take() {
            Some(Rewrite::To(op, args)) => {
                node.op = op;
                node.args = args.iter().map(|&a| map[a]).collect();
            }
            Some(Rewrite::Isolate { x, l, r }) => {
                let shape = |id: NodeId| match g.node(id).kind {
                    Kind::Matrix(s) => s,
                    Kind::Scalar => Shape::MATRIX,
                };
                let (rl, tr) = (
                    Shape {
                        rows: shape(r).rows,
                        cols: shape(l).cols,
                    },
                    Shape {
                        rows: shape(l).cols,
                        cols: shape(r).rows,
                    },
                );
                let helper = |op, args, shape| Node {
                    op,
                    args,
                    kind: Kind::Matrix(shape),
                    span: node.span,
                    text: node.text.clone(),
                    name: None,
                };
                nodes.push(helper(Op::MatMul, vec![map[r], map[l]], rl));
                nodes.push(helper(Op::Transpose, vec![nodes.len() - 1], tr));
                node.op = Op::Dot;
                node.args = vec![map[x], nodes.len() - 1];
            }
            None => node.args = node.args.iter().map(|&a| map[a]).collect(),
        }
        map[id] = nodes.len();
        nodes.push(node);
    }
    Graph {
        nodes,
        output: map.get(g.output).copied().unwrap_or(g.output),
        float: g.float,
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    /// The output of `body` (over `a`, `b`, `c`, `x`, `v`) after the rewrites, with
    /// `attr` (`wrt = x` and maybe `reassociate`), as an s-expression.
    fn rewritten(attr: proc_macro2::TokenStream, body: &str) -> String {
        let src = format!(
            "fn f(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>, x: &DMatrix<f64>, v: &DVector<f64>) -> f64 {{ {body} }}"
        );
        let item: syn::ItemFn = syn::parse_str(&src).expect("a function");
        let d = crate::derive(attr, &item).unwrap_or_else(|_| panic!("`{body}` derives"));
        d.graph.sexpr(d.graph.output)
    }

    #[test]
    fn exact_rewrites() {
        for (body, want) in [
            ("(a * x).trace()", "(trmul a x)"),
            ("(a * x * b).trace()", "(trmul (matmul a x) b)"),
            (
                "(a * b * x).norm_squared()",
                "(norm2 (matmul (matmul a b) x))",
            ),
            (
                "let p = a * x; p.trace() + p.sum()",
                "(+ (tr (matmul a x)) (sum (matmul a x)))",
            ),
        ] {
            assert_eq!(rewritten(quote!(wrt = x), body), want, "{body}");
        }
    }

    #[test]
    fn reassociating_rewrites() {
        for (body, want) in [
            ("(a * x).trace()", "(trmul a x)"),
            ("(a * x * b).trace()", "(dot x (t (matmul b a)))"),
            ("(a * b * x).trace()", "(trmul (matmul a b) x)"),
            ("(x * a * b).trace()", "(trmul (matmul x a) b)"),
            (
                "(a * b * c).trace() + x.sum()",
                "(+ (trmul (matmul a b) c) (sum x))",
            ),
            ("(a * b * x).norm_squared()", "(norm2 (chain3 a b x))"),
            ("(a * (b * x)).sum()", "(sum (chain3 a b x))"),
            ("(a * b * x * c).sum()", "(sum (matmul (chain3 a b x) c))"),
            (
                "((a * b) * (x * c)).sum()",
                "(sum (matmul (matmul a b) (matmul x c)))",
            ),
            ("(a * x * v).norm()", "(norm (chain3 a x v))"),
            // A product with another use stays.
            (
                "let p = a * x; p.trace() + p.sum()",
                "(+ (tr (matmul a x)) (sum (matmul a x)))",
            ),
            ("x.trace()", "(tr x)"),
        ] {
            assert_eq!(
                rewritten(quote!(wrt = x, reassociate), body),
                want,
                "{body}"
            );
        }
    }
}

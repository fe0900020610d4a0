//! `#[grad(wrt = x, reassociate)]`: rewrites of the value that change only its
//! floating-point rounding.
//!
//! By default the value is computed as the user wrote it: the same operations in the
//! same order, so `NAME_grad` returns the bits `NAME` returns. The gradient is free
//! to be computed any way that is mathematically equal (see `emit::fuse`). With
//! `reassociate`, the value may be computed another way too:
//!
//! | written | computed | saves |
//! | --- | --- | --- |
//! | `(p * q).trace()` | `Σ p ⊙ qᵀ` (`trmul`) | the product: `2 m n k` flops become `2 m n` |
//! | `a * b * c` | `(a b) c` or `a (b c)`, whichever the shapes make cheaper at run time (`chain3`) | up to a factor of `n` (`a * b * v` with `v` a vector: two matrix–vector products) |
//!
//! A product folded into another must have no other use: a named `let p = a * b`
//! used twice stays a product.

use crate::ir::{Graph, Node, NodeId, Op};

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

/// `g` with its traces of products and its chains of three factors rewritten (see the
/// module docs). Parameters keep their ids.
pub fn reassociate(g: &Graph) -> Graph {
    let n = g.nodes.len();
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
    let mut rewritten: Vec<Option<(Op, Vec<NodeId>)>> = vec![None; n];
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
                Some((args[0], Op::TraceMul, g.node(args[0]).args.clone()))
            }
            Op::MatMul if sole_product(&fate, args[0]) => {
                let inner = &g.node(args[0]).args;
                Some((args[0], Op::Chain3, vec![inner[0], inner[1], args[1]]))
            }
            Op::MatMul if sole_product(&fate, args[1]) => {
                let inner = &g.node(args[1]).args;
                Some((args[1], Op::Chain3, vec![args[0], inner[0], inner[1]]))
            }
            _ => None,
        };
        if let Some((folded, op, new_args)) = new {
            fate[folded] = Fate::Folded;
            fate[id] = Fate::Rewritten;
            rewritten[id] = Some((op, new_args));
        }
    }
    let mut map = vec![usize::MAX; n];
    let mut nodes: Vec<Node> = Vec::with_capacity(n);
    for (id, node) in g.nodes.iter().enumerate() {
        if fate[id] == Fate::Folded {
            continue;
        }
        let mut node = node.clone();
        if let Some((op, args)) = rewritten[id].take() {
            node.op = op;
            node.args = args;
        }
        node.args = node.args.iter().map(|&a| map[a]).collect();
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

    /// The output of `body` (over `a`, `b`, `c`, `x`, `v`) after the rewrite, as an
    /// s-expression.
    fn rewritten(body: &str) -> String {
        let src = format!(
            "fn f(a: &DMatrix<f64>, b: &DMatrix<f64>, c: &DMatrix<f64>, x: &DMatrix<f64>, v: &DVector<f64>) -> f64 {{ {body} }}"
        );
        let item: syn::ItemFn = syn::parse_str(&src).expect("a function");
        let d = crate::derive(quote!(wrt = x, reassociate), &item)
            .unwrap_or_else(|_| panic!("`{body}` derives"));
        d.graph.sexpr(d.graph.output)
    }

    #[test]
    fn one_line_rewrites() {
        for (body, want) in [
            ("(a * x).trace()", "(trmul a x)"),
            ("(a * x * b).trace()", "(trmul (matmul a x) b)"),
            ("(a * b * x).norm_squared()", "(norm2 (chain3 a b x))"),
            ("(a * (b * x)).sum()", "(sum (chain3 a b x))"),
            ("(a * b * x * c).sum()", "(sum (chain3 (matmul a b) x c))"),
            ("(a * x * v).norm()", "(norm (chain3 a x v))"),
            // A product with another use stays.
            (
                "let p = a * x; p.trace() + p.sum()",
                "(+ (tr (matmul a x)) (sum (matmul a x)))",
            ),
            ("x.trace()", "(tr x)"),
        ] {
            assert_eq!(rewritten(body), want, "{body}");
        }
    }
}

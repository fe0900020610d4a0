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
//! | `a * b * c * ⋯` (any parenthesisation) | the association with the fewest multiply-adds, chosen by dynamic programming over the shapes: at run time for `DMatrix` (`chain`), at expansion for static sizes | up to a factor of `n` per product (`a * b * v` with `v` a vector: two matrix–vector products; `x.transpose() * a * x`: one matrix–vector product and a dot) |
//! | `(a * b * ⋯).sum()` | `𝟙ᵀ a b ⋯ 𝟙`, one chain with ones at both ends (`Op::Ones`) | the chain can start from vectors: matrix–vector products only |
//! | `(a * x * b).trace()`, `x` differentiated, `a` and `b` not | `⟨x, (b a)ᵀ⟩` | one product in all: the gradient `(b a)ᵀ` is the value's own factor |
//! | `x.try_inverse().unwrap() * b`, the inverse used only in products | `x⁻¹ b` by solves with one factorisation of `x`, before these rewrites ([`crate::solve`]) | the inverse: `n³` becomes `n³/3` |
//!
//! A product folded into another must have no other use: a named `let p = a * b`
//! used twice stays a product.

use crate::ir::{Dim, Graph, Kind, Node, NodeId, Op, Shape};

/// The most factors one chain takes (the run-time kernel's limit); a longer product
/// is split into chains of at most this many.
pub const MAX_FACTORS: usize = 16;

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
    /// `Σ (f₀ ⋯ f_{n−1})` as the 1×1 chain `𝟙ᵀ f₀ ⋯ f_{n−1} 𝟙`, summed; the product
    /// summed (whose text the chain's panics quote).
    SumChain(Vec<NodeId>, NodeId),
    /// `tr(l x r)` as `⟨x, (r l)ᵀ⟩`.
    Isolate { x: NodeId, l: NodeId, r: NodeId },
}

/// `g` with its traces of products folded and, when `reassociate`, its chains of
/// products and its traces linear in a variable rewritten (see the module
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
            // The whole product tree under this product, however parenthesised, as
            // one chain of its factors: its products with no other use are folded.
            Op::MatMul if reassociate => {
                let (factors, inner) = tree(g, id, MAX_FACTORS, &|f| sole_product(&fate, f));
                if factors.len() >= 3 {
                    for f in inner {
                        fate[f] = Fate::Folded;
                    }
                    fate[id] = Fate::Rewritten;
                    rewritten[id] = Some(Rewrite::To(Op::Chain, factors));
                }
                None
            }
            // The sum of a product tree: 𝟙ᵀ f₀ ⋯ f_{n−1} 𝟙, two more factors whose
            // 1s let the chain's order start from the ends with vectors.
            Op::Sum if reassociate && sole_product(&fate, args[0]) => {
                let (factors, inner) =
                    tree(g, args[0], MAX_FACTORS - 2, &|f| sole_product(&fate, f));
                for f in inner.into_iter().chain([args[0]]) {
                    fate[f] = Fate::Folded;
                }
                fate[id] = Fate::Rewritten;
                rewritten[id] = Some(Rewrite::SumChain(factors, args[0]));
                None
            }
            _ => None,
        };
        if let Some((folded, rewrite)) = new {
            fate[folded] = Fate::Folded;
            fate[id] = Fate::Rewritten;
            rewritten[id] = Some(rewrite);
        }
    }
    let shape = |id: NodeId| match g.node(id).kind {
        Kind::Matrix(s) => s,
        Kind::Scalar => Shape::MATRIX,
    };
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
            Some(Rewrite::SumChain(factors, product)) => {
                let (first, last) = (factors[0], factors[factors.len() - 1]);
                let helper = |op, args, rows, cols| Node {
                    op,
                    args,
                    kind: Kind::Matrix(Shape { rows, cols }),
                    span: g.node(product).span,
                    text: g.node(product).text.clone(),
                    name: None,
                };
                let (row, col) = (
                    Op::Ones {
                        of: map[first],
                        row: true,
                    },
                    Op::Ones {
                        of: map[last],
                        row: false,
                    },
                );
                nodes.push(helper(row, vec![], Dim::One, shape(first).rows));
                let mut chain = vec![nodes.len() - 1];
                chain.extend(factors.iter().map(|&f| map[f]));
                nodes.push(helper(col, vec![], shape(last).cols, Dim::One));
                chain.push(nodes.len() - 1);
                nodes.push(helper(Op::Chain, chain, Dim::One, Dim::One));
                node.args = vec![nodes.len() - 1];
            }
            Some(Rewrite::Isolate { x, l, r }) => {
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

/// The factors of the product tree under product `root`, left to right, descending
/// into the products `fold` accepts, at most `max` factors; and those products.
fn tree(
    g: &Graph,
    root: NodeId,
    max: usize,
    fold: &dyn Fn(NodeId) -> bool,
) -> (Vec<NodeId>, Vec<NodeId>) {
    let (mut factors, mut inner) = (Vec::new(), Vec::new());
    let args = &g.node(root).args;
    let mut stack = vec![args[1], args[0]];
    while let Some(f) = stack.pop() {
        if fold(f) && factors.len() + stack.len() + 2 <= max {
            inner.push(f);
            stack.push(g.node(f).args[1]);
            stack.push(g.node(f).args[0]);
        } else {
            factors.push(f);
        }
    }
    (factors, inner)
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
            ("(a * b * x).norm_squared()", "(norm2 (chain a b x))"),
            ("(a * (b * x)).norm()", "(norm (chain a b x))"),
            ("(a * b * x * c).norm()", "(norm (chain a b x c))"),
            ("((a * b) * (x * c)).norm()", "(norm (chain a b x c))"),
            ("(a * (b * (x * c))).norm()", "(norm (chain a b x c))"),
            // A sum of products is 𝟙ᵀ ⋯ 𝟙: vectors at both ends.
            ("(a * x).sum()", "(sum (chain ones_row a x ones_col))"),
            (
                "(a * (b * x)).sum()",
                "(sum (chain ones_row a b x ones_col))",
            ),
            ("(x * a).mean()", "(mean (matmul x a))"),
            ("(a * x * v).norm()", "(norm (chain a x v))"),
            (
                "(v.transpose() * a * x * v)[(0, 0)]",
                "(idx00 (chain (t v) a x v))",
            ),
            // A product used twice is a factor, formed once.
            (
                "let p = a * b; (p * x * c).norm() + p.norm()",
                "(+ (norm (chain (matmul a b) x c)) (norm (matmul a b)))",
            ),
            ("(a * x).norm()", "(norm (matmul a x))"),
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

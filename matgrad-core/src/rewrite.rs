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

use crate::ir::{flag, Dim, Graph, Kind, Node, NodeId, Op, Shape};

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
    /// `Σ (f₀ ⋯ f_{n−1})` as the 1×1 chain `𝟙ᵀ f₀ ⋯ f_{n−1} 𝟙`, summed: `first` is
    /// `f₀`, `rest` the other factors; `product` is the product summed (whose text
    /// the chain's panics quote).
    SumChain {
        first: NodeId,
        rest: Vec<NodeId>,
        product: NodeId,
    },
    /// `tr(l x r)` as `⟨x, (r l)ᵀ⟩`.
    Isolate { x: NodeId, l: NodeId, r: NodeId },
}

/// `g` with its traces of products folded and, when `reassociate`, its chains of
/// products and its traces linear in a variable rewritten (see the module
/// docs), given the parameters differentiated (`wrt`, parameter indices). Parameters
/// keep their ids.
pub fn rewrite(g: &Graph, wrt: &[usize], reassociate: bool) -> Graph {
    let mut plan = Plan {
        g,
        active: g.active(wrt),
        uses: use_counts(g),
        fate: vec![Fate::Kept; g.nodes.len()],
        rewritten: (0..g.nodes.len()).map(|_| None).collect(),
    };
    // Outermost first, so that `(a * x * b).trace()` folds the trace (no product
    // formed) before the chain under it.
    for id in (0..g.nodes.len()).rev() {
        if plan.fate(id) == Fate::Kept {
            plan.rewrite_node(id, reassociate);
        }
    }
    rebuild(g, plan.fate, plan.rewritten)
}

/// `uses[id]`: how many arguments (and the output) name node `id`.
fn use_counts(g: &Graph) -> Vec<usize> {
    let mut uses = vec![0usize; g.nodes.len()];
    let args = g.nodes.iter().flat_map(|node| &node.args);
    for &a in args.chain([&g.output]) {
        if let Some(u) = uses.get_mut(a) {
            *u += 1;
        }
    }
    uses
}

/// What becomes of each node of `g`, decided from the output down.
struct Plan<'g> {
    g: &'g Graph,
    /// `active[id]`: node `id` depends on a differentiated parameter.
    active: Vec<bool>,
    /// `uses[id]`: see [`use_counts`].
    uses: Vec<usize>,
    fate: Vec<Fate>,
    /// The new form of each [`Fate::Rewritten`] node.
    rewritten: Vec<Option<Rewrite>>,
}

impl Plan<'_> {
    fn fate(&self, id: NodeId) -> Fate {
        self.fate.get(id).copied().unwrap_or(Fate::Kept)
    }

    fn fold(&mut self, id: NodeId) {
        if let Some(f) = self.fate.get_mut(id) {
            *f = Fate::Folded;
        }
    }

    /// Node `id` becomes `rewrite`.
    fn rewrite_to(&mut self, id: NodeId, rewrite: Rewrite) {
        if let (Some(f), Some(r)) = (self.fate.get_mut(id), self.rewritten.get_mut(id)) {
            *f = Fate::Rewritten;
            *r = Some(rewrite);
        }
    }

    /// A product whose only use is this node, and that nothing has rewritten or folded.
    fn sole_product(&self, id: NodeId) -> bool {
        matches!(self.g.node(id).op, Op::MatMul)
            && self.uses.get(id) == Some(&1)
            && self.fate(id) == Fate::Kept
    }

    /// Rewrites node `id` (still kept) when it is one of the forms of the module docs,
    /// folding the products it absorbs.
    fn rewrite_node(&mut self, id: NodeId, reassociate: bool) {
        let g = self.g;
        let node = g.node(id);
        match (&node.op, node.args.as_slice()) {
            (Op::Trace, &[product]) if self.sole_product(product) => {
                if let Some((absorbed, rewrite)) = self.trace_of_product(product, reassociate) {
                    if let Some(p) = absorbed {
                        self.fold(p);
                    }
                    self.fold(product);
                    self.rewrite_to(id, rewrite);
                }
            }
            // The whole product tree under this product, however parenthesised, as
            // one chain of its factors: its products with no other use are folded.
            (Op::MatMul, _) if reassociate => {
                let Some((factors, inner)) = tree(g, id, MAX_FACTORS, &|f| self.sole_product(f))
                else {
                    return;
                };
                if factors.len() >= 3 {
                    for f in inner {
                        self.fold(f);
                    }
                    self.rewrite_to(id, Rewrite::To(Op::Chain, factors));
                }
            }
            // The sum of a product tree: 𝟙ᵀ f₀ ⋯ f_{n−1} 𝟙, two more factors whose
            // 1s let the chain's order start from the ends with vectors.
            (Op::Sum, &[product]) if reassociate && self.sole_product(product) => {
                let Some((factors, inner)) =
                    tree(g, product, MAX_FACTORS - 2, &|f| self.sole_product(f))
                else {
                    return;
                };
                let Some((&first, rest)) = factors.split_first() else {
                    return;
                };
                for f in inner.into_iter().chain([product]) {
                    self.fold(f);
                }
                let rest = rest.to_vec();
                self.rewrite_to(
                    id,
                    Rewrite::SumChain {
                        first,
                        rest,
                        product,
                    },
                );
            }
            _ => {}
        }
    }

    /// The new form of `tr(p q)`, for `product` (`p * q`) a product with no other
    /// use: with `reassociate`, `⟨x, (r l)ᵀ⟩` when `p` or `q` is itself such a
    /// product `l x` or `x r` whose only active factor is `x` (that product is
    /// returned too: it is folded as well); else the trace from the product's
    /// diagonal entries only.
    fn trace_of_product(
        &self,
        product: NodeId,
        reassociate: bool,
    ) -> Option<(Option<NodeId>, Rewrite)> {
        let (p, q) = operands(self.g, product)?;
        let active = |id: NodeId| flag(&self.active, id);
        if reassociate && self.sole_product(p) {
            // tr(a x q) = ⟨x, (q a)ᵀ⟩
            match operands(self.g, p) {
                Some((a, x)) if active(x) && !active(a) && !active(q) => {
                    return Some((Some(p), Rewrite::Isolate { x, l: a, r: q }));
                }
                _ => {}
            }
        }
        if reassociate && self.sole_product(q) {
            // tr(p x b) = ⟨x, (b p)ᵀ⟩
            match operands(self.g, q) {
                Some((x, b)) if active(x) && !active(b) && !active(p) => {
                    return Some((Some(q), Rewrite::Isolate { x, l: p, r: b }));
                }
                _ => {}
            }
        }
        Some((None, Rewrite::To(Op::TraceMul, vec![p, q])))
    }
}

/// The two operands of binary node `id`.
fn operands(g: &Graph, id: NodeId) -> Option<(NodeId, NodeId)> {
    match *g.node(id).args.as_slice() {
        [a, b] => Some((a, b)),
        _ => None,
    }
}

/// The new id of old node `a` (`usize::MAX` for one not kept, which no kept node
/// uses).
fn new_id(map: &[NodeId], a: NodeId) -> NodeId {
    map.get(a).copied().unwrap_or(usize::MAX)
}

/// The graph of `g` as planned: folded nodes dropped, rewritten ones in their new
/// form (with the nodes that form needs just before them), ids renumbered.
fn rebuild(g: &Graph, fate: Vec<Fate>, rewritten: Vec<Option<Rewrite>>) -> Graph {
    // map[id]: the new id of old node `id`, for the nodes seen so far.
    let mut map = Vec::with_capacity(g.nodes.len());
    let mut nodes: Vec<Node> = Vec::with_capacity(g.nodes.len());
    for (node, (fate, rewrite)) in g.nodes.iter().zip(fate.into_iter().zip(rewritten)) {
        if fate == Fate::Folded {
            map.push(usize::MAX);
            continue;
        }
        let mut node = node.clone();
        match rewrite {
            Some(Rewrite::To(op, args)) => {
                node.op = op;
                node.args = args.iter().map(|&a| new_id(&map, a)).collect();
            }
            Some(Rewrite::SumChain {
                first,
                rest,
                product,
            }) => {
                node.args = vec![push_sum_chain(g, &map, &mut nodes, first, &rest, product)];
            }
            Some(Rewrite::Isolate { x, l, r }) => {
                let rl_t = push_transposed_product(g, &map, &mut nodes, &node, r, l);
                node.op = Op::Dot;
                node.args = vec![new_id(&map, x), rl_t];
            }
            None => node.args = node.args.iter().map(|&a| new_id(&map, a)).collect(),
        }
        node.op = node.op.renumbered(&|a| new_id(&map, a));
        map.push(nodes.len());
        nodes.push(node);
    }
    Graph {
        nodes,
        output: map.get(g.output).copied().unwrap_or(g.output),
        float: g.float.clone(),
        results: g
            .results
            .iter()
            .map(|&r| map.get(r).copied().unwrap_or(r))
            .collect(),
        items: g.items.clone(),
    }
}

/// The shape of node `id` (a scalar counts as a matrix: it has no factor to chain).
fn shape(g: &Graph, id: NodeId) -> Shape {
    match g.node(id).kind {
        Kind::Matrix(s) => s,
        Kind::Scalar => Shape::MATRIX,
    }
}

/// Pushes the chain `𝟙ᵀ first rest⋯ 𝟙` (old ids) onto `nodes`, with its two vectors
/// of ones, all with the span and text of `product`; returns the chain's id.
fn push_sum_chain(
    g: &Graph,
    map: &[NodeId],
    nodes: &mut Vec<Node>,
    first: NodeId,
    rest: &[NodeId],
    product: NodeId,
) -> NodeId {
    let last = rest.last().copied().unwrap_or(first);
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
            of: new_id(map, first),
            row: true,
        },
        Op::Ones {
            of: new_id(map, last),
            row: false,
        },
    );
    nodes.push(helper(row, vec![], Dim::One, shape(g, first).rows));
    let mut chain = vec![nodes.len() - 1];
    chain.extend([first].iter().chain(rest).map(|&f| new_id(map, f)));
    nodes.push(helper(col, vec![], shape(g, last).cols, Dim::One));
    chain.push(nodes.len() - 1);
    nodes.push(helper(Op::Chain, chain, Dim::One, Dim::One));
    nodes.len() - 1
}

/// Pushes `(r l)ᵀ` (old ids) onto `nodes`, with the span and text of `node` (the
/// trace it is for); returns its id.
fn push_transposed_product(
    g: &Graph,
    map: &[NodeId],
    nodes: &mut Vec<Node>,
    node: &Node,
    r: NodeId,
    l: NodeId,
) -> NodeId {
    let (rl, tr) = (
        Shape {
            rows: shape(g, r).rows,
            cols: shape(g, l).cols,
        },
        Shape {
            rows: shape(g, l).cols,
            cols: shape(g, r).rows,
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
    nodes.push(helper(Op::MatMul, vec![new_id(map, r), new_id(map, l)], rl));
    nodes.push(helper(Op::Transpose, vec![nodes.len() - 1], tr));
    nodes.len() - 1
}

/// The factors of the product tree under product `root`, left to right, descending
/// into the products `fold` accepts, at most `max` factors; and those products.
/// `None` when `root` is no binary node.
fn tree(
    g: &Graph,
    root: NodeId,
    max: usize,
    fold: &dyn Fn(NodeId) -> bool,
) -> Option<(Vec<NodeId>, Vec<NodeId>)> {
    let (mut factors, mut inner) = (Vec::new(), Vec::new());
    let (a, b) = operands(g, root)?;
    let mut stack = vec![b, a];
    while let Some(f) = stack.pop() {
        match operands(g, f) {
            Some((a, b)) if fold(f) && factors.len() + stack.len() + 2 <= max => {
                inner.push(f);
                stack.push(b);
                stack.push(a);
            }
            _ => factors.push(f),
        }
    }
    Some((factors, inner))
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

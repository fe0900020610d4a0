//! Under `#[grad(wrt = …, reassociate)]`: an inverse used only as a factor of
//! products becomes solves.
//!
//! | written | computed | saves |
//! | --- | --- | --- |
//! | `x.try_inverse().unwrap() * b` | `x⁻¹ b` by triangular solves with a factorisation of `x` (`(solve (factor x) b)`): Cholesky when `x` is exactly symmetric positive definite, else LU with partial pivoting | the inverse: `n³` multiply-adds become `n³/3` (`n³/6` by Cholesky) |
//! | `b * x.try_inverse().unwrap()` | `b x⁻¹ = (x⁻ᵀ bᵀ)ᵀ`, likewise (`(rsolve b (factor x))`) | the same |
//!
//! It applies to an `Inverse` node (`try_inverse().unwrap()` or `.expect(msg)`) of a
//! matrix whose size is known only at run time when every use of the inverse is as
//! one factor of a product `a * b` whose other factor is no inverse (so each product
//! is one solve of a value), and no such product is only traced
//! (`(x⁻¹ b).trace()` reads the product's diagonal only, which the trace rewrite of
//! [`crate::rewrite`] does with the inverse for `n²`, against `n² k` for the solve).
//! Every such inverse of the same matrix, named or written again, shares one
//! factorisation ([`Op::Factor`]), placed where the first of them was: it panics there,
//! with the same message, when the matrix is singular. Each product becomes an
//! [`Op::Solve`] or [`Op::SolveRight`] with the product's name and source text.
//!
//! The value changes by rounding only (a solve instead of a multiplication by the
//! computed inverse), hence only under `reassociate`. The gradients need no inverse
//! either: for `y = x⁻¹ b`, `b̄ = x⁻ᵀ ȳ` (a solve with the transposed factors) and
//! `x̄ = −b̄ yᵀ` (see `rules/matrix_fn.rs`).
//!
//! Static sizes (`Matrix3`, …) are left alone: there `try_inverse` is nalgebra's
//! closed form for n ≤ 4 (a few dozen operations, no pivot search, no branches), and
//! at the sizes a type fixes the `n³` an inverse costs is no more than the `n² k` of
//! the products themselves; the static backend keeps its straight nalgebra
//! expressions.
//!
//! A product with the inverse whose only use is a product with a vector on the other
//! side is regrouped so that the vector is what is solved: `a * x⁻¹ * v` (`v` a
//! column) is `a (x⁻¹ v)`, `n²` for the solve instead of `m n²` for `a x⁻¹`, and
//! `vᵀ * (x⁻¹ * c)` (`vᵀ` a row) is `(vᵀ x⁻¹) c`. The new solve names the whole
//! product in its panic messages. Otherwise the products stay as written: this runs
//! before [`crate::rewrite`], so a chain through a solve is no longer a chain of
//! products there (`a * x⁻¹ * c`, all matrices, is `(a x⁻¹) c`).

use crate::ir::{flag, Dim, Graph, Kind, Node, NodeId, Op, Shape};
use std::collections::HashMap;

/// `g` with every inverse used only as a factor of products replaced by one
/// factorisation and a solve per product (see the module docs), when `reassociate`;
/// `g` unchanged otherwise. Parameters keep their ids.
pub fn solves(g: &Graph, reassociate: bool) -> Graph {
    if !reassociate {
        return g.clone();
    }
    let uses = use_sites(g);
    let factored = factored_inverses(g, &uses);
    if !factored.contains(&true) {
        return g.clone();
    }
    let regroup = regroupings(g, &uses, &factored);
    rebuild(g, &factored, &regroup)
}

/// `uses[a]`: (consumer, argument position) of each use of node `a`.
type Uses = Vec<Vec<(NodeId, usize)>>;

/// The uses of every node of `g`.
fn use_sites(g: &Graph) -> Uses {
    let mut uses: Uses = vec![Vec::new(); g.nodes.len()];
    for (id, node) in g.nodes.iter().enumerate() {
        for (pos, &a) in node.args.iter().enumerate() {
            if let Some(u) = uses.get_mut(a) {
                u.push((id, pos));
            }
        }
    }
    uses
}

/// The uses of node `id`.
fn uses_of(uses: &Uses, id: NodeId) -> &[(NodeId, usize)] {
    uses.get(id).map_or(&[], Vec::as_slice)
}

/// `factored[id]`: node `id` is an inverse of a dynamic matrix used only as one
/// factor of products whose other factor is no inverse and which are not only
/// traced: it becomes a factorisation.
fn factored_inverses(g: &Graph, uses: &Uses) -> Vec<bool> {
    let only_traced = |p: NodeId| {
        p != g.output && matches!(uses_of(uses, p), [(c, _)] if matches!(g.node(*c).op, Op::Trace))
    };
    let dynamic = |id: NodeId| matches!(g.node(id).kind, Kind::Matrix(s) if !s.is_static());
    g.nodes
        .iter()
        .enumerate()
        .map(|(id, node)| {
            let (Op::Inverse(_), [x]) = (&node.op, node.args.as_slice()) else {
                return false;
            };
            let uses = uses_of(uses, id);
            id != g.output
                && dynamic(id)
                && dynamic(*x)
                && !uses.is_empty()
                && uses.iter().all(|&(c, pos)| {
                    let prod = g.node(c);
                    // The other factor is no inverse (of this matrix or another):
                    // one solve per product, and its right-hand side a value.
                    let other = match *prod.args.as_slice() {
                        [a, b] => Some(if pos == 0 { b } else { a }),
                        _ => None,
                    };
                    matches!(prod.op, Op::MatMul)
                        && other.is_some_and(|o| !matches!(g.node(o).op, Op::Inverse(_)))
                        && !only_traced(c)
                })
        })
        .collect()
}

/// The operands of node `p` when it is a product.
fn product_operands(g: &Graph, p: NodeId) -> Option<(NodeId, NodeId)> {
    match (&g.node(p).op, g.node(p).args.as_slice()) {
        (Op::MatMul, &[u, w]) => Some((u, w)),
        _ => None,
    }
}

/// A product with the inverse whose only use is a product with a vector on the
/// other side: `(a x⁻¹) v` is `a (x⁻¹ v)` (a vector solved, not a's rows), and
/// `vᵀ (x⁻¹ c)` is `(vᵀ x⁻¹) c`. `regroup[q] = (p, left)`: q's factor p is folded.
fn regroupings(g: &Graph, uses: &Uses, factored: &[bool]) -> Vec<Option<(NodeId, bool)>> {
    let sole_use = |p: NodeId, q: NodeId, pos: usize| {
        p != g.output && uses_of(uses, p) == [(q, pos)].as_slice()
    };
    let (one_col, one_row) = (
        |id: NodeId| matches!(g.node(id).kind, Kind::Matrix(s) if s.cols == Dim::One),
        |id: NodeId| matches!(g.node(id).kind, Kind::Matrix(s) if s.rows == Dim::One),
    );
    let mut regroup = vec![None; g.nodes.len()];
    for ((q, node), regroup) in g.nodes.iter().enumerate().zip(&mut regroup) {
        let (Op::MatMul, &[l, r]) = (&node.op, node.args.as_slice()) else {
            continue;
        };
        match (product_operands(g, l), product_operands(g, r)) {
            (Some((_, inv)), _) if flag(factored, inv) && sole_use(l, q, 0) && one_col(r) => {
                *regroup = Some((l, true));
            }
            (_, Some((inv, _))) if flag(factored, inv) && sole_use(r, q, 1) && one_row(l) => {
                *regroup = Some((r, false));
            }
            _ => {}
        }
    }
    regroup
}

/// The new id of old node `a` (`usize::MAX` for one not kept, which no kept node
/// uses).
fn new_id(map: &[NodeId], a: NodeId) -> NodeId {
    map.get(a).copied().unwrap_or(usize::MAX)
}

/// The graph of `g` with the inverses `factored` made factorisations (one per
/// matrix), the products with them solves, and the products `regroup` says
/// regrouped; ids renumbered.
fn rebuild(g: &Graph, factored: &[bool], regroup: &[Option<(NodeId, bool)>]) -> Graph {
    let folded: Vec<bool> = (0..g.nodes.len())
        .map(|id| regroup.iter().flatten().any(|&(p, _)| p == id))
        .collect();
    // map[id]: the new id of old node `id`, for the nodes seen so far.
    let mut map: Vec<NodeId> = Vec::with_capacity(g.nodes.len());
    // The factorisation of each (old) matrix, by the (new) id of its Factor node.
    let mut lu_of: HashMap<NodeId, NodeId> = HashMap::new();
    let mut nodes: Vec<Node> = Vec::with_capacity(g.nodes.len());
    for (id, node) in g.nodes.iter().enumerate() {
        if flag(&folded, id) {
            map.push(usize::MAX);
            continue;
        }
        let mut node = node.clone();
        if let Some(&Some((p, left))) = regroup.get(id) {
            if let Some(outer) = push_regrouped_solve(g, &map, &mut nodes, &node, p, left) {
                node.args = outer;
                map.push(nodes.len());
                nodes.push(node);
                continue;
            }
        }
        if flag(factored, id) {
            let Some(&x) = node.args.first() else {
                map.push(usize::MAX);
                continue;
            };
            if let Some(&lu) = lu_of.get(&x) {
                map.push(lu);
                continue;
            }
            if let Op::Inverse(msg) = node.op {
                node.op = Op::Factor(msg);
            }
            node.kind = g.node(x).kind;
            // The factors stand for `x`, not for the inverse the user may have named.
            node.name = None;
            lu_of.insert(x, nodes.len());
        } else if let (Op::MatMul, &[a, b]) = (&node.op, node.args.as_slice()) {
            if flag(factored, a) {
                node.op = Op::Solve;
            } else if flag(factored, b) {
                node.op = Op::SolveRight;
            }
        }
        node.args = node.args.iter().map(|&a| new_id(&map, a)).collect();
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

/// For product `node` regrouped with its factor `p` (see [`regroupings`]), pushes the
/// solve of the inner product onto `nodes` and returns the outer product's new
/// arguments: `q = (a x⁻¹) c → a (x⁻¹ c)` when `left`, `q = a (x⁻¹ c) → (a x⁻¹) c`
/// otherwise. `None` (nothing pushed) when `node` or `p` is no binary product.
fn push_regrouped_solve(
    g: &Graph,
    map: &[NodeId],
    nodes: &mut Vec<Node>,
    node: &Node,
    p: NodeId,
    left: bool,
) -> Option<Vec<NodeId>> {
    // p = (a, inv) when `left`, else (inv, c); `other` is q's other factor.
    let (p0, p1) = product_operands(g, p)?;
    let other = *node.args.get(usize::from(left))?;
    let shape = |id: NodeId| match g.node(id).kind {
        Kind::Matrix(s) => s,
        Kind::Scalar => Shape::MATRIX,
    };
    let m = |id: NodeId| new_id(map, id);
    let (op, args, kind, outer) = if left {
        let s = Shape {
            rows: shape(p1).rows,
            cols: shape(other).cols,
        };
        (
            Op::Solve,
            vec![m(p1), m(other)],
            s,
            vec![m(p0), nodes.len()],
        )
    } else {
        let s = Shape {
            rows: shape(other).rows,
            cols: shape(p0).cols,
        };
        (
            Op::SolveRight,
            vec![m(other), m(p0)],
            s,
            vec![nodes.len(), m(p1)],
        )
    };
    nodes.push(Node {
        op,
        args,
        kind: Kind::Matrix(kind),
        span: node.span,
        text: node.text.clone(),
        name: None,
    });
    Some(outer)
}

#[cfg(test)]
mod tests {
    use crate::ir::Op;
    use quote::quote;

    /// `(output s-expression, number of Factor nodes)` of `body` over `a`, `b`, `x`
    /// (matrices), `v` (a vector) and `m` (a `Matrix3`), derived with `attr`.
    fn solved(attr: proc_macro2::TokenStream, body: &str) -> (String, usize) {
        let src = format!(
            "fn f(a: &DMatrix<f64>, b: &DMatrix<f64>, x: &DMatrix<f64>, v: &DVector<f64>, m: &Matrix3<f64>) -> f64 {{ {body} }}"
        );
        let item: syn::ItemFn = syn::parse_str(&src).expect("a function");
        let d = crate::derive(attr, &item).unwrap_or_else(|_| panic!("`{body}` derives"));
        let lus = d
            .graph
            .nodes
            .iter()
            .filter(|n| matches!(n.op, Op::Factor(_)))
            .count();
        (d.graph.sexpr(d.graph.output), lus)
    }

    #[test]
    fn inverses_in_products_become_solves() {
        for (body, want, lus) in [
            (
                "(x.try_inverse().unwrap() * b).norm_squared()",
                "(norm2 (solve (factor x) b))",
                1,
            ),
            (
                "(b * x.try_inverse().expect(\"s\")).norm()",
                "(norm (rsolve b (factor x)))",
                1,
            ),
            (
                "ln_det(x) + (v.transpose() * x.try_inverse().unwrap() * v)[(0, 0)]",
                "(+ (ln_det x) (idx00 (matmul (t v) (solve (factor x) v))))",
                1,
            ),
            (
                "(x.try_inverse().unwrap() * v).norm()",
                "(norm (solve (factor x) v))",
                1,
            ),
            // One factorisation for every product with the inverse, named or written twice.
            (
                "let xi = x.try_inverse().unwrap(); (xi * a).norm() + (b * xi).norm()",
                "(+ (norm (solve (factor x) a)) (norm (rsolve b (factor x))))",
                1,
            ),
            (
                "(x.try_inverse().unwrap() * a).norm() + (b * x.try_inverse().unwrap()).norm()",
                "(+ (norm (solve (factor x) a)) (norm (rsolve b (factor x))))",
                1,
            ),
            // A vector on one side is what is solved.
            (
                "(a * x.try_inverse().unwrap() * v).norm()",
                "(norm (matmul a (solve (factor x) v)))",
                1,
            ),
            (
                "(v.transpose() * (x.try_inverse().unwrap() * a)).norm()",
                "(norm (matmul (rsolve (t v) (factor x)) a))",
                1,
            ),
            (
                "let p = a * x.try_inverse().unwrap(); (p * v).norm() + p.norm()",
                "(+ (norm (matmul (rsolve a (factor x)) v)) (norm (rsolve a (factor x))))",
                1,
            ),
            // Otherwise as written; a chain through a solve is not a chain of products.
            (
                "(a * x.try_inverse().unwrap() * b).norm()",
                "(norm (matmul (rsolve a (factor x)) b))",
                1,
            ),
        ] {
            let got = solved(quote!(wrt = (x, b), reassociate), body);
            assert_eq!(got, (want.to_string(), lus), "{body}");
        }
    }

    #[test]
    fn other_inverses_stay() {
        let kept = [
            // Used as a value, not only in products.
            (
                "let xi = x.try_inverse().unwrap(); (xi * a).norm() + xi.norm()",
                "(+ (norm (matmul (inv x) a)) (norm (inv x)))",
            ),
            // Both factors of one product.
            (
                "let xi = x.try_inverse().unwrap(); (xi * xi).norm()",
                "(norm (matmul (inv x) (inv x)))",
            ),
            // Inverses multiplied together.
            (
                "(b.try_inverse().unwrap() * x.try_inverse().unwrap() * v).norm()",
                "(norm (chain (inv b) (inv x) v))",
            ),
            // Traced: the diagonal of the product only.
            (
                "(x.try_inverse().unwrap() * b).trace()",
                "(trmul (inv x) b)",
            ),
            // Static sizes.
            (
                "(m.try_inverse().unwrap() * m).norm() + x.norm()",
                "(+ (norm (matmul (inv m) m)) (norm x))",
            ),
        ];
        for (body, want) in kept {
            let got = solved(quote!(wrt = x, reassociate), body);
            assert_eq!(got, (want.to_string(), 0), "{body}");
        }
        // Without `reassociate` the value is computed as written.
        assert_eq!(
            solved(
                quote!(wrt = x),
                "(x.try_inverse().unwrap() * b).norm_squared()"
            ),
            ("(norm2 (matmul (inv x) b))".to_string(), 0)
        );
    }
}

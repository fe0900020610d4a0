//! Second order, reverse over forward: the tangent graph.
//!
//! [`tangent_graph`] copies a graph and, node by node, adds the nodes of its
//! tangent (each rule's [`Rule::tangent`](crate::rules::Rule::tangent), a JVP built
//! from existing operations), with one new parameter per `wrt` variable: its
//! direction v. The new graph's output is the directional derivative
//!
//! ```text
//! T(w, v, data) = ḟ = ⟨∇f(w), v⟩,
//! ```
//!
//! a scalar, so the existing reverse sweep applies to it unchanged: with respect to
//! the directions it gives ∂T/∂v = ∇f(w), the gradient, and with respect to the
//! variables ∂T/∂w = ∇²f(w) v, the Hessian-vector product. The value f is a node of
//! the new graph ([`TangentGraph::value`]), which the companions return.

use crate::ir::{Closure, Graph, Kind, Node, NodeId, Op};
use crate::parse::signature::{Param, Signature};
use crate::rules::{self, Site, Tangents};
use crate::sym::Sym;
use proc_macro2::Span;

/// A graph with its tangent: what `NAME_hvp` is the gradient of.
pub struct TangentGraph {
    /// The copy of the graph, its directions (parameters after the original ones),
    /// and the tangent nodes; its output is ḟ.
    pub graph: Graph,
    /// The node of the original output, f.
    pub value: NodeId,
    /// For each node of the original graph, the node of its tangent (`None` for a
    /// constant): the direction for a variable.
    pub tangents: Vec<Option<NodeId>>,
}

/// The signature of the tangent graph: the original parameters, then one direction
/// per `wrt` variable, of the variable's type (by reference for a matrix, by value
/// for a scalar), named `v_<name>` (with leading
/// underscores while that name is taken). Returns it with the `wrt` list of the
/// reverse sweep over the tangent graph: the directions (whose gradient is ∇f), then
/// the variables (whose gradient is the Hessian-vector product), so `_hvp_into`'s
/// outputs come in the order `(g₁ … gₖ, h₁ … hₖ)`.
pub fn signature(sig: &Signature, wrt: &[usize]) -> (Signature, Vec<usize>) {
    let mut params = sig.params.clone();
    let mut dirs = Vec::new();
    for &i in wrt {
        let Some(p) = sig.params.get(i) else { continue };
        let mut name = format!("v_{}", p.name);
        while params.iter().any(|q| q.name == name) {
            name.insert(0, '_');
        }
        // SPEC §10: by reference for matrices and vectors, by value for scalars,
        // whichever way the variable itself is taken.
        let owned = &p.owned;
        let (ty, by_ref): (syn::Type, bool) = if p.kind.is_matrix() {
            (syn::parse_quote!(&#owned), true)
        } else {
            (syn::parse_quote!(#owned), false)
        };
        dirs.push(params.len());
        params.push(Param {
            name: syn::Ident::new(&name, p.name.span()),
            ty,
            by_ref,
            mutable: false,
            ..p.clone()
        });
    }
    let mut order = dirs;
    order.extend_from_slice(wrt);
    (
        Signature {
            params,
            float: sig.float.clone(),
        },
        order,
    )
}

/// The tangent graph of `g` for the variables `wrt` (parameter indices), the
/// direction of `wrt[k]` named `names[k]` (see [`signature`]): it is parameter
/// `nparams + k`, `nparams` the number of `g`'s parameters. An operation without a
/// tangent is an error at its span.
pub fn tangent_graph(
    g: &Graph,
    wrt: &[usize],
    names: &[String],
) -> Result<TangentGraph, Vec<(Span, String)>> {
    let nparams = g
        .nodes
        .iter()
        .take_while(|n| matches!(n.op, Op::Param(_)))
        .count();
    let mut b = Build {
        g,
        nodes: Vec::new(),
        value: Vec::with_capacity(g.nodes.len()),
        tangent: Vec::with_capacity(g.nodes.len()),
        directions: Vec::new(),
        current: 0,
    };
    // The parameters, then the directions: parameter `i` stays node `i`.
    for node in g.nodes.iter().take(nparams) {
        b.nodes.push(node.clone());
    }
    for (k, &i) in wrt.iter().enumerate() {
        let Some(p) = g.nodes.get(i) else { continue };
        let name = names.get(k).cloned().unwrap_or_else(|| format!("v{k}"));
        b.directions.push((i, b.nodes.len()));
        b.nodes.push(Node {
            op: Op::Param(nparams + k),
            args: Vec::new(),
            kind: p.kind,
            span: p.span,
            text: name.clone(),
            name: Some(name),
        });
    }
    let mut errors = Vec::new();
    for (id, node) in g.nodes.iter().enumerate() {
        b.current = id;
        let value = if id < nparams {
            id
        } else {
            let op = remap_op(&node.op, &b.value);
            let args = node.args.iter().map(|&a| b.value(a)).collect();
            b.nodes.push(Node {
                op,
                args,
                ..node.clone()
            });
            b.nodes.len() - 1
        };
        b.value.push(value);
        let needed =
            matches!(node.op, Op::Param(_)) || node.args.iter().any(|&a| b.tangent(a).is_some());
        // A closure calling a `#[custom_adjoint]` function: its tangent would need the
        // derivative of the user's adjoint, which matgrad does not have.
        let user_closure = match &node.op {
            Op::Map(c) | Op::ZipMap(c) | Op::Expr(c) => {
                c.body.any(&|x| matches!(x, crate::sym::Sym::User(..)))
            }
            _ => false,
        };
        if needed && user_closure {
            errors.push((
                node.span,
                format!(
                    "`{}`: {}",
                    node.text,
                    crate::rules::scalar::USER_SECOND_ORDER
                ),
            ));
            b.tangent.push(None);
            continue;
        }
        let tangent = if needed {
            match rules::rule(&node.op).tangent(Site::new(g, id), &mut b) {
                Ok(t) => t,
                Err(e) => {
                    errors.push((node.span, format!("`{}`: {}", node.text, e.0)));
                    None
                }
            }
        } else {
            None
        };
        b.tangent.push(tangent);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let value = b.value(g.output);
    b.current = g.output;
    let output = match b.tangent(g.output) {
        Some(t) => t,
        None => b.push(Op::Lit(0.0), Vec::new()),
    };
    let tangent = std::mem::take(&mut b.tangent);
    Ok(TangentGraph {
        tangents: tangent,
        graph: Graph {
            nodes: b.nodes,
            output,
            float: g.float.clone(),
            results: Vec::new(),
            items: g.items.clone(),
        },
        value,
    })
}

/// An operation of the original graph with the node ids it holds (captured scalars of
/// closures, the size of a vector of ones) made the tangent graph's.
fn remap_op(op: &Op, value: &[NodeId]) -> Op {
    let at = |id: NodeId| value.get(id).copied().unwrap_or(id);
    let body = |c: &Closure| Closure {
        body: c.body.map_leaves(&|x| match x {
            Sym::Val(id) => Some(Sym::Val(at(*id))),
            _ => None,
        }),
    };
    match op {
        Op::Map(c) => Op::Map(body(c)),
        Op::ZipMap(c) => Op::ZipMap(body(c)),
        Op::Expr(c) => Op::Expr(body(c)),
        Op::Ones { of, row } => Op::Ones {
            of: at(*of),
            row: *row,
        },
        other => other.clone(),
    }
}

/// The tangent graph under construction.
struct Build<'a> {
    g: &'a Graph,
    nodes: Vec<Node>,
    /// The tangent graph's node of each original node's value.
    value: Vec<NodeId>,
    /// The tangent of each original node.
    tangent: Vec<Option<NodeId>>,
    /// `(parameter, its direction's node)`.
    directions: Vec<(usize, NodeId)>,
    /// The original node whose tangent is being built (its span, text and
    /// declared kind go to the nodes it adds).
    current: NodeId,
}

impl Tangents for Build<'_> {
    fn value(&self, id: NodeId) -> NodeId {
        self.value.get(id).copied().unwrap_or(id)
    }
    fn tangent(&self, id: NodeId) -> Option<NodeId> {
        self.tangent.get(id).copied().flatten()
    }
    fn direction(&self, i: usize) -> Option<NodeId> {
        self.directions
            .iter()
            .find(|(p, _)| *p == i)
            .map(|(_, d)| *d)
    }
    fn push(&mut self, op: Op, args: Vec<NodeId>) -> NodeId {
        let at = self.g.node(self.current);
        let kind = rules::rule(&op).shape().kind(
            &args,
            |a| self.nodes.get(a).map_or(Kind::Scalar, |n| n.kind),
            at.kind,
        );
        self.nodes.push(Node {
            op,
            args,
            kind,
            span: at.span,
            text: at.text.clone(),
            name: None,
        });
        self.nodes.len() - 1
    }
    fn kind(&self, id: NodeId) -> Kind {
        self.nodes.get(id).map_or(Kind::Scalar, |n| n.kind)
    }
}

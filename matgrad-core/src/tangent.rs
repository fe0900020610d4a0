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
    /// For each node of the original graph, the node of its value.
    pub values: Vec<NodeId>,
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
    let (mut b, nparams) = Build::start(g, wrt, names);
    let mut errors = Vec::new();
    // The tangents of run-time loops, by the original loop: they carry the values
    // too, so the values are read from them (one loop, not two).
    let mut tangent_loops: Vec<(NodeId, NodeId)> = Vec::new();
    for (id, node) in g.nodes.iter().enumerate() {
        if id >= nparams {
            if let Some(value) = b.loop_value(id, node, &mut tangent_loops, &mut errors) {
                if let Some(slot) = b.value.get_mut(id) {
                    *slot = value;
                }
                continue;
            }
        }
        let value = if id < nparams {
            id
        } else {
            b.push_value(id, node)
        };
        b.value.push(value);
        b.push_tangent(id, &mut errors);
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
            items: b.items,
        },
        value,
        values: b.value,
    })
}

/// The step function of a run-time loop's tangent (see
/// [`crate::rules::looped`]): the loop `c ← step(c, k, t)` followed along a
/// direction is the loop carrying `(c, ċ)` and reading `(k, k̇)`, whose step is the
/// tangent graph of the original step function, `(c', ċ')`. With directions for
/// the carried values, the active reads and the seeds `s`, that graph's output
///
/// ```text
/// Σ ⟨ċ'ᵢ, sᵢ⟩ + Σ ⟨c'ᵢ, ṡᵢ⟩
/// ```
///
/// is again a step function's seeded value, carrying `(c, ċ)` with the seeds
/// `(ṡ, s)`. So `#[grad(.., loop_step = (..), loop_tangent)]` on the original step
/// function's tokens (under a new name) gives the tangent loop's `_step_into` and
/// `_back_into` by the ordinary route, once its parameters are in a step function's
/// order ([`loop_step_signature`]).
pub struct LoopStep {
    /// The tangent graph, its parameters in step order, its results `(c', ċ')`.
    pub graph: Graph,
    /// Its signature.
    pub sig: Signature,
    /// Its variables: the carried values and their directions, the active reads and
    /// their directions (parameters `0..wrt.len()`).
    pub wrt: Vec<usize>,
}

/// The signature of a step function's tangent (`sig` the step function's, `wrt`
/// its variables, the first `carried` of them carried, the last `carried`
/// parameters the seeds): the parameters
///
/// ```text
/// c…, ċ…, k…, k̇…, (other reads, counts, flags, the index), ṡ…, s…
/// ```
///
/// with its variables (`0..2(carried + active)`); also the tangent graph's
/// variables (`wrt`, then the seeds) and, for each parameter of the new signature,
/// its index in [`signature`]'s order (the parameters, then one direction per
/// variable).
pub fn loop_step_signature(
    sig: &Signature,
    wrt: &[usize],
    carried: usize,
) -> (Signature, Vec<usize>, Vec<usize>, Vec<usize>) {
    let np = sig.params.len();
    let seeds: Vec<usize> = (np.saturating_sub(carried)..np).collect();
    let mut twrt = wrt.to_vec();
    twrt.extend(&seeds);
    let (full, _) = signature(sig, &twrt);
    let dir = |i: usize| np + twrt.iter().position(|&w| w == i).unwrap_or(0);
    let (c, a) = wrt.split_at(carried.min(wrt.len()));
    let mut order: Vec<usize> = Vec::with_capacity(full.params.len());
    order.extend(c);
    order.extend(c.iter().map(|&i| dir(i)));
    order.extend(a);
    order.extend(a.iter().map(|&i| dir(i)));
    order.extend((0..np).filter(|i| !twrt.contains(i)));
    order.extend(seeds.iter().map(|&i| dir(i)));
    order.extend(&seeds);
    let params = order
        .iter()
        .filter_map(|&o| full.params.get(o).cloned())
        .collect();
    (
        Signature {
            params,
            float: sig.float.clone(),
        },
        (0..2 * wrt.len()).collect(),
        twrt,
        order,
    )
}

/// The step function of a run-time loop's tangent, from the original step
/// function's graph `g` (its [`Graph::results`] the carried values), signature and
/// variables (see [`LoopStep`]). An operation without a tangent is an error at its
/// span.
pub fn loop_step(
    g: &Graph,
    sig: &Signature,
    wrt: &[usize],
) -> Result<LoopStep, Vec<(Span, String)>> {
    let carried = g.results.len();
    let (tsig, twrt_new, twrt, order) = loop_step_signature(sig, wrt, carried);
    let np = sig.params.len();
    let names: Vec<String> = (0..twrt.len())
        .filter_map(|k| {
            let full = np + k;
            let at = order.iter().position(|&o| o == full)?;
            tsig.params.get(at).map(|p| p.name.to_string())
        })
        .collect();
    let t = tangent_graph(g, &twrt, &names)?;
    let mut graph = t.graph;
    // The results: the carried values, then their tangents (zero where constant).
    let mut results = Vec::with_capacity(2 * carried);
    let mut tangents = Vec::with_capacity(carried);
    for &r in &g.results {
        let value = t.values.get(r).copied().unwrap_or(r);
        results.push(value);
        let tangent = match t.tangents.get(r).copied().flatten() {
            Some(d) => d,
            None => {
                let like = graph.node(value).clone();
                let (op, args) = match like.kind {
                    Kind::Matrix(_) => (
                        Op::Map(Closure {
                            body: Sym::Lit(0.0),
                        }),
                        vec![value],
                    ),
                    Kind::Scalar => (Op::Lit(0.0), Vec::new()),
                };
                graph.nodes.push(Node {
                    op,
                    args,
                    name: None,
                    ..like
                });
                graph.nodes.len() - 1
            }
        };
        tangents.push(tangent);
    }
    results.extend(tangents);
    // The parameters in step order: node `j < P` becomes parameter `j`.
    let p = order.len();
    let mut new_of = vec![0; graph.nodes.len()];
    for (id, slot) in new_of.iter_mut().enumerate() {
        *slot = id;
    }
    for (j, &o) in order.iter().enumerate() {
        if let Some(slot) = new_of.get_mut(o) {
            *slot = j;
        }
    }
    let at = |id: NodeId| new_of.get(id).copied().unwrap_or(id);
    let mut nodes: Vec<Node> = Vec::with_capacity(graph.nodes.len());
    for &o in &order {
        let mut n = graph.node(o).clone();
        n.op = Op::Param(nodes.len());
        nodes.push(n);
    }
    for n in graph.nodes.iter().skip(p) {
        nodes.push(Node {
            op: remap_op(&n.op, &new_of),
            args: n.args.iter().map(|&a| at(a)).collect(),
            ..n.clone()
        });
    }
    Ok(LoopStep {
        graph: Graph {
            output: at(graph.output),
            results: results.into_iter().map(at).collect(),
            nodes,
            float: graph.float,
            items: graph.items,
        },
        sig: tsig,
        wrt: twrt_new,
    })
}

/// The graph of a forward-mode Jacobian (`#[jacobian]`, see [`crate::jacobian`]):
/// every node of `g` once (the values), then, per group of `wrt` variables, the
/// tangents along those variables' directions alone, so that a sweep along a unit
/// direction of one variable recomputes only its group's nodes.
pub struct JvpGraph {
    /// The parameters of `g`, one direction per `wrt` variable (as
    /// [`tangent_graph`] numbers them), a copy of every other node of `g`, then the
    /// sections. Its output is the copy of `g`'s.
    pub graph: Graph,
    /// `value[id]`: the node of `g`'s node `id` here.
    pub value: Vec<NodeId>,
    /// One per group, in order.
    pub sections: Vec<Section>,
}

/// The tangent nodes of one group of variables in a [`JvpGraph`].
pub struct Section {
    /// The variables (parameter indices) whose directions the section follows.
    pub params: Vec<usize>,
    /// Its nodes: `start..end`.
    pub start: NodeId,
    /// One past its last node.
    pub end: NodeId,
    /// The tangent of the node `of` given to [`jvp_graph`] along those directions
    /// (`None`: it does not depend on them).
    pub tangent: Option<NodeId>,
}

/// The [`JvpGraph`] of `g` for the variables `wrt` (directions named `names`, as
/// for [`tangent_graph`]), with one section per group of `groups` (each a list of
/// `wrt` variables), each holding the tangents of the nodes up to `of`. An operation
/// without a tangent is an error at its span. With `hoist`, the parts of entrywise
/// tangents that do not depend on the direction are nodes of their own, outside the
/// sweeps (see `Build::hoisted`).
pub fn jvp_graph(
    g: &Graph,
    wrt: &[usize],
    names: &[String],
    groups: &[Vec<usize>],
    of: NodeId,
    hoist: bool,
) -> Result<JvpGraph, Vec<(Span, String)>> {
    let (mut b, nparams) = Build::start(g, wrt, names);
    b.hoist = hoist;
    let all = std::mem::take(&mut b.directions);
    for (id, node) in g.nodes.iter().enumerate() {
        let value = if id < nparams {
            id
        } else {
            b.push_value(id, node)
        };
        b.value.push(value);
    }
    let mut errors = Vec::new();
    let mut sections = Vec::new();
    for group in groups {
        b.directions = all
            .iter()
            .filter(|(p, _)| group.contains(p))
            .copied()
            .collect();
        b.tangent.clear();
        let start = b.nodes.len();
        for id in 0..=of.min(g.nodes.len().saturating_sub(1)) {
            b.push_tangent(id, &mut errors);
        }
        sections.push(Section {
            params: group.clone(),
            start,
            end: b.nodes.len(),
            tangent: b.tangent(of),
        });
    }
    if !errors.is_empty() {
        errors.dedup_by(|a, b| a.1 == b.1);
        return Err(errors);
    }
    let output = b.value(g.output);
    Ok(JvpGraph {
        graph: Graph {
            nodes: b.nodes,
            output,
            float: g.float.clone(),
            results: Vec::new(),
            items: b.items,
        },
        value: b.value,
        sections,
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
    /// The number of parameters of the original graph: parameters from it on are
    /// directions.
    nparams: usize,
    /// `on_direction[id]`: node `id` depends on a direction.
    on_direction: Vec<bool>,
    /// Hoist the direction-independent part of entrywise tangents into nodes of
    /// their own (see [`Build::hoisted`]): for sweeps along many directions.
    hoist: bool,
    /// The original graph's items, then those the tangents add (the step functions
    /// of run-time loops' tangents).
    items: Vec<proc_macro2::TokenStream>,
}

impl<'a> Build<'a> {
    /// The parameters of `g`, then one direction per `wrt` variable (parameter `i`
    /// stays node `i`; the direction of `wrt[k]` is parameter `nparams + k`, named
    /// `names[k]`), with no value or tangent recorded yet; and `nparams`.
    fn start(g: &'a Graph, wrt: &[usize], names: &[String]) -> (Build<'a>, usize) {
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
            nparams,
            on_direction: Vec::new(),
            hoist: false,
            items: g.items.clone(),
        };
        for node in g.nodes.iter().take(nparams) {
            b.add(node.clone());
        }
        for (k, &i) in wrt.iter().enumerate() {
            let Some(p) = g.nodes.get(i) else { continue };
            let name = names.get(k).cloned().unwrap_or_else(|| format!("v{k}"));
            b.directions.push((i, b.nodes.len()));
            b.add(Node {
                op: Op::Param(nparams + k),
                args: Vec::new(),
                kind: p.kind,
                span: p.span,
                text: name.clone(),
                name: Some(name),
            });
        }
        (b, nparams)
    }
}

impl Build<'_> {
    /// A run-time loop (node `id`) with a tangent, or a carried value after one
    /// (`LoopOut`): its tangent pushed, and its value read from the loop's tangent,
    /// which carries the values beside their tangents; `None` for any other node.
    /// `tangent_loops` pairs each such loop with its tangent.
    fn loop_value(
        &mut self,
        id: NodeId,
        node: &Node,
        tangent_loops: &mut Vec<(NodeId, NodeId)>,
        errors: &mut Vec<(Span, String)>,
    ) -> Option<NodeId> {
        let (j, of) = match &node.op {
            Op::Loop(l) if node.args.iter().any(|&a| self.tangent(a).is_some()) => {
                // Its rule reads its arguments' values and tangents, not its own.
                self.value.push(id);
                self.push_tangent(id, errors);
                let Some(tl) = self.tangent(id) else {
                    // (An error is reported.)
                    return Some(id);
                };
                tangent_loops.push((id, tl));
                (l.result, tl)
            }
            Op::LoopOut(j) => {
                let loop_id = *node.args.first()?;
                let &(_, tl) = tangent_loops.iter().find(|(l, _)| *l == loop_id)?;
                self.value.push(id);
                self.push_tangent(id, errors);
                (*j, tl)
            }
            _ => return None,
        };
        self.current = id;
        Some(self.push_raw(Op::LoopOut(j), vec![of]))
    }

    /// Pushes the copy of the original node `id` (its operation reading the copies'
    /// ids) and returns its id.
    fn push_value(&mut self, id: NodeId, node: &Node) -> NodeId {
        self.current = id;
        let op = remap_op(&node.op, &self.value);
        let args = node.args.iter().map(|&a| self.value(a)).collect();
        self.add(Node {
            op,
            args,
            ..node.clone()
        })
    }

    /// Appends `node`, recording whether it depends on a direction.
    fn add(&mut self, node: Node) -> NodeId {
        let dep = match node.op {
            Op::Param(i) => i >= self.nparams,
            _ => node.args.iter().any(|&a| self.on(a)),
        };
        self.on_direction.push(dep);
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    fn on(&self, id: NodeId) -> bool {
        crate::ir::flag(&self.on_direction, id)
    }

    /// `op(args)` with its kind from the rule's shape (the current node's for a
    /// declared one).
    fn push_raw(&mut self, op: Op, args: Vec<NodeId>) -> NodeId {
        let at = self.g.node(self.current);
        let kind = rules::rule(&op).shape().kind(
            &args,
            |a| self.nodes.get(a).map_or(Kind::Scalar, |n| n.kind),
            at.kind,
        );
        let (span, text) = (at.span, at.text.clone());
        self.add(Node {
            op,
            args,
            kind,
            span,
            text,
            name: None,
        })
    }

    /// An entrywise node of `body` over `operands` (a `map` in [`Sym::Var`] for one,
    /// a `zip_map` in [`Sym::Arg`]s for two), its captured scalars the
    /// [`Sym::Val`]s it reads.
    fn entrywise_raw(&mut self, operands: &[NodeId], body: Sym) -> NodeId {
        let body = body.simplified();
        let mut args = operands.to_vec();
        args.extend(crate::rules::tangent::vals(&body));
        let c = Closure { body };
        match operands.len() {
            1 => self.push_raw(Op::Map(c), args),
            _ => self.push_raw(Op::ZipMap(c), args),
        }
    }

    /// An entrywise tangent `op(args)` (a `map` over a value, the tangents of its
    /// captured scalars in the closure; or a `zip_map` of a value and a tangent)
    /// split for many sweeps: the closure is linear in the tangents, so it is
    /// `Σ_L C_L(a) L`, and each coefficient `C_L`, a closure of the value `a` alone,
    /// becomes a node of its own, computed once outside the sweeps; a sweep then
    /// only scales and adds (`Σ_L C_L ⊙ L`). `None` when the node is not of that
    /// form or no coefficient is dearer than a multiply-add (`exp`, a quotient, …):
    /// the one fused pass is cheaper then.
    fn hoisted(&mut self, op: &Op, args: &[NodeId]) -> Option<NodeId> {
        let (c, operands) = match op {
            Op::Map(c) => (c, 1),
            Op::ZipMap(c) => (c, 2),
            _ => return None,
        };
        let ops = args.get(..operands)?;
        let caps = args.get(operands..)?;
        // One operand a value (read as `Var` in the coefficients), the other (if any)
        // a tangent.
        let (value_at, tangent_at) = match ops {
            [a] if !self.on(*a) => (0, None),
            [a, b] if !self.on(*a) && self.on(*b) => (0, Some(1)),
            [a, b] if self.on(*a) && !self.on(*b) => (1, Some(0)),
            _ => return None,
        };
        let value = *ops.get(value_at)?;
        let as_var = |s: &Sym| -> Sym {
            if operands == 1 {
                s.clone()
            } else {
                s.map_leaves(&|x| match x {
                    Sym::Arg(k) if *k == value_at => Some(Sym::Var),
                    _ => None,
                })
            }
        };
        // The leaves linear in the tangents: the tangent operand, the captured
        // tangents.
        let mut leaves: Vec<(Sym, Option<NodeId>)> = Vec::new();
        if let Some(k) = tangent_at {
            leaves.push((Sym::Arg(k), ops.get(k).copied()));
        }
        for &cap in caps {
            if self.on(cap) {
                leaves.push((Sym::Val(cap), None));
            }
        }
        let is_leaf = |x: &Sym| leaves.iter().any(|(l, _)| l == x);
        // Linear and homogeneous in the leaves: each coefficient free of them, and
        // nothing left with the leaves at zero.
        let rest = c
            .body
            .map_leaves(&|x| is_leaf(x).then_some(Sym::Lit(0.0)))
            .simplified();
        if !rest.is_lit(0.0) {
            return None;
        }
        let mut coefs = Vec::new();
        for (leaf, operand) in &leaves {
            let coef = as_var(&c.body.derivative(leaf).simplified());
            if coef.any(&|x| is_leaf(x) || matches!(x, Sym::Arg(_))) {
                return None;
            }
            coefs.push((leaf.clone(), *operand, coef));
        }
        let dear = |s: &Sym| {
            s.any(&|x| {
                matches!(
                    x,
                    Sym::Call(..) | Sym::Div(..) | Sym::Rt(..) | Sym::Select(_) | Sym::User(..)
                )
            })
        };
        if !coefs
            .iter()
            .any(|(_, _, c)| dear(c) && c.any(&|x| *x == Sym::Var))
        {
            return None;
        }
        // The tangent operand's term first, then the captured tangents'.
        let mut acc: Option<NodeId> = None;
        let mut scalar = Sym::Lit(0.0);
        for (leaf, operand, coef) in coefs {
            let entrywise = coef.any(&|x| *x == Sym::Var);
            match (operand, entrywise) {
                (Some(d), true) => {
                    let cn = self.entrywise_raw(&[value], coef);
                    let term = self.entrywise_raw(&[cn, d], Sym::mul(Sym::Arg(0), Sym::Arg(1)));
                    acc = Some(match acc {
                        None => term,
                        Some(a) => {
                            self.entrywise_raw(&[a, term], Sym::add(Sym::Arg(0), Sym::Arg(1)))
                        }
                    });
                }
                (Some(d), false) => {
                    let term = self.entrywise_raw(&[d], Sym::mul(coef, Sym::Var));
                    acc = Some(match acc {
                        None => term,
                        Some(a) => {
                            self.entrywise_raw(&[a, term], Sym::add(Sym::Arg(0), Sym::Arg(1)))
                        }
                    });
                }
                (None, true) => {
                    let cn = self.entrywise_raw(&[value], coef);
                    acc = Some(match acc {
                        None => self.entrywise_raw(&[cn], Sym::mul(Sym::Var, leaf)),
                        Some(a) => self.entrywise_raw(
                            &[a, cn],
                            Sym::add(Sym::Arg(0), Sym::mul(Sym::Arg(1), leaf)),
                        ),
                    });
                }
                (None, false) => scalar = Sym::add(scalar, Sym::mul(coef, leaf)),
            }
        }
        let scalar = scalar.simplified();
        Some(match acc {
            Some(a) if scalar.is_lit(0.0) => a,
            Some(a) => self.entrywise_raw(&[a], Sym::add(Sym::Var, scalar)),
            // Only scalar terms: the same value in every entry.
            None => self.entrywise_raw(
                &[value],
                Sym::add(Sym::mul(Sym::Var, Sym::Lit(0.0)), scalar),
            ),
        })
    }

    /// Pushes the tangent of the original node `id` (its rule's, when an argument
    /// has a tangent or it is a parameter) and records it; an operation without a
    /// tangent is an error in `errors`.
    fn push_tangent(&mut self, id: NodeId, errors: &mut Vec<(Span, String)>) {
        let g = self.g;
        let node = g.node(id);
        self.current = id;
        let needed =
            matches!(node.op, Op::Param(_)) || node.args.iter().any(|&a| self.tangent(a).is_some());
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
            self.tangent.push(None);
            return;
        }
        let tangent = if needed {
            match rules::rule(&node.op).tangent(Site::new(g, id), self) {
                Ok(t) => t,
                Err(e) => {
                    errors.push((node.span, format!("`{}`: {}", node.text, e.0)));
                    None
                }
            }
        } else {
            None
        };
        self.tangent.push(tangent);
    }
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
        if self.hoist {
            if let Some(id) = self.hoisted(&op, &args) {
                return id;
            }
        }
        self.push_raw(op, args)
    }
    fn kind(&self, id: NodeId) -> Kind {
        self.nodes.get(id).map_or(Kind::Scalar, |n| n.kind)
    }
    fn item(&mut self, item: proc_macro2::TokenStream) {
        self.items.push(item);
    }
}

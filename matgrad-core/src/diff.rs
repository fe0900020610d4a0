//! Reverse-mode differentiation: which nodes carry an adjoint, and what each
//! receives from its consumers.
//!
//! A node is *differentiated* when it depends on a `wrt` variable (active) and
//! the output depends on it (live). Only differentiated nodes get adjoints, and
//! only differentiated arguments receive contributions: constants cost nothing.

use crate::ir::{Graph, NodeId, Op};
use crate::rules::{self, Contrib};

/// The adjoint program of a graph.
pub struct Adjoints {
    /// `differentiated[id]`: node `id` carries an adjoint.
    pub differentiated: Vec<bool>,
    /// `incoming[id]`: the contributions node `id`'s adjoint is the sum of, with the
    /// consumer they come from, in the order they are accumulated. They are absolute:
    /// `Grad` is resolved to the consumer's [`Operand::Adj`](crate::sym::Operand::Adj).
    pub incoming: Vec<Vec<(NodeId, Contrib)>>,
}

/// Runs the reverse sweep over `g` for the parameters `wrt` (parameter indices).
pub fn differentiate(g: &Graph, wrt: &[usize]) -> Adjoints {
    let n = g.nodes.len();
    let mut active = vec![false; n];
    for (id, node) in g.nodes.iter().enumerate() {
        active[id] = match node.op {
            Op::Param(i) => wrt.contains(&i),
            _ => node.args.iter().any(|&a| active[a]),
        };
    }
    let mut live = vec![false; n];
    if g.output < n {
        live[g.output] = true;
    }
    for id in (0..n).rev() {
        if live[id] {
            for &a in &g.nodes[id].args {
                live[a] = true;
            }
        }
    }
    let differentiated: Vec<bool> = (0..n).map(|i| active[i] && live[i]).collect();
    let mut incoming: Vec<Vec<(NodeId, Contrib)>> = vec![Vec::new(); n];
    for id in (0..n).rev() {
        if !differentiated[id] {
            continue;
        }
        for (pos, contrib) in rules::adjoint(g, id) {
            if let Some(&target) = g.nodes[id].args.get(pos) {
                if differentiated[target] {
                    incoming[target].push((id, contrib.absolute(id)));
                }
            }
        }
    }
    Adjoints {
        differentiated,
        incoming,
    }
}

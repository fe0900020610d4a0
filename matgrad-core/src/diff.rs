//! Reverse-mode differentiation: which nodes carry an adjoint, and what each
//! receives from its consumers.
//!
//! A node is *differentiated* when it depends on a `wrt` variable (active) and
//! the output depends on it (live). Only differentiated nodes get adjoints, and
//! only differentiated arguments receive contributions: constants cost nothing.

use crate::ir::{flag, Graph, NodeId};
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

impl Adjoints {
    /// Whether node `id` carries an adjoint (`false` for an id past the graph).
    pub fn is_differentiated(&self, id: NodeId) -> bool {
        flag(&self.differentiated, id)
    }

    /// The contributions node `id`'s adjoint is the sum of (none for an id past the
    /// graph): `incoming[id]`.
    pub fn incoming_to(&self, id: NodeId) -> &[(NodeId, Contrib)] {
        self.incoming.get(id).map_or(&[], Vec::as_slice)
    }
}

/// Runs the reverse sweep over `g` for the parameters `wrt` (parameter indices).
pub fn differentiate(g: &Graph, wrt: &[usize]) -> Adjoints {
    let active = g.active(wrt);
    let live = liveness(g);
    let differentiated: Vec<bool> = active.iter().zip(&live).map(|(&a, &l)| a && l).collect();
    let mut incoming: Vec<Vec<(NodeId, Contrib)>> = vec![Vec::new(); g.nodes.len()];
    for (id, node) in g.nodes.iter().enumerate().rev() {
        if !flag(&differentiated, id) {
            continue;
        }
        for (pos, contrib) in rules::adjoint(g, id) {
            if let Some(&target) = node.args.get(pos) {
                let receives = flag(&differentiated, target);
                if let Some(into) = incoming.get_mut(target).filter(|_| receives) {
                    into.push((id, contrib.absolute(id)));
                }
            }
        }
    }
    Adjoints {
        differentiated,
        incoming,
    }
}

/// `live[id]`: the output depends on node `id`.
fn liveness(g: &Graph) -> Vec<bool> {
    let mut live = vec![false; g.nodes.len()];
    if let Some(l) = live.get_mut(g.output) {
        *l = true;
    }
    for (id, node) in g.nodes.iter().enumerate().rev() {
        if flag(&live, id) {
            for &a in &node.args {
                if let Some(l) = live.get_mut(a) {
                    *l = true;
                }
            }
        }
    }
    live
}

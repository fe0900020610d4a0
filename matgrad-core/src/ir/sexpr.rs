//! The IR as text: one s-expression per node, so rules and passes can be tested in
//! one line (`(matmul x w)`), as egg's tests are.

use super::{Graph, NodeId, Op};
use std::fmt::Write;

impl Op {
    /// The operation's name in the text form (its rule's, see [`crate::rules::Rule::name`]).
    pub fn mnemonic(&self) -> String {
        crate::rules::rule(self).name()
    }
}

impl Graph {
    /// Node `id` as an s-expression, parameters by name: `(norm2 (m- (matmul x w) y))`.
    pub fn sexpr(&self, id: NodeId) -> String {
        let node = self.node(id);
        if let Op::Param(_) = node.op {
            return self.label(id);
        }
        if node.args.is_empty() {
            return node.op.mnemonic();
        }
        let mut s = format!("({}", node.op.mnemonic());
        for &a in &node.args {
            let _ = write!(s, " {}", self.sexpr(a));
        }
        s.push(')');
        s
    }
}

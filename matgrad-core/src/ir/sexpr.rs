//! The IR as text: one s-expression per node, so rules and passes can be tested in
//! one line (`(matmul x w)`), as egg's tests are.

use super::{Graph, NodeId, Op};
use crate::sym::SOp;
use std::fmt::Write;

impl Op {
    /// The operation's name in the text form.
    pub fn mnemonic(&self) -> String {
        match self {
            Op::Param(i) => format!("param{i}"),
            Op::Lit(v) => format!("{v:?}"),
            Op::Const(t) => t.to_string().replace(' ', ""),
            Op::Scalar(s) => match s {
                SOp::Add => "+".into(),
                SOp::Sub => "-".into(),
                SOp::Mul => "*".into(),
                SOp::Div => "/".into(),
                SOp::Neg => "neg".into(),
                SOp::Powi(n) => format!("powi{n}"),
                SOp::Method(m) => m.name().into(),
            },
            Op::Add => "m+".into(),
            Op::Sub => "m-".into(),
            Op::Neg => "mneg".into(),
            Op::MatMul => "matmul".into(),
            Op::Scale => "scale".into(),
            Op::DivScalar => "mdiv".into(),
            Op::Transpose => "t".into(),
            Op::ComponentMul => "hadamard".into(),
            Op::ComponentDiv => "hdiv".into(),
            Op::Map(_) => "map".into(),
            Op::AddScalar => "add_scalar".into(),
            Op::Kronecker => "kron".into(),
            Op::Inverse(_) => "inv".into(),
            Op::Lu(_) => "lu".into(),
            Op::Solve => "solve".into(),
            Op::SolveRight => "rsolve".into(),
            Op::Sum => "sum".into(),
            Op::Mean => "mean".into(),
            Op::NormSquared => "norm2".into(),
            Op::Norm => "norm".into(),
            Op::Dot => "dot".into(),
            Op::Trace => "tr".into(),
            Op::TraceMul => "trmul".into(),
            Op::Chain => "chain".into(),
            Op::Ones { row: true, .. } => "ones_row".into(),
            Op::Ones { row: false, .. } => "ones_col".into(),
            Op::Determinant => "det".into(),
            Op::Index(i, j) => format!("idx{i}{j}"),
            Op::Sigmoid => "sigmoid".into(),
            Op::Relu => "relu".into(),
            Op::Softplus => "softplus".into(),
            Op::AddRow => "add_row".into(),
            Op::AddCol => "add_col".into(),
            Op::LnDet => "ln_det".into(),
            Op::LogSumExp => "log_sum_exp".into(),
            Op::SoftmaxCrossEntropy => "softmax_ce".into(),
        }
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

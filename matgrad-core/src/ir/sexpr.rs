//! The IR as text: one s-expression per node, which prints ([`Graph::sexpr`]) and
//! parses ([`Graph::parse`]), so rules and passes can be tested in one line
//! (`(matmul x w)`), as egg's tests are.

use super::{Count, Float, Graph, Kind, Node, NodeId, Op, Shape};
use crate::simplify::Term;
use crate::sym::{Method, SOp};
use proc_macro2::Span;
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

/// The operations without a payload, which the text form names by their rule's
/// name alone: those of the parser's tables ([`crate::symbol`]), the operators, and
/// those only passes create.
fn plain_ops() -> Vec<Op> {
    let methods = crate::symbol::MATRIX_METHODS
        .iter()
        .filter_map(|m| (m.op)(&[]));
    let functions = crate::symbol::RUNTIME_FNS.iter().map(|f| (f.op)());
    let operators = [
        Op::Add,
        Op::Sub,
        Op::Neg,
        Op::MatMul,
        Op::Scale,
        Op::DivScalar,
        Op::FromDiagonal,
    ];
    let passes = [
        Op::Inverse(None),
        Op::FactorInverse,
        Op::Chain,
        Op::TraceMul,
        Op::Factor(None),
        Op::Solve,
        Op::SolveRight,
    ];
    methods
        .chain(functions)
        .chain(operators)
        .chain(passes)
        .collect()
}

/// The operation named `head` in the text form: a plain operation, a scalar one
/// (`+`, `tanh`, `powi2`), an entry `idxIJ` (one digit each), a column `columnJ` or a
/// row `rowI`.
fn op_named(head: &str) -> Option<Op> {
    if let Some(op) = plain_ops().into_iter().find(|op| op.mnemonic() == head) {
        return Some(op);
    }
    let scalar = match head {
        "+" => Some(SOp::Add),
        "-" => Some(SOp::Sub),
        "*" => Some(SOp::Mul),
        "/" => Some(SOp::Div),
        "neg" => Some(SOp::Neg),
        _ => head
            .strip_prefix("powi")
            .and_then(|n| n.parse().ok())
            .map(SOp::Powi)
            .or_else(|| Method::from_name(head).map(SOp::Method)),
    };
    if let Some(s) = scalar {
        return Some(Op::Scalar(s));
    }
    if let Some(ij) = head.strip_prefix("idx") {
        let mut digits = ij.chars().map(|c| c.to_digit(10).map(|d| d as usize));
        if let (Some(Some(i)), Some(Some(j)), None) = (digits.next(), digits.next(), digits.next())
        {
            return Some(Op::Index(Count::Lit(i), Count::Lit(j)));
        }
    }
    if let Some((r, c)) = head.strip_prefix("new").and_then(|rc| rc.split_once('x')) {
        return Some(Op::FromScalars(r.parse().ok()?, c.parse().ok()?));
    }
    if let Some(i) = head.strip_prefix("row").and_then(|i| i.parse().ok()) {
        return Some(Op::Row(Count::Lit(i)));
    }
    let j = head.strip_prefix("column")?.parse().ok()?;
    Some(Op::Column(Count::Lit(j)))
}

impl Graph {
    /// Parses the text form [`Graph::sexpr`] prints into a graph whose parameters are
    /// `params` (names and kinds, in order) and whose output is the whole expression:
    /// `Graph::parse("(norm2 (m- (matmul x w) y))", &[("x", m), ("w", m), ("y", m)])`.
    /// Kinds come from each rule's shape; shared subexpressions are not merged.
    pub fn parse(text: &str, params: &[(&str, Kind)]) -> Result<Graph, String> {
        let term = Term::parse(text)?;
        let mut g = Graph {
            nodes: Vec::new(),
            output: 0,
            float: Float::F64,
            results: Vec::new(),
            items: Vec::new(),
        };
        for (i, (name, kind)) in params.iter().enumerate() {
            g.nodes.push(Node {
                op: Op::Param(i),
                args: Vec::new(),
                kind: *kind,
                span: Span::call_site(),
                text: (*name).to_owned(),
                name: Some((*name).to_owned()),
            });
        }
        g.output = g.push_term(&term, params)?;
        Ok(g)
    }

    /// Pushes the nodes of `t` (arguments first) and returns the id of its root.
    fn push_term(&mut self, t: &Term, params: &[(&str, Kind)]) -> Result<NodeId, String> {
        let (op, args) = match t {
            Term::Sym(name) => {
                return params
                    .iter()
                    .position(|(p, _)| p == name)
                    .ok_or_else(|| format!("unknown name `{name}`"))
            }
            Term::Num(v) => (Op::Lit(*v), Vec::new()),
            Term::App(head, args) => {
                let op = op_named(head).ok_or_else(|| format!("unknown operation `{head}`"))?;
                let args = args
                    .iter()
                    .map(|a| self.push_term(a, params))
                    .collect::<Result<Vec<_>, _>>()?;
                (op, args)
            }
        };
        let kind = crate::rules::rule(&op).shape().kind(
            &args,
            |a| self.nodes.get(a).map_or(Kind::Scalar, |n| n.kind),
            // Only constructors declare their kind (parameters are pushed above):
            // matrices, of unknown size in the text form.
            Kind::Matrix(Shape::MATRIX),
        );
        self.nodes.push(Node {
            op,
            args,
            kind,
            span: Span::call_site(),
            text: t.to_string(),
            name: None,
        });
        Ok(self.nodes.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Kind, Shape};
    use super::Graph;

    /// Every plain operation, an entry, a column and scalar arithmetic print back as
    /// they parse.
    #[test]
    fn text_round_trips() {
        let m = Kind::Matrix(Shape::MATRIX);
        let params = [("x", m), ("w", m), ("s", Kind::Scalar)];
        for text in [
            "(norm2 (m- (matmul x w) x))",
            "(sum (scale (t x) (+ s (tanh s))))",
            "(idx01 (kron x w))",
            "(norm2 (column2 (diagonal x)))",
            "(sum (row1 (t x)))",
            "(* (powi3 s) 2.0)",
            "(ln_det (inv (add_row x (sum w))))",
        ] {
            let g = Graph::parse(text, &params).expect(text);
            assert_eq!(g.sexpr(g.output), text);
        }
        assert!(Graph::parse("(frobnicate x)", &params).is_err());
        assert!(Graph::parse("(m+ x y)", &params).is_err());
    }

    /// Each plain operation's name parses back to it.
    #[test]
    fn every_plain_operation_is_named_once() {
        for op in super::plain_ops() {
            let name = op.mnemonic();
            let back = super::op_named(&name).map(|o| o.mnemonic());
            assert_eq!(back.as_deref(), Some(name.as_str()));
        }
    }
}

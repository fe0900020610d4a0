//! The derived gradients as readable math, for the `_grad` doc comment.
//!
//! Each `wrt` variable's adjoint is written out as the sum of what its uses send
//! back. The adjoint of an intermediate the user named with `let` is cited as
//! `∂f/∂name` and defined on a line of its own, in the order of the reverse sweep,
//! as the seeds' hand derivations do.

use super::Input;
use crate::ir::{Graph, NodeId, Op};
use crate::rules::{Contrib, KArg};
use crate::sym::{Cmp, Method, Operand, SOp, Sym};

/// The doc lines describing the derived gradients.
pub fn doc(input: &Input<'_>) -> Vec<String> {
    let r = Render { input };
    let g = input.graph;
    let mut lines = vec!["# Derived gradients".to_owned(), String::new()];
    lines.push(
        "(Layout: each gradient has the shape of its variable; entry (i, j) is ∂f/∂X_ij.)"
            .to_owned(),
    );
    lines.push(String::new());
    for &p in input.wrt {
        lines.push(format!("- `∂f/∂{} = {}`", g.label(p), r.adjoint(p)));
    }
    let named: Vec<NodeId> = (0..g.nodes.len())
        .rev()
        .filter(|&id| r.cited(id) && id != g.output)
        .collect();
    if !named.is_empty() {
        lines.push(String::new());
        lines.push("where".to_owned());
        lines.push(String::new());
        for id in named {
            lines.push(format!("- `∂f/∂{} = {}`", g.label(id), r.adjoint(id)));
        }
    }
    let defs: Vec<NodeId> = (0..g.nodes.len())
        .filter(|&id| !matches!(g.node(id).op, Op::Param(_)) && g.node(id).name.is_some())
        .collect();
    if !defs.is_empty() {
        lines.push(String::new());
        lines.push("with the body's values".to_owned());
        lines.push(String::new());
        for id in defs {
            lines.push(format!("- `{} = {}`", g.label(id), r.definition(id)));
        }
    }
    lines
}

/// Renders nodes, adjoints and contributions of one function.
pub struct Render<'a> {
    /// The function.
    pub input: &'a Input<'a>,
}

fn paren(s: String) -> String {
    let atomic = !s.contains(' ') || (s.starts_with('(') && s.ends_with(')') && balanced_outer(&s));
    if atomic {
        s
    } else {
        format!("({s})")
    }
}

fn balanced_outer(s: &str) -> bool {
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 && i + 1 < s.len() {
                    return false;
                }
            }
            _ => {}
        }
    }
    true
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn sup(n: i32) -> String {
    let digits = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let mut s = String::new();
    if n < 0 {
        s.push('⁻');
    }
    for c in n.unsigned_abs().to_string().chars() {
        s.push(digits[c.to_digit(10).unwrap_or(0) as usize]);
    }
    s
}

impl Render<'_> {
    fn g(&self) -> &Graph {
        self.input.graph
    }

    /// Whether the adjoint of `id` is cited by name (a named, differentiated intermediate).
    fn cited(&self, id: NodeId) -> bool {
        let node = self.g().node(id);
        self.input.adjoints.differentiated[id]
            && node.name.is_some()
            && !matches!(node.op, Op::Param(_))
    }

    /// The adjoint of `id` as a sum of contributions.
    pub fn adjoint(&self, id: NodeId) -> String {
        let incoming = &self.input.adjoints.incoming[id];
        if id == self.g().output {
            return "1".to_owned();
        }
        if incoming.is_empty() {
            return "0".to_owned();
        }
        let parts: Vec<String> = incoming.iter().map(|(c, k)| self.contrib(k, *c)).collect();
        let mut out = String::new();
        for (i, p) in parts.into_iter().enumerate() {
            if i == 0 {
                out = p;
            } else if let Some(rest) = p.strip_prefix('−') {
                out = format!("{out} − {}", rest.trim_start());
            } else {
                out = format!("{out} + {p}");
            }
        }
        out
    }

    /// How the adjoint of consumer `c` reads inside a contribution.
    fn grad_of(&self, c: NodeId) -> String {
        if c == self.g().output || c == usize::MAX {
            "1".to_owned()
        } else if self.cited(c) {
            format!("∂f/∂{}", self.g().label(c))
        } else {
            paren(self.adjoint(c))
        }
    }

    fn operand(&self, o: &Operand, c: NodeId) -> String {
        match o {
            Operand::Grad => self.grad_of(c),
            Operand::Value(id) => paren(self.expr(*id)),
            Operand::Aux(id) => format!("{}⁻¹", paren(self.expr(self.g().node(*id).args[0]))),
            Operand::Adj(id) => self.grad_of(*id),
        }
    }

    fn t(s: String, t: bool) -> String {
        if t {
            format!("{}ᵀ", paren(s))
        } else {
            s
        }
    }

    fn scaled(&self, alpha: &Sym, c: NodeId, rest: String) -> String {
        let a = self.sym(alpha, c, &[], false);
        match a.as_str() {
            "1" => rest,
            "-1" | "−1" => format!("−{rest}"),
            _ => format!("{} {rest}", paren(a)),
        }
    }

    /// One contribution from consumer `c`.
    pub fn contrib(&self, k: &Contrib, c: NodeId) -> String {
        let o = |x: &Operand| self.operand(x, c);
        match k {
            Contrib::Axpy { alpha, a, ta } => self.scaled(alpha, c, Self::t(o(a), *ta)),
            Contrib::Gemm {
                alpha,
                a,
                ta,
                b,
                tb,
            } => self.scaled(
                alpha,
                c,
                format!("{} {}", Self::t(o(a), *ta), Self::t(o(b), *tb)),
            ),
            Contrib::Hadamard { alpha, a, b } => {
                self.scaled(alpha, c, format!("{} ⊙ {}", o(a), o(b)))
            }
            Contrib::Fill(s) => self.scaled(s, c, "𝟙".to_owned()),
            Contrib::Diag(s) => self.scaled(s, c, "I".to_owned()),
            Contrib::Index(s, i, j) => self.scaled(s, c, format!("E{i}{j}")),
            Contrib::ZipMap(args, f) => {
                let names: Vec<String> = args.iter().map(o).collect();
                self.sym(f, c, &names, true)
            }
            Contrib::Kernel(name, args) => {
                let a: Vec<String> = args
                    .iter()
                    .map(|x| match x {
                        KArg::Scal(s) => paren(self.sym(s, c, &[], false)),
                        KArg::Mat(m) => o(m),
                        KArg::Scratch => String::new(),
                    })
                    .collect();
                let at = |i: usize| a.get(i).cloned().unwrap_or_default();
                match *name {
                    "kron_adjoint_a_to" => format!("Σ_blocks({} ⊙ {})", at(0), at(1)),
                    "kron_adjoint_b_to" => format!("Σ_ij {}_ij {}_block(i,j)", at(1), at(0)),
                    "inv_transpose_to" => format!("{} {}⁻ᵀ", at(0), at(1)),
                    "inv_adjoint_to" => format!("−{}ᵀ {} {}ᵀ", at(0), at(1), at(0)),
                    "sigmoid_adjoint_to" => format!("{} ⊙ {} ⊙ (1 − {})", at(0), at(1), at(1)),
                    "relu_adjoint_to" => format!("{} ⊙ [{} > 0]", at(0), at(1)),
                    "softplus_adjoint_to" => format!("{} ⊙ σ({})", at(0), at(1)),
                    "sum_rows_to" => format!("1ᵀ {}", at(0)),
                    "sum_cols_to" => format!("{} 1", at(0)),
                    "log_sum_exp_adjoint_to" => format!("{} softmax({})", at(0), at(1)),
                    "softmax_ce_adjoint_z_to" => {
                        format!(
                            "{} (softmax({}) ⊙ rowsum({}) − {})",
                            at(0),
                            at(1),
                            at(2),
                            at(2)
                        )
                    }
                    "softmax_ce_adjoint_y_to" => format!("−{} log softmax({})", at(0), at(1)),
                    other => format!("{other}({})", a.join(", ")),
                }
            }
            Contrib::Scalar(s) => self.sym(s, c, &[], false),
        }
    }

    /// A scalar expression; `args` name the [`Sym::Arg`]s; `entrywise` renders
    /// products of matrices as ⊙.
    pub fn sym(&self, s: &Sym, c: NodeId, args: &[String], entrywise: bool) -> String {
        if c == self.g().output && s.any(&|x| *x == Sym::Grad) {
            let one = s
                .map_leaves(&|x| (*x == Sym::Grad).then_some(Sym::Lit(1.0)))
                .simplified();
            return self.sym(&one, usize::MAX, args, entrywise);
        }
        let r = |x: &Sym| self.sym(x, c, args, entrywise);
        let (mul, div) = if entrywise {
            (" ⊙ ", " ⊘ ")
        } else {
            (" ", " / ")
        };
        match s {
            Sym::Lit(v) => num(*v).replace('-', "−"),
            Sym::Val(id) => self.expr(*id),
            Sym::Grad => self.grad_of(c),
            Sym::Var => "v".to_owned(),
            Sym::Arg(k) => args.get(*k).cloned().unwrap_or_else(|| format!("a{k}")),
            Sym::Neg(a) => format!("−{}", paren(r(a))),
            Sym::Add(a, b) => format!("{} + {}", r(a), r(b)),
            Sym::Sub(a, b) => format!("{} − {}", r(a), paren(r(b))),
            Sym::Mul(a, b) => format!("{}{mul}{}", paren(r(a)), paren(r(b))),
            Sym::Div(a, b) => format!("{}{div}{}", paren(r(a)), paren(r(b))),
            Sym::Powi(a, n) => format!("{}{}", paren(r(a)), sup(*n)),
            Sym::Call(m, a, b) => match (m, b) {
                (Method::Powf, Some(b)) => format!("{}^{}", paren(r(a)), paren(r(b))),
                (_, Some(b)) => format!("{}({}, {})", m.name(), r(a), r(b)),
                (_, None) => format!("{}({})", m.name(), r(a)),
            },
            Sym::Signum(a) => format!("sign({})", r(a)),
            Sym::Adj(id) => self.grad_of(*id),
            Sym::Rt(name, a) => match *name {
                "sigmoid_scalar" => format!("σ({})", r(a)),
                "relu_step" => format!("[{} > 0]", r(a)),
                other => format!("{other}({})", r(a)),
            },
            Sym::Step(cmp, a, b) => {
                let op = match cmp {
                    Cmp::Gt => ">",
                    Cmp::Ge => "≥",
                    Cmp::Lt => "<",
                    Cmp::Le => "≤",
                };
                format!("[{} {op} {}]", r(a), r(b))
            }
            Sym::Sum(o) => format!("Σ {}", self.operand(o, c)),
            Sym::Dot(a, b) => format!("⟨{}, {}⟩", self.operand(a, c), self.operand(b, c)),
            Sym::Len(o) => format!("len({})", self.operand(o, c)),
            Sym::ZipSum(ops, f) => {
                let names: Vec<String> = ops.iter().map(|o| self.operand(o, c)).collect();
                format!("Σ ({})", self.sym(f, c, &names, true))
            }
        }
    }

    /// The value of node `id`: its name, or its expression.
    pub fn expr(&self, id: NodeId) -> String {
        let node = self.g().node(id);
        if let Some(n) = &node.name {
            return n.clone();
        }
        self.definition(id)
    }

    /// The expression computing node `id` (even when it is named).
    pub fn definition(&self, id: NodeId) -> String {
        let g = self.g();
        let node = g.node(id);
        let a = |k: usize| {
            node.args
                .get(k)
                .map_or_else(String::new, |&x| paren(self.expr(x)))
        };
        match &node.op {
            Op::Param(_) => g.label(id),
            Op::Lit(v) => num(*v).replace('-', "−"),
            Op::Const(_) => node.text.clone(),
            Op::Scalar(op) => {
                let args: Vec<Sym> = node.args.iter().map(|&x| Sym::Val(x)).collect();
                let s = Sym::apply(*op, args);
                match op {
                    SOp::Mul => format!("{} {}", a(0), a(1)),
                    _ => self.sym(&s, id, &[], false),
                }
            }
            Op::Add => format!("{} + {}", a(0), a(1)),
            Op::Sub => format!("{} − {}", a(0), a(1)),
            Op::Neg => format!("−{}", a(0)),
            Op::MatMul => format!("{} {}", a(0), a(1)),
            Op::Scale => format!("{} {}", a(1), a(0)),
            Op::DivScalar => format!("{} / {}", a(0), a(1)),
            Op::Transpose => format!("{}ᵀ", a(0)),
            Op::ComponentMul => format!("{} ⊙ {}", a(0), a(1)),
            Op::ComponentDiv => format!("{} ⊘ {}", a(0), a(1)),
            Op::Map(cl) => {
                let x = a(0);
                self.sym(&cl.body, id, &[], false).replace('v', &x)
            }
            Op::AddScalar => format!("{} + {}", a(0), a(1)),
            Op::Kronecker => format!("{} ⊗ {}", a(0), a(1)),
            Op::Inverse(_) => format!("{}⁻¹", a(0)),
            Op::Sum => format!("Σ {}", a(0)),
            Op::Mean => format!("mean({})", self.expr(node.args[0])),
            Op::NormSquared => format!("‖{}‖²", self.expr(node.args[0])),
            Op::Norm => format!("‖{}‖", self.expr(node.args[0])),
            Op::Dot => format!("⟨{}, {}⟩", self.expr(node.args[0]), self.expr(node.args[1])),
            Op::Trace => format!("tr({})", self.expr(node.args[0])),
            Op::Determinant => format!("det({})", self.expr(node.args[0])),
            Op::Index(i, j) => format!("{}[{i},{j}]", a(0)),
            Op::Sigmoid => format!("σ({})", self.expr(node.args[0])),
            Op::Relu => format!("relu({})", self.expr(node.args[0])),
            Op::Softplus => format!("softplus({})", self.expr(node.args[0])),
            Op::AddRow => format!("{} + 𝟙 {}", a(0), a(1)),
            Op::AddCol => format!("{} + {} 𝟙ᵀ", a(0), a(1)),
            Op::LnDet => format!("ln|det {}|", a(0)),
            Op::LogSumExp => format!("logsumexp({})", self.expr(node.args[0])),
            Op::SoftmaxCrossEntropy => {
                format!(
                    "softmax_ce({}, {})",
                    self.expr(node.args[0]),
                    self.expr(node.args[1])
                )
            }
        }
    }
}

//! Gradients as [`Term`]s, simplified, and printed as Unicode math or LaTeX.
//!
//! Values the user named with `let` (and parameters) appear by name; adjoints are
//! written out in full, so `∂f/∂w` reads as one formula in the body's names, as the
//! seeds write their closed forms. An adjoint whose formula would exceed
//! [`CITE_ABOVE`] symbols is cited by name instead (`∂f/∂c3`) and defined apart
//! ([`Terms::cited`]): a value used twice doubles its adjoint's formula, so deep
//! networks would otherwise get formulas (and expansion times) exponential in their
//! depth.

use super::Input;
use crate::ir::{Count, Dim, Kind, NodeId, Op, Shape};
use crate::rules::{self, Contrib, Formula, KArg, Site};
use crate::simplify::{simplify, Term};
use crate::sym::{Cmp, Operand, Sym};
use std::collections::HashMap;
use std::fmt::Write;

/// The size (in symbols, see [`Term::size`]) above which an intermediate adjoint is
/// cited by name rather than written out.
pub const CITE_ABOVE: usize = 48;

/// Builds terms for one derivation (memoising adjoints, which several uses share).
pub struct Terms<'a> {
    input: &'a Input<'a>,
    adj: std::cell::RefCell<HashMap<NodeId, Term>>,
    /// Intermediate adjoints too large to write out: `(node, full term)`, in the
    /// order they were cited (each cites only earlier ones).
    cited: std::cell::RefCell<Vec<(NodeId, Term)>>,
    /// Write adjoints as `∂f/∂name` symbols instead of expanding them (for steps).
    cite: bool,
}

fn app(h: &str, args: Vec<Term>) -> Term {
    Term::app(h, args)
}

impl<'a> Terms<'a> {
    /// Terms for `input`.
    pub fn new(input: &'a Input<'a>) -> Terms<'a> {
        Terms {
            input,
            adj: std::cell::RefCell::new(HashMap::new()),
            cited: std::cell::RefCell::new(Vec::new()),
            cite: false,
        }
    }

    /// Terms that cite adjoints by name (`∂f/∂a`) rather than expanding them.
    pub fn citing(input: &'a Input<'a>) -> Terms<'a> {
        Terms {
            cite: true,
            ..Terms::new(input)
        }
    }

    /// These terms with node `id`'s adjoint written as `t` (a rule's `Ḡ`, in tests).
    pub fn with_adjoint(self, id: NodeId, t: Term) -> Terms<'a> {
        self.adj.borrow_mut().insert(id, t);
        self
    }

    /// `(variable, simplified gradient)` for each `wrt` variable.
    pub fn gradients(&self) -> Vec<(String, Term)> {
        let g = self.input.graph;
        self.input
            .wrt
            .iter()
            .map(|&p| (g.label(p), simplify(&self.adjoint(p))))
            .collect()
    }

    /// `(∂f/∂name, simplified adjoint)` of each intermediate adjoint cited by name in
    /// the gradients (those above [`CITE_ABOVE`] symbols), in an order where each cites
    /// only the ones before it; call after [`Terms::gradients`].
    pub fn cited(&self) -> Vec<(String, Term)> {
        self.cited
            .borrow()
            .iter()
            .map(|(id, t)| (self.cite_name(*id), simplify(t)))
            .collect()
    }

    fn cite_name(&self, id: NodeId) -> String {
        format!("∂f/∂{}", Terms::new(self.input).value_text(id))
    }

    /// `(name, definition)` of each value the user named with `let`.
    pub fn definitions(&self) -> Vec<(String, Term)> {
        let g = self.input.graph;
        (0..g.nodes.len())
            .filter(|&id| !matches!(g.node(id).op, Op::Param(_)) && g.node(id).name.is_some())
            .map(|id| (g.label(id), simplify(&self.definition(id))))
            .collect()
    }

    /// The adjoint of node `id` (unsimplified).
    pub fn adjoint(&self, id: NodeId) -> Term {
        if self.cite && id != self.input.graph.output {
            return Term::sym(&self.cite_name(id));
        }
        if let Some(t) = self.adj.borrow().get(&id) {
            return t.clone();
        }
        let g = self.input.graph;
        let t = if id == g.output {
            Term::Num(1.0)
        } else {
            let parts: Vec<Term> = self
                .input
                .adjoints
                .incoming_to(id)
                .iter()
                .map(|(_, c)| self.contrib(c))
                .collect();
            match parts.len() {
                0 => Term::Num(0.0),
                1 => parts.into_iter().next().unwrap_or(Term::Num(0.0)),
                _ => app("+", parts),
            }
        };
        let is_param = matches!(g.node(id).op, Op::Param(_));
        let t = if !is_param && t.size() > CITE_ABOVE {
            self.cited.borrow_mut().push((id, t));
            Term::sym(&self.cite_name(id))
        } else {
            t
        };
        self.adj.borrow_mut().insert(id, t.clone());
        t
    }

    fn is_one_by_one(&self, id: NodeId) -> bool {
        self.input.graph.node(id).kind
            == Kind::Matrix(Shape {
                rows: Dim::One,
                cols: Dim::One,
            })
    }

    fn operand(&self, o: &Operand) -> Term {
        match o {
            Operand::Value(id) => self.value(*id),
            Operand::Adj(id) => self.adjoint(*id),
            // What the forward pass kept (see `rules::Keeps`).
            Operand::Aux(id) => {
                let g = self.input.graph;
                rules::rule(&g.node(*id).op).aux_formula(Site::new(g, *id), self)
            }
            Operand::Grad => Term::sym("Ḡ"),
            // What the node's reverse sweep sends argument k (see `emit::looped`): a
            // loop's, or the user's adjoint's share.
            Operand::Part(id, k) => {
                let g = self.input.graph;
                let arg = g
                    .node(*id)
                    .args
                    .get(*k)
                    .map_or(String::new(), |&a| g.label(a));
                match &g.node(*id).op {
                    crate::ir::Op::UserCall(u) => {
                        let adjoint = u.adjoint.to_string().replace(' ', "");
                        Term::sym(&format!("{adjoint}(…, Ḡ)[{arg}]"))
                    }
                    _ => Term::sym(&format!("loop_adjoint({arg})")),
                }
            }
        }
    }

    fn scaled(&self, alpha: &Sym, m: Term) -> Term {
        app("scale", vec![self.sym(alpha, &[], false).0, m])
    }

    /// One contribution.
    pub fn contrib(&self, c: &Contrib) -> Term {
        let tr = |t: Term, yes: bool| if yes { app("t", vec![t]) } else { t };
        match c {
            Contrib::Axpy { alpha, a, ta } => self.scaled(alpha, tr(self.operand(a), *ta)),
            Contrib::Gemm {
                alpha,
                a,
                ta,
                b,
                tb,
            } => self.scaled(
                alpha,
                app(
                    "*",
                    vec![tr(self.operand(a), *ta), tr(self.operand(b), *tb)],
                ),
            ),
            Contrib::Chain { alpha, factors } => self.scaled(
                alpha,
                app(
                    "*",
                    factors
                        .iter()
                        .map(|(f, t)| tr(self.operand(f), *t))
                        .collect(),
                ),
            ),
            // (a₀ ⋯ a_{f−1})ᵀ Ḡ (a_{f+1} ⋯ a_{n−1})ᵀ, written with each factor transposed.
            Contrib::ChainFactor { alpha, g, factor } => {
                let args = match g {
                    Operand::Adj(c) => self.input.graph.node(*c).args.clone(),
                    _ => Vec::new(),
                };
                let t = |&a: &NodeId| tr(self.value(a), true);
                let (before, after) = args.split_at((*factor).min(args.len()));
                let mut factors: Vec<Term> = before.iter().rev().map(t).collect();
                factors.push(self.operand(g));
                factors.extend(after.iter().skip(1).rev().map(t));
                self.scaled(alpha, app("*", factors))
            }
            Contrib::Hadamard { alpha, a, b } => {
                self.scaled(alpha, app("⊙", vec![self.operand(a), self.operand(b)]))
            }
            Contrib::Fill(s) => self.scaled(s, Term::sym("𝟙")),
            Contrib::Diag(s) => self.scaled(s, Term::sym("I")),
            Contrib::Index(s, i, j) => {
                // The target of an index contribution is the indexed matrix; a 1×1 one is just s.
                let one = self
                    .input
                    .adjoints
                    .incoming
                    .iter()
                    .enumerate()
                    .find(|(_, inc)| inc.iter().any(|(_, k)| k == c))
                    .is_some_and(|(t, _)| self.is_one_by_one(t));
                if one {
                    self.sym(s, &[], false).0
                } else {
                    let at = match (i, j) {
                        (Count::Lit(i), Count::Lit(j)) => format!("E{i}{j}"),
                        _ => format!("E[{i},{j}]"),
                    };
                    self.scaled(s, Term::sym(&at))
                }
            }
            Contrib::ZipMap(ops, f) => {
                let args: Vec<Term> = ops.iter().map(|o| self.operand(o)).collect();
                self.sym(f, &args, true).0
            }
            Contrib::Kernel(kernel, args) => {
                let a: Vec<Term> = args
                    .iter()
                    .filter_map(|x| match x {
                        KArg::Scal(s) => Some(self.sym(s, &[], false).0),
                        KArg::Mat(m) => Some(self.operand(m)),
                        KArg::Count(c) => Some(rules::linear::count_term(c)),
                        KArg::Scratch => None,
                    })
                    .collect();
                kernel.formula(&a)
            }
            Contrib::Scalar(s) => self.sym(s, &[], false).0,
        }
    }

    /// A scalar expression as a term, and whether it is a scalar; `args` give the
    /// matrices of [`Sym::Arg`]s, whose products are then entrywise.
    pub fn sym(&self, s: &Sym, args: &[Term], entrywise: bool) -> (Term, bool) {
        let r = |x: &Sym| self.sym(x, args, entrywise);
        let g = self.input.graph;
        match s {
            Sym::Lit(v) => (Term::Num(*v), true),
            Sym::Val(id) => (self.value(*id), !g.node(*id).kind.is_matrix()),
            Sym::Adj(id) => (self.adjoint(*id), !g.node(*id).kind.is_matrix()),
            Sym::Grad => (Term::sym("s̄"), true),
            Sym::Var => (Term::sym("v"), !entrywise),
            Sym::Arg(k) => (
                args.get(*k).cloned().unwrap_or_else(|| Term::sym("?")),
                false,
            ),
            Sym::Neg(a) => {
                let (a, s) = r(a);
                (app("neg", vec![a]), s)
            }
            Sym::Add(a, b) | Sym::Sub(a, b) => {
                let ((a, sa), (b, sb)) = (r(a), r(b));
                let b = if matches!(s, Sym::Sub(..)) {
                    app("neg", vec![b])
                } else {
                    b
                };
                (app("+", vec![a, b]), sa && sb)
            }
            Sym::Mul(a, b) => {
                let ((a, sa), (b, sb)) = (r(a), r(b));
                match (sa, sb) {
                    (true, true) => (app("*", vec![a, b]), true),
                    (true, false) => (app("scale", vec![a, b]), false),
                    (false, true) => (app("scale", vec![b, a]), false),
                    (false, false) => (app("⊙", vec![a, b]), false),
                }
            }
            Sym::Div(a, b) => {
                let ((a, sa), (b, sb)) = (r(a), r(b));
                let h = if sb { "/" } else { "⊘" };
                (app(h, vec![a, b]), sa && sb)
            }
            Sym::Powi(a, n) => {
                let (a, s) = r(a);
                (app("pow", vec![a, Term::Num(f64::from(*n))]), s)
            }
            Sym::Call(m, a, b) => {
                let (a, s) = r(a);
                let mut v = vec![a];
                if let Some(b) = b {
                    v.push(r(b).0);
                }
                (app(m.name(), v), s)
            }
            Sym::Signum(a) => {
                let (a, s) = r(a);
                (app("sign", vec![a]), s)
            }
            Sym::Rt(f, a) => {
                let (a, s) = r(a);
                (app(f.math(), vec![a]), s)
            }
            Sym::User(u, args) => {
                let (args, s): (Vec<Term>, Vec<bool>) = args.iter().map(r).unzip();
                (app(u.name(), args), s.iter().all(|&x| x))
            }
            Sym::UserAdjoint(u, args, g, k) => {
                let (mut args, s): (Vec<Term>, Vec<bool>) = args.iter().map(r).unzip();
                args.push(r(g).0);
                let name = if u.arity == 1 {
                    format!("{}′", u.name())
                } else {
                    format!("∂{}{}", k + 1, u.name())
                };
                (app(&name, args), s.iter().all(|&x| x))
            }
            Sym::Step(c, a, b) => {
                let ((a, s), (b, _)) = (r(a), r(b));
                let h = match c {
                    Cmp::Gt => "[>]",
                    Cmp::Ge => "[≥]",
                    Cmp::Lt => "[<]",
                    Cmp::Le => "[≤]",
                };
                (app(h, vec![a, b]), s)
            }
            // `if(a > b, then, other)`, the branches entrywise when they are matrices.
            Sym::Select(sel) => {
                let ((a, sa), (b, _)) = (r(&sel.a), r(&sel.b));
                let ((t, st), (o, so)) = (r(&sel.then), r(&sel.other));
                let h = match sel.cmp {
                    Cmp::Gt => "[>]",
                    Cmp::Ge => "[≥]",
                    Cmp::Lt => "[<]",
                    Cmp::Le => "[≤]",
                };
                (app("if", vec![app(h, vec![a, b]), t, o]), sa && st && so)
            }
            Sym::Sum(o) => (app("Σ", vec![self.operand(o)]), true),
            Sym::Dot(a, b) => (app("dot", vec![self.operand(a), self.operand(b)]), true),
            Sym::Len(o) => (app("len", vec![self.operand(o)]), true),
            Sym::Entry(o, i, j) => (
                app(
                    "idx",
                    vec![self.operand(o), Term::Num(*i as f64), Term::Num(*j as f64)],
                ),
                true,
            ),
            Sym::ZipSum(ops, f) => {
                let args: Vec<Term> = ops.iter().map(|o| self.operand(o)).collect();
                (app("Σ", vec![self.sym(f, &args, true).0]), true)
            }
        }
    }

    /// The value of node `id` printed in Unicode (its name, or its definition).
    pub fn value_text(&self, id: NodeId) -> String {
        let v = self.value(id);
        match v {
            Term::Sym(s) => s,
            other => format!("({})", print(&simplify(&other), Notation::Unicode)),
        }
    }

    /// The value of node `id`: its name, or its definition.
    pub fn value(&self, id: NodeId) -> Term {
        match &self.input.graph.node(id).name {
            Some(n) => Term::sym(n),
            None => self.definition(id),
        }
    }

    /// [`Terms::definition`] as a step of the reverse sweep shows it: an entry
    /// `m[(i, j)]` stays apart from `m` even when `m` is 1×1 (`(xᵀ a x)₀₀`), so the
    /// step that reads the entry and the step of the product differ.
    pub fn step_definition(&self, id: NodeId) -> Term {
        let node = self.input.graph.node(id);
        match (&node.op, node.args.first()) {
            (Op::Index(i, j), Some(&src)) => rules::linear::Index(i, j).entry(self.value(src)),
            _ => self.definition(id),
        }
    }

    /// How node `id` is computed, in terms of its arguments' values: its rule's
    /// definition.
    pub fn definition(&self, id: NodeId) -> Term {
        let g = self.input.graph;
        rules::rule(&g.node(id).op).definition(Site::new(g, id), self)
    }
}

impl Formula for Terms<'_> {
    fn value(&self, id: NodeId) -> Term {
        Terms::value(self, id)
    }
    fn sym(&self, s: &Sym, args: &[Term]) -> Term {
        Terms::sym(self, s, args, !args.is_empty()).0
    }
    fn is_one_by_one(&self, id: NodeId) -> bool {
        Terms::is_one_by_one(self, id)
    }
}

// ---------------------------------------------------------------------------
// Printing
// ---------------------------------------------------------------------------

/// The notation to print in.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Notation {
    /// Unicode math, for doc comments and terminals: `Xᵀ (2 (a − Y) ⊙ (1 − a²))`.
    Unicode,
    /// LaTeX: `X^\top \left(2 (a - Y) \odot (1 - a^{2})\right)`.
    Latex,
}

fn superscript(n: &str) -> String {
    n.chars()
        .map(|c| match c {
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            '9' => '⁹',
            '-' => '⁻',
            c => c,
        })
        .collect()
}

fn subscript(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0' => '₀',
            '1' => '₁',
            '2' => '₂',
            '3' => '₃',
            '4' => '₄',
            '5' => '₅',
            '6' => '₆',
            '7' => '₇',
            '8' => '₈',
            '9' => '₉',
            c => c,
        })
        .collect()
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Prints `t` in `n`.
pub fn print(t: &Term, n: Notation) -> String {
    pr(t, n, TOP)
}

fn wrap(s: String, own: u8, need: u8, n: Notation) -> String {
    if own < need {
        match n {
            Notation::Unicode => format!("({s})"),
            Notation::Latex => format!("\\left({s}\\right)"),
        }
    } else {
        s
    }
}

fn latex_name(s: &str) -> String {
    match s {
        "𝟙" => "\\mathbf{1}".into(),
        "Ḡ" => "\\bar{G}".into(),
        "s̄" => "\\bar{s}".into(),
        s if s.chars().count() > 1 && s.chars().all(|c| c.is_alphanumeric() || c == '_') => {
            let mut parts = s.splitn(2, '_');
            let head = parts.next().unwrap_or(s);
            match parts.next() {
                Some(sub) => format!("{head}_{{{sub}}}"),
                None => format!("\\mathit{{{s}}}"),
            }
        }
        s => s.into(),
    }
}

// Binding strengths, loosest first: a term printed where `need` is asked for is
// parenthesised when its own strength is lower.
/// The whole formula.
const TOP: u8 = 0;
/// `a + b`, `a − b`.
const SUM: u8 = 1;
/// `a ⊙ b`, `a ⊘ b`, `a ⊗ b`: looser than juxtaposition, as in `2 (a − y) ⊙ b`.
const HADAMARD: u8 = 2;
/// Juxtaposition (`a b`, `2 a`), `−a`, `a / b`.
const PRODUCT: u8 = 3;
/// A factor of a product: `Σ a`, a cited adjoint `∂f/∂a`.
const FACTOR: u8 = 4;
/// A base of a postfix (`aᵀ`, `a⁻¹`, `a²`), a symbol, a function call.
const POSTFIX: u8 = 5;

/// Whether `child`, an argument of the elementwise operator `parent`, may go without
/// parentheses at `parent`'s own strength: `a ⊙ b ⊙ c` either way (⊙ and ⊗ are
/// associative), and read left to right after ⊙ or ⊘ (`a ⊘ b ⊙ c` is `(a ⊘ b) ⊙ c`).
fn flat_elementwise(parent: &str, child: &Term, left: bool) -> bool {
    let Some((h, _)) = child.as_app() else {
        return false;
    };
    (h == parent && matches!(h, "⊙" | "⊗"))
        || (left && matches!(parent, "⊙" | "⊘") && matches!(h, "⊙" | "⊘"))
}

// Long by design: one arm per head of the term language, each a few lines of Unicode and LaTeX side by side; split, the binding strengths would be read in many places.
/// Prints `t` where binding strength `need` is asked for (see [`TOP`] .. [`POSTFIX`]).
fn pr(t: &Term, n: Notation, need: u8) -> String {
    let uni = n == Notation::Unicode;
    let minus = if uni { "−" } else { "-" };
    match t {
        Term::Num(v) if *v < 0.0 => wrap(format!("{minus}{}", num(-v)), PRODUCT, need, n),
        Term::Num(v) => num(*v),
        // A cited adjoint `∂f/∂x` is a quotient: `(∂f/∂x)ᵀ`, not `∂f/∂xᵀ`.
        Term::Sym(s) if s.starts_with('∂') => {
            wrap(if uni { s.clone() } else { latex_name(s) }, FACTOR, need, n)
        }
        Term::Sym(s) => {
            if uni {
                s.clone()
            } else {
                latex_name(s)
            }
        }
        Term::App(h, a) => {
            let arg = |k: usize, need: u8| a.get(k).map_or_else(String::new, |x| pr(x, n, need));
            let (s, own) = match (h.as_str(), a.len()) {
                ("+", _) => {
                    let mut s = String::new();
                    for (i, x) in a.iter().enumerate() {
                        match x.as_app() {
                            Some(("scale", [Term::Num(c), rest])) if i > 0 && *c < 0.0 => {
                                let pos = Term::app("scale", vec![Term::Num(-c), rest.clone()]);
                                let _ = write!(s, " {minus} {}", pr(&pos, n, HADAMARD));
                            }
                            Some(("neg", [inner])) if i > 0 => {
                                let _ = write!(s, " {minus} {}", pr(inner, n, HADAMARD));
                            }
                            _ if i > 0 => {
                                let _ = write!(s, " + {}", pr(x, n, HADAMARD));
                            }
                            _ => s.push_str(&pr(x, n, SUM)),
                        }
                    }
                    (s, SUM)
                }
                // `−x⁻ᵀ a bᵀ x⁻ᵀ`: a minus sign before a product needs no parentheses.
                ("neg", 1) => (format!("{minus}{}", arg(0, PRODUCT)), PRODUCT),
                // `2 (b bᵀ) ⊗ (aᵀ a)`: a number times a Kronecker product needs no
                // parentheses (it may stand on either factor).
                ("scale", 2)
                    if matches!(a.first(), Some(Term::Num(_)))
                        && matches!(a.get(1).and_then(Term::as_app), Some(("⊗", _))) =>
                {
                    (
                        format!("{} {}", arg(0, PRODUCT), arg(1, HADAMARD)),
                        HADAMARD,
                    )
                }
                ("*" | "scale", _) => {
                    let number = h == "scale" && matches!(a.first(), Some(Term::Num(_)));
                    let parts: Vec<String> = a
                        .iter()
                        .enumerate()
                        .map(|(i, x)| {
                            // A leading number is printed as is (`−2 a`), and `2 (a b)`
                            // reads as `2 a b`.
                            let need = match (number, i) {
                                (true, 0) => PRODUCT,
                                (true, 1) if matches!(x.as_app(), Some(("*" | "scale", _))) => {
                                    PRODUCT
                                }
                                _ => FACTOR,
                            };
                            pr(x, n, need)
                        })
                        .collect();
                    (parts.join(" "), PRODUCT)
                }
                ("/", 2) => {
                    if uni {
                        (format!("{} / {}", arg(0, PRODUCT), arg(1, FACTOR)), PRODUCT)
                    } else {
                        (
                            format!("\\frac{{{}}}{{{}}}", arg(0, TOP), arg(1, TOP)),
                            POSTFIX,
                        )
                    }
                }
                ("⊙" | "⊘" | "⊗", 2) => {
                    let op = match (h.as_str(), uni) {
                        (h, true) => h.to_owned(),
                        ("⊙", false) => "\\odot".into(),
                        ("⊘", false) => "\\oslash".into(),
                        _ => "\\otimes".into(),
                    };
                    let side = |k: usize| {
                        let Some(x) = a.get(k) else {
                            return String::new();
                        };
                        // A Kronecker factor that is a product is parenthesised:
                        // `(b bᵀ) ⊗ (aᵀ a)`.
                        let need = if flat_elementwise(h, x, k == 0) {
                            HADAMARD
                        } else if h == "⊗" {
                            POSTFIX
                        } else {
                            PRODUCT
                        };
                        pr(x, n, need)
                    };
                    (format!("{} {op} {}", side(0), side(1)), HADAMARD)
                }
                ("t", 1) => match a.first().and_then(Term::as_app) {
                    Some(("inv", [m])) => (
                        format!(
                            "{}{}",
                            pr(m, n, POSTFIX),
                            if uni { "⁻ᵀ" } else { "^{-\\top}" }
                        ),
                        POSTFIX,
                    ),
                    _ => (
                        format!("{}{}", arg(0, POSTFIX), if uni { "ᵀ" } else { "^\\top" }),
                        POSTFIX,
                    ),
                },
                ("inv", 1) => (
                    format!("{}{}", arg(0, POSTFIX), if uni { "⁻¹" } else { "^{-1}" }),
                    POSTFIX,
                ),
                ("pow", 2) => {
                    let e = match a.get(1) {
                        Some(Term::Num(v)) => num(*v),
                        _ => arg(1, TOP),
                    };
                    if uni {
                        (format!("{}{}", arg(0, POSTFIX), superscript(&e)), POSTFIX)
                    } else {
                        (format!("{}^{{{e}}}", arg(0, POSTFIX)), POSTFIX)
                    }
                }
                ("idx", 3) => {
                    // The entry (i, j), zero-based as in the Rust source: `m₀₀`, `(a b)₀₁`.
                    let ij: Vec<String> = a
                        .get(1..)
                        .unwrap_or_default()
                        .iter()
                        .map(|x| pr(x, n, TOP))
                        .collect();
                    if uni {
                        let sep = if ij.iter().any(|s| s.chars().count() > 1) {
                            ","
                        } else {
                            ""
                        };
                        (
                            format!("{}{}", arg(0, POSTFIX), subscript(&ij.join(sep))),
                            POSTFIX,
                        )
                    } else {
                        (format!("{}_{{{}}}", arg(0, POSTFIX), ij.join(",")), POSTFIX)
                    }
                }
                ("normsq", 1) => {
                    if uni {
                        (format!("‖{}‖²", arg(0, TOP)), POSTFIX)
                    } else {
                        (format!("\\lVert {} \\rVert^2", arg(0, TOP)), POSTFIX)
                    }
                }
                ("norm", 1) => {
                    if uni {
                        (format!("‖{}‖", arg(0, TOP)), POSTFIX)
                    } else {
                        (format!("\\lVert {} \\rVert", arg(0, TOP)), POSTFIX)
                    }
                }
                ("dot", 2) => {
                    if uni {
                        (format!("⟨{}, {}⟩", arg(0, TOP), arg(1, TOP)), POSTFIX)
                    } else {
                        (
                            format!("\\langle {}, {} \\rangle", arg(0, TOP), arg(1, TOP)),
                            POSTFIX,
                        )
                    }
                }
                ("Σ", 1) => (
                    format!("{} {}", if uni { "Σ" } else { "\\sum" }, arg(0, FACTOR)),
                    FACTOR,
                ),
                ("lndet", 1) => {
                    if uni {
                        (format!("ln|det {}|", arg(0, POSTFIX)), POSTFIX)
                    } else {
                        (
                            format!("\\ln\\lvert\\det {}\\rvert", arg(0, POSTFIX)),
                            POSTFIX,
                        )
                    }
                }
                ("[>]" | "[≥]" | "[<]" | "[≤]", 2) => {
                    let op = &h[1..h.len() - 1];
                    let op = match (op, uni) {
                        (o, true) => o.to_owned(),
                        ("≥", false) => "\\geq".into(),
                        ("≤", false) => "\\leq".into(),
                        (o, false) => o.to_owned(),
                    };
                    (format!("[{} {op} {}]", arg(0, TOP), arg(1, TOP)), POSTFIX)
                }
                ("step", 1) => (format!("[{} > 0]", arg(0, TOP)), POSTFIX),
                (name, _) => {
                    let name = if uni {
                        name.to_owned()
                    } else {
                        match name {
                            "σ" => "\\sigma".into(),
                            "tanh" | "sin" | "cos" | "tan" | "sinh" | "cosh" | "exp" | "ln"
                            | "det" | "max" | "min" => {
                                format!("\\{name}")
                            }
                            other => format!("\\operatorname{{{}}}", other.replace('_', "\\_")),
                        }
                    };
                    let args: Vec<String> = a.iter().map(|x| pr(x, n, TOP)).collect();
                    if uni {
                        (format!("{name}({})", args.join(", ")), POSTFIX)
                    } else {
                        (format!("{name}\\left({}\\right)", args.join(", ")), POSTFIX)
                    }
                }
            };
            wrap(s, own, need, n)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{print, Notation, Term};

    /// Prints the text form `t` in Unicode and in LaTeX.
    fn check(t: &str, unicode: &str, latex: &str) {
        let t = Term::parse(t).expect("parse term");
        assert_eq!(print(&t, Notation::Unicode), unicode, "{t}");
        assert_eq!(print(&t, Notation::Latex), latex, "{t}");
    }

    #[test]
    fn negated_product_has_no_parentheses() {
        check(
            "(neg (* (t (inv x)) a (t b)))",
            "−x⁻ᵀ a bᵀ",
            "-x^{-\\top} a b^\\top",
        );
        check("(* a (neg b))", "a (−b)", "a \\left(-b\\right)");
        check("(neg (⊙ a b))", "−(a ⊙ b)", "-\\left(a \\odot b\\right)");
        check("(scale -2 a)", "−2 a", "-2 a");
    }

    #[test]
    fn products_bind_tighter_than_hadamard() {
        check("(⊙ (* m y) b)", "m y ⊙ b", "m y \\odot b");
        check(
            "(⊙ (scale 2 (+ a (neg y))) b)",
            "2 (a − y) ⊙ b",
            "2 \\left(a - y\\right) \\odot b",
        );
        check(
            "(* (t x) (⊙ a b))",
            "xᵀ (a ⊙ b)",
            "x^\\top \\left(a \\odot b\\right)",
        );
        check("(scale 2 (* a b))", "2 a b", "2 a b");
    }

    #[test]
    fn hadamard_chains_are_flat() {
        check("(⊙ a (⊙ b c))", "a ⊙ b ⊙ c", "a \\odot b \\odot c");
        check("(⊙ (⊙ a b) c)", "a ⊙ b ⊙ c", "a \\odot b \\odot c");
        check("(⊙ (⊘ a b) c)", "a ⊘ b ⊙ c", "a \\oslash b \\odot c");
        check(
            "(⊘ a (⊙ b c))",
            "a ⊘ (b ⊙ c)",
            "a \\oslash \\left(b \\odot c\\right)",
        );
        check(
            "(⊙ a (⊘ b c))",
            "a ⊙ (b ⊘ c)",
            "a \\odot \\left(b \\oslash c\\right)",
        );
        check(
            "(⊗ a (⊙ b c))",
            "a ⊗ (b ⊙ c)",
            "a \\otimes \\left(b \\odot c\\right)",
        );
        check(
            "(scale 2 (⊗ (* b (t b)) (* (t a) a)))",
            "2 (b bᵀ) ⊗ (aᵀ a)",
            "2 \\left(b b^\\top\\right) \\otimes \\left(a^\\top a\\right)",
        );
        check(
            "(⊗ (* b (t b)) (* (t a) a))",
            "(b bᵀ) ⊗ (aᵀ a)",
            "\\left(b b^\\top\\right) \\otimes \\left(a^\\top a\\right)",
        );
    }

    #[test]
    fn cited_adjoints_are_parenthesised_under_a_postfix() {
        check("(t ∂f/∂x)", "(∂f/∂x)ᵀ", "\\left(∂f/∂x\\right)^\\top");
        check("(* a ∂f/∂x)", "a ∂f/∂x", "a ∂f/∂x");
    }

    #[test]
    fn entries_are_subscripts() {
        check("(idx m 0 1)", "m₀₁", "m_{0,1}");
        check("(idx (* a b) 0 0)", "(a b)₀₀", "\\left(a b\\right)_{0,0}");
        check("(idx m 12 3)", "m₁₂,₃", "m_{12,3}");
    }

    #[test]
    fn sums_keep_their_signs() {
        check("(+ a (neg (* b c)))", "a − b c", "a - b c");
        check("(+ a (scale -2 b))", "a − 2 b", "a - 2 b");
    }
}

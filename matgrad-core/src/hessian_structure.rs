//! Dense Hessians from their structure: where the Hessian of a function has a closed
//! form cheaper than `n` Hessian-vector products, `NAME_hessian` builds it directly.
//!
//! Everything about structured Hessians is here, one kind of piece at a time: how
//! it is recognised on the IR ([`recognize`]), what it costs ([`Plan`], against the
//! `n` directions of the column-by-column build), its formula for the docs and
//! `matgrad derive --show hessian` ([`formula`]), and its code for both backends
//! ([`lower`], [`lower_static`], calling the kernels of
//! `matgrad-runtime/src/hessian.rs`).
//!
//! # What is recognised
//!
//! The variable `W` (`p×q`, `n = p q` entries, a vector when `q = 1`) enters through
//! **Kronecker maps** `Z = s · op(A) W op(B)` (`A`, `B` products of constant
//! matrices, either may be absent: `X w`, `A X B`, `wᵀ a`), so that
//! `vec(Z) = s L vec(W)` with `L = op(B)ᵀ ⊗ op(A)`. The function's value must be a
//! constant-coefficient sum of **pieces**, each with a closed Hessian:
//!
//! | piece | Hessian | examples |
//! | --- | --- | --- |
//! | [`Piece::Gram`]: `Σ φ(Z)`, φ entrywise (a chain of `map`, `sigmoid`, `softplus`, entrywise products with constants, …) | `Lᵀ diag(φ″(Z)) L` | `softplus(&(x * w)).sum()`: `xᵀ diag(σ(x w) ⊙ (1 − σ(x w))) x` |
//! | the same with φ″ constant: `‖Z‖²`, `λ ‖w‖²` | `c LᵀL = c (B Bᵀ) ⊗ (AᵀA)` | `‖A X B − C‖²`: `2 (B Bᵀ) ⊗ (AᵀA)`; `‖X w − y‖²`: `2 XᵀX` |
//! | [`Piece::Cross`]: `⟨Z₁, Z₂⟩` (`dot`, a 1×1 product `u v`, `tr(U V)`) | `L₁ᵀ L₂ + L₂ᵀ L₁` | `(xᵀ a x)[(0, 0)]`: `a + aᵀ` |
//! | [`Piece::Softmax`]: `log_sum_exp(Z)` | `Lᵀ (diag(p) − p pᵀ) L`, `p = softmax(Z)` | |
//!
//! Anything else (a product of two functions of `W` that is not 1×1, an inverse, a
//! nonlinear function of a reduction, …) is not structured: `NAME_hessian` then
//! takes the `n` Hessian-vector products, as before.
//!
//! # Recognition
//!
//! One forward pass over the graph gives each node a `Form`: constant; affine in
//! `W` (with its Kronecker map when it has one); an entrywise function φ of an
//! affine node `z`, carrying `φ′` and `φ″` as scalar expressions of the entries of
//! node values (`Sym::Arg(k)` is the entry of `args[k]`), so that the generated code
//! evaluates them on the forward pass's own values (`φ″` of `softplus` is
//! `σ(z) (1 − σ(z))`, of `sigmoid` `s (1 − s)(1 − 2s)` with `s` its value); or a
//! scalar with its Hessian's pieces. Composition is the chain rule of second
//! derivatives: for `y = h(x)`, `y′ = h′ x′` and `y″ = h″ x′² + h′ x″`.
//!
//! # The choice
//!
//! The cost model ([`crate::cost`]) counts the multiply-adds of the structured
//! build (one `Aᵀ D A` product per piece, the Kronecker fill) and estimates those of
//! the column-by-column build as `n · 2 · (the tangent nodes' cost)`: each column
//! runs the tangent sweep and a reverse sweep through the same products. Dimensions
//! the program forces equal (`x.c = w.r` in `x * w`) are identified first. The
//! structure is used when its count is at most the estimate for every size (the
//! polynomials compared monomial by monomial, [`crate::cost::Poly::at_most`]).

use crate::cost::{self, Poly};
use crate::emit::math::Terms;
use crate::ir::{Dim, Graph, Kind, NodeId, Op, Shape};
use crate::rules::StaticNames;
use crate::simplify::{simplify, Term};
use crate::sym::{RtFn, SOp, Sym};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// A Kronecker map of the variable: the value `(s · A W B)ᵀ` when `transposed`, else
/// `s · A W B`, with `A = op(a₁) op(a₂) ⋯` (`left`, constant nodes, each transposed
/// when flagged; empty: the identity) and `B` likewise (`right`).
#[derive(Clone, Debug, PartialEq)]
pub struct Lin {
    /// The factors of `A`, left to right: `(node, transposed)`.
    pub left: Vec<(NodeId, bool)>,
    /// The factors of `B`, left to right.
    pub right: Vec<(NodeId, bool)>,
    /// The constant scalar `s`.
    pub scale: Sym,
    /// Whether the value is the transpose of `s A W B`.
    pub transposed: bool,
}

impl Lin {
    /// `W` itself.
    fn identity() -> Lin {
        Lin {
            left: Vec::new(),
            right: Vec::new(),
            scale: Sym::Lit(1.0),
            transposed: false,
        }
    }

    /// The transpose of the value.
    fn flip(&self) -> Lin {
        Lin {
            transposed: !self.transposed,
            ..self.clone()
        }
    }

    /// The value times the constant scalar `s`.
    fn scaled(&self, s: Sym) -> Lin {
        Lin {
            scale: Sym::mul(self.scale.clone(), s),
            ..self.clone()
        }
    }

    /// `op(c₁) ⋯ op(c_k) · value`: `C A W B`, or for a transposed value
    /// `C (A W B)ᵀ = (A W B Cᵀ)ᵀ`.
    fn left_mul(&self, cs: &[(NodeId, bool)]) -> Lin {
        let mut l = self.clone();
        if self.transposed {
            l.right.extend(cs.iter().rev().map(|&(c, t)| (c, !t)));
        } else {
            let mut left = cs.to_vec();
            left.extend(l.left);
            l.left = left;
        }
        l
    }

    /// `value · op(c₁) ⋯ op(c_k)`.
    fn right_mul(&self, cs: &[(NodeId, bool)]) -> Lin {
        let mut l = self.clone();
        if self.transposed {
            let mut left: Vec<(NodeId, bool)> = cs.iter().rev().map(|&(c, t)| (c, !t)).collect();
            left.extend(l.left);
            l.left = left;
        } else {
            l.right.extend_from_slice(cs);
        }
        l
    }

    /// The map as one on `vec` of the value of node kind `kind`, `s L vec(W)`: a
    /// transposed value only when it is a vector (whose `vec` its transpose shares).
    fn vec_of(&self, kind: Kind) -> Option<Lin> {
        if self.transposed && !is_vector(kind) {
            return None;
        }
        Some(Lin {
            transposed: false,
            ..self.clone()
        })
    }

    /// The map without its scale, and the scale.
    fn unscaled(&self) -> (Lin, Sym) {
        (
            Lin {
                scale: Sym::Lit(1.0),
                ..self.clone()
            },
            self.scale.clone(),
        )
    }
}

/// Whether a node of this kind is a vector (a static dimension is 1).
fn is_vector(kind: Kind) -> bool {
    matches!(kind, Kind::Matrix(s) if s.rows == Dim::One || s.cols == Dim::One)
}

/// Whether a node of this kind is a 1×1 matrix by its type.
fn is_one_by_one(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Matrix(Shape {
            rows: Dim::One,
            cols: Dim::One
        })
    )
}

/// One term of a structured Hessian.
#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    /// `coef · Lᵀ diag(vec d) L` (`d` the entrywise `weight` of the `args`, over the
    /// shape of `z`), or `coef · LᵀL` when `weight` is `None`: the Hessian of a sum
    /// of entrywise functions of `z = A W B`.
    Gram {
        /// The map of `z` (unscaled, not transposed).
        lin: Lin,
        /// The affine node.
        z: NodeId,
        /// `φ″` entrywise, in `Sym::Arg(k)` for the entries of `args[k]`; `None`: 1.
        weight: Option<Sym>,
        /// The nodes the weight reads, each shaped like `z`.
        args: Vec<NodeId>,
        /// A constant scalar.
        coef: Sym,
    },
    /// `coef · (L₁ᵀ L₂ + L₂ᵀ L₁)`: the Hessian of `⟨Z₁, Z₂⟩`.
    Cross {
        /// `L₁`.
        a: Lin,
        /// `L₂`.
        b: Lin,
        /// A constant scalar.
        coef: Sym,
    },
    /// `coef · Lᵀ (diag(p) − p pᵀ) L`, `p = softmax(vec z)`: the Hessian of
    /// `log_sum_exp(z)`.
    Softmax {
        /// The map of `z`.
        lin: Lin,
        /// The affine node.
        z: NodeId,
        /// A constant scalar.
        coef: Sym,
    },
}

impl Piece {
    /// The piece times the constant scalar `s`.
    fn scaled(&self, s: &Sym) -> Piece {
        let c = |coef: &Sym| Sym::mul(coef.clone(), s.clone());
        match self {
            Piece::Gram {
                lin,
                z,
                weight,
                args,
                coef,
            } => Piece::Gram {
                lin: lin.clone(),
                z: *z,
                weight: weight.clone(),
                args: args.clone(),
                coef: c(coef),
            },
            Piece::Cross { a, b, coef } => Piece::Cross {
                a: a.clone(),
                b: b.clone(),
                coef: c(coef),
            },
            Piece::Softmax { lin, z, coef } => Piece::Softmax {
                lin: lin.clone(),
                z: *z,
                coef: c(coef),
            },
        }
    }
}

/// An entrywise function `y = φ(z)` of an affine node `z`, with `y′ = φ′(z)` and
/// `y″ = φ″(z)` as expressions of the entries of `args` (`Sym::Arg(k)`).
#[derive(Clone, Debug)]
struct Entry {
    z: NodeId,
    lin: Lin,
    d1: Sym,
    d2: Sym,
    args: Vec<NodeId>,
}

impl Entry {
    /// The index of node `id` among the args (added when new).
    fn arg(&mut self, id: NodeId) -> Sym {
        let k = match self.args.iter().position(|&a| a == id) {
            Some(k) => k,
            None => {
                self.args.push(id);
                self.args.len() - 1
            }
        };
        Sym::Arg(k)
    }

    /// `h(y)` for `h` with derivatives `(h′, h″)` (built from the args by `h`): the
    /// chain rule `(h ∘ φ)′ = h′ φ′`, `(h ∘ φ)″ = h″ φ′² + h′ φ″`.
    fn then(mut self, h: impl FnOnce(&mut Entry) -> (Sym, Sym)) -> Entry {
        let (h1, h2) = h(&mut self);
        let d1 = Sym::mul(h1.clone(), self.d1.clone());
        let d2 = Sym::add(
            Sym::mul(h2, Sym::mul(self.d1.clone(), self.d1.clone())),
            Sym::mul(h1, self.d2.clone()),
        );
        Entry { d1, d2, ..self }
    }

    /// `Σ y` (times `coef`): its Hessian, `coef s² Lᵀ diag(y″) L`.
    fn sum(self, coef: Sym) -> Form {
        let d2 = self.d2.simplified();
        if d2.is_lit(0.0) {
            return Form::Affine(None);
        }
        let (lin, s) = self.lin.unscaled();
        let coef = Sym::mul(coef, Sym::mul(s.clone(), s));
        let has_args = d2.any(&|x| matches!(x, Sym::Arg(_)));
        let (weight, coef, args) = if has_args {
            (Some(d2), coef, self.args)
        } else {
            (None, Sym::mul(coef, d2), Vec::new())
        };
        Form::Curved(vec![Piece::Gram {
            lin,
            z: self.z,
            weight,
            args,
            coef,
        }])
    }
}

/// What a node is, as a function of the variable.
#[derive(Clone, Debug)]
enum Form {
    /// Independent of it.
    Const,
    /// Affine in it; with its Kronecker map when it has one.
    Affine(Option<Lin>),
    /// An entrywise function of an affine node.
    Entry(Box<Entry>),
    /// A scalar (or a 1×1 matrix) whose Hessian is the sum of these pieces (plus a
    /// linear part).
    Curved(Vec<Piece>),
    /// Anything else.
    Other,
}

impl Form {
    /// The pieces of a scalar, `None` when it has no structure.
    fn pieces(&self) -> Option<Vec<Piece>> {
        match self {
            Form::Const | Form::Affine(_) => Some(Vec::new()),
            Form::Curved(p) => Some(p.clone()),
            Form::Entry(_) | Form::Other => None,
        }
    }

    /// The form of a constant scalar multiple of this value.
    fn scaled(&self, s: Sym) -> Form {
        match self {
            Form::Const => Form::Const,
            Form::Affine(l) => Form::Affine(l.as_ref().map(|l| l.scaled(s))),
            Form::Entry(e) => {
                let mut e = (**e).clone();
                e.d1 = Sym::mul(e.d1, s.clone());
                e.d2 = Sym::mul(e.d2, s);
                Form::Entry(Box::new(e))
            }
            Form::Curved(p) => Form::Curved(p.iter().map(|x| x.scaled(&s)).collect()),
            Form::Other => Form::Other,
        }
    }

    fn is_const(&self) -> bool {
        matches!(self, Form::Const)
    }

    fn is_affine(&self) -> bool {
        matches!(self, Form::Affine(_) | Form::Const)
    }
}

/// The structure of the Hessian of `g`'s value with respect to parameter `w`: its
/// pieces (empty for a function affine in `w`), or `None` when it has none that
/// this module knows.
pub fn recognize(g: &Graph, w: usize) -> Option<Vec<Piece>> {
    if !g.node(w).kind.is_matrix() {
        return None;
    }
    let mut forms: Vec<Form> = Vec::with_capacity(g.nodes.len());
    for id in 0..g.nodes.len() {
        let f = form(g, id, w, &forms);
        forms.push(f);
    }
    forms.get(g.output)?.pieces()
}

/// The form of node `id`, given those of the nodes before it.
fn form(g: &Graph, id: NodeId, w: usize, forms: &[Form]) -> Form {
    let node = g.node(id);
    if let Op::Param(i) = node.op {
        return if i == w {
            Form::Affine(Some(Lin::identity()))
        } else {
            Form::Const
        };
    }
    let at = |k: usize| -> &Form {
        node.args
            .get(k)
            .and_then(|&a| forms.get(a))
            .unwrap_or(&Form::Other)
    };
    let arg = |k: usize| node.args.get(k).copied().unwrap_or(id);
    let kind = |n: NodeId| g.node(n).kind;
    if node
        .args
        .iter()
        .all(|&a| forms.get(a).is_some_and(Form::is_const))
    {
        return match node.op {
            Op::Loop(_) | Op::LoopOut(_) => Form::Other,
            _ => Form::Const,
        };
    }
    // An entrywise function of an affine node, seen from argument `k`.
    let entry = |k: usize| -> Option<Entry> {
        match at(k) {
            Form::Entry(e) => Some((**e).clone()),
            Form::Affine(Some(l)) => Some(Entry {
                z: arg(k),
                lin: l.vec_of(kind(arg(k)))?,
                d1: Sym::Lit(1.0),
                d2: Sym::Lit(0.0),
                args: Vec::new(),
            }),
            _ => None,
        }
    };
    let boxed = |e: Entry| Form::Entry(Box::new(e));
    let val = |k: usize| Sym::Val(arg(k));
    // The cross piece of ⟨a, b⟩ for the maps of two values of these kinds.
    let cross = |a: &Lin, ka: Kind, b: &Lin, kb: Kind| -> Form {
        let (a, b) = match (a.vec_of(ka), b.vec_of(kb)) {
            (Some(a), Some(b)) => (a, b),
            // ⟨Xᵀ, Yᵀ⟩ = ⟨X, Y⟩.
            _ if a.transposed && b.transposed => (a.flip(), b.flip()),
            _ => return Form::Other,
        };
        let ((a, sa), (b, sb)) = (a.unscaled(), b.unscaled());
        Form::Curved(vec![Piece::Cross {
            a,
            b,
            coef: Sym::mul(sa, sb),
        }])
    };
    match &node.op {
        Op::Scalar(op) => match op {
            SOp::Add | SOp::Sub => {
                let sign = if *op == SOp::Sub { -1.0 } else { 1.0 };
                sum(at(0), &at(1).scaled(Sym::Lit(sign)))
            }
            SOp::Neg => at(0).scaled(Sym::Lit(-1.0)),
            SOp::Mul if at(0).is_const() => at(1).scaled(val(0)),
            SOp::Mul if at(1).is_const() => at(0).scaled(val(1)),
            SOp::Div if at(1).is_const() => at(0).scaled(Sym::div(Sym::Lit(1.0), val(1))),
            _ => Form::Other,
        },
        Op::Add | Op::Sub => {
            let sign = if matches!(node.op, Op::Sub) {
                -1.0
            } else {
                1.0
            };
            match (at(0), at(1)) {
                (Form::Entry(_) | Form::Affine(Some(_)) | Form::Curved(_), Form::Const) => {
                    at(0).clone()
                }
                (Form::Const, b @ (Form::Entry(_) | Form::Affine(Some(_)) | Form::Curved(_))) => {
                    b.scaled(Sym::Lit(sign))
                }
                (a, b) if a.is_affine() && b.is_affine() => Form::Affine(None),
                (a @ Form::Curved(_), b) | (a, b @ Form::Curved(_)) => {
                    sum(a, &b.scaled(Sym::Lit(sign)))
                }
                _ => Form::Other,
            }
        }
        Op::Neg => at(0).scaled(Sym::Lit(-1.0)),
        Op::Scale | Op::DivScalar => {
            let s = if matches!(node.op, Op::Scale) {
                val(1)
            } else {
                Sym::div(Sym::Lit(1.0), val(1))
            };
            match (at(0), at(1)) {
                (a, Form::Const) => a.scaled(s),
                (Form::Const, Form::Affine(_)) if matches!(node.op, Op::Scale) => {
                    Form::Affine(None)
                }
                _ => Form::Other,
            }
        }
        Op::AddScalar => match (at(0), at(1)) {
            (a, Form::Const) => a.clone(),
            (a, b) if a.is_affine() && b.is_affine() => Form::Affine(None),
            _ => Form::Other,
        },
        Op::Transpose => match at(0) {
            Form::Affine(l) => Form::Affine(l.as_ref().map(Lin::flip)),
            e @ Form::Entry(_) if is_vector(node.kind) => e.clone(),
            c @ Form::Curved(_) => c.clone(),
            _ => Form::Other,
        },
        Op::AddRow | Op::AddCol => match (at(0), at(1)) {
            (Form::Affine(l), Form::Const) => Form::Affine(l.clone()),
            (a, b) if a.is_affine() && b.is_affine() => Form::Affine(None),
            _ => Form::Other,
        },
        Op::MatMul => match (at(0), at(1)) {
            (Form::Const, Form::Affine(Some(l))) => {
                Form::Affine(Some(l.left_mul(&[(arg(0), false)])))
            }
            (Form::Affine(Some(l)), Form::Const) => {
                Form::Affine(Some(l.right_mul(&[(arg(1), false)])))
            }
            (Form::Const, Form::Affine(None)) | (Form::Affine(None), Form::Const) => {
                Form::Affine(None)
            }
            // A 1×1 product u v = ⟨uᵀ, v⟩.
            (Form::Affine(Some(u)), Form::Affine(Some(v))) if is_one_by_one(node.kind) => {
                cross(&u.flip(), kind(arg(0)), v, kind(arg(1)))
            }
            _ => Form::Other,
        },
        Op::Chain => chain(g, node, forms, &cross),
        Op::ComponentMul | Op::ComponentDiv => {
            let div = matches!(node.op, Op::ComponentDiv);
            match (at(0), at(1)) {
                // y = x ⊙ x: h(t) = t².
                _ if !div && arg(0) == arg(1) => match entry(0) {
                    Some(e) => boxed(e.then(|e| {
                        let x = e.arg(arg(0));
                        (Sym::mul(Sym::Lit(2.0), x), Sym::Lit(2.0))
                    })),
                    None => Form::Other,
                },
                (_, Form::Const) => match entry(0) {
                    Some(e) => boxed(e.then(|e| {
                        let c = e.arg(arg(1));
                        let h1 = if div { Sym::div(Sym::Lit(1.0), c) } else { c };
                        (h1, Sym::Lit(0.0))
                    })),
                    None if at(0).is_affine() => Form::Affine(None),
                    None => Form::Other,
                },
                (Form::Const, _) if !div => match entry(1) {
                    Some(e) => boxed(e.then(|e| (e.arg(arg(0)), Sym::Lit(0.0)))),
                    None if at(1).is_affine() => Form::Affine(None),
                    None => Form::Other,
                },
                _ => Form::Other,
            }
        }
        Op::Map(c) => {
            let captured_const = (1..node.args.len()).all(|k| at(k).is_const());
            match entry(0) {
                Some(e) if captured_const => boxed(e.then(|e| {
                    let x = e.arg(arg(0));
                    let h1 = c.body.derivative(&Sym::Var);
                    let h2 = h1.derivative(&Sym::Var);
                    (h1.subst_var(&x), h2.subst_var(&x))
                })),
                _ => Form::Other,
            }
        }
        Op::ZipMap(c) => {
            let captured_const = (2..node.args.len()).all(|k| at(k).is_const());
            // The one argument that varies, and the constant other.
            let (k, other) = match (at(0).is_const(), at(1).is_const()) {
                (false, true) => (0, 1),
                (true, false) => (1, 0),
                _ => return Form::Other,
            };
            match entry(k) {
                Some(e) if captured_const => boxed(e.then(|e| {
                    let (x, o) = (e.arg(arg(k)), e.arg(arg(other)));
                    let var = Sym::Arg(k);
                    let h1 = c.body.derivative(&var);
                    let h2 = h1.derivative(&var);
                    let remap = |s: &Sym| {
                        s.map_leaves(&|l| match l {
                            Sym::Arg(j) if *j == k => Some(x.clone()),
                            Sym::Arg(j) if *j == other => Some(o.clone()),
                            _ => None,
                        })
                    };
                    (remap(&h1), remap(&h2))
                })),
                _ => Form::Other,
            }
        }
        Op::Sigmoid => match entry(0) {
            // s′ = s (1 − s), s″ = s (1 − s)(1 − 2s), in the value s.
            Some(e) => boxed(e.then(|e| {
                let s = e.arg(id);
                let d = Sym::mul(s.clone(), Sym::sub(Sym::Lit(1.0), s.clone()));
                let d2 = Sym::mul(
                    d.clone(),
                    Sym::sub(Sym::Lit(1.0), Sym::mul(Sym::Lit(2.0), s)),
                );
                (d, d2)
            })),
            None => Form::Other,
        },
        Op::Softplus => match entry(0) {
            // softplus′ = σ, softplus″ = σ (1 − σ).
            Some(e) => boxed(e.then(|e| {
                let s = Sym::Rt(RtFn::SigmoidScalar, Box::new(e.arg(arg(0))));
                let d2 = Sym::mul(s.clone(), Sym::sub(Sym::Lit(1.0), s.clone()));
                (s, d2)
            })),
            None => Form::Other,
        },
        Op::Relu => match entry(0) {
            Some(e) => boxed(e.then(|e| {
                let x = e.arg(arg(0));
                (Sym::Rt(RtFn::ReluStep, Box::new(x)), Sym::Lit(0.0))
            })),
            None => Form::Other,
        },
        Op::Sum | Op::Mean => {
            let coef = if matches!(node.op, Op::Mean) {
                Sym::div(Sym::Lit(1.0), Sym::Len(crate::sym::Operand::Value(arg(0))))
            } else {
                Sym::Lit(1.0)
            };
            match (entry(0), at(0)) {
                (Some(e), _) => e.sum(coef),
                (None, Form::Affine(_)) => Form::Affine(None),
                (None, c @ Form::Curved(_)) if is_one_by_one(kind(arg(0))) => c.clone(),
                _ => Form::Other,
            }
        }
        Op::NormSquared => match entry(0) {
            Some(e) => e
                .then(|e| {
                    let y = e.arg(arg(0));
                    (Sym::mul(Sym::Lit(2.0), y), Sym::Lit(2.0))
                })
                .sum(Sym::Lit(1.0)),
            None => Form::Other,
        },
        Op::Dot => {
            if arg(0) == arg(1) {
                return match entry(0) {
                    Some(e) => e
                        .then(|e| {
                            let y = e.arg(arg(0));
                            (Sym::mul(Sym::Lit(2.0), y), Sym::Lit(2.0))
                        })
                        .sum(Sym::Lit(1.0)),
                    None => Form::Other,
                };
            }
            match (at(0), at(1)) {
                (Form::Affine(Some(a)), Form::Affine(Some(b))) => {
                    cross(a, kind(arg(0)), b, kind(arg(1)))
                }
                (a, Form::Const) | (Form::Const, a) => {
                    let (k, c) = if at(1).is_const() { (0, 1) } else { (1, 0) };
                    match entry(k) {
                        Some(e) => e
                            .then(|e| (e.arg(arg(c)), Sym::Lit(0.0)))
                            .sum(Sym::Lit(1.0)),
                        None if a.is_affine() => Form::Affine(None),
                        None => Form::Other,
                    }
                }
                (a, b) if a.is_affine() && b.is_affine() => Form::Other,
                _ => Form::Other,
            }
        }
        Op::Trace => match at(0) {
            Form::Affine(_) => Form::Affine(None),
            c @ Form::Curved(_) if is_one_by_one(kind(arg(0))) => c.clone(),
            _ => Form::Other,
        },
        // tr(p q) = ⟨pᵀ, q⟩.
        Op::TraceMul => match (at(0), at(1)) {
            (Form::Affine(Some(p)), Form::Affine(Some(q))) => {
                cross(&p.flip(), kind(arg(0)), q, kind(arg(1)))
            }
            (a, b) if a.is_affine() && b.is_affine() && (a.is_const() || b.is_const()) => {
                Form::Affine(None)
            }
            _ => Form::Other,
        },
        Op::Index(..) => match at(0) {
            Form::Affine(_) => Form::Affine(None),
            c @ Form::Curved(_) if is_one_by_one(kind(arg(0))) => c.clone(),
            _ => Form::Other,
        },
        Op::LogSumExp => match at(0) {
            Form::Affine(Some(l)) => match l.vec_of(kind(arg(0))) {
                Some(l) => {
                    let (lin, s) = l.unscaled();
                    Form::Curved(vec![Piece::Softmax {
                        lin,
                        z: arg(0),
                        coef: Sym::mul(s.clone(), s),
                    }])
                }
                None => Form::Other,
            },
            _ => Form::Other,
        },
        // Linear maps of their (one varying) argument: affine, without a Kronecker map.
        Op::Column(_)
        | Op::Row(_)
        | Op::Rows(..)
        | Op::Columns(..)
        | Op::View(_)
        | Op::Diagonal
        | Op::Triangle { .. }
        | Op::RowSum { .. }
        | Op::ColumnSum { .. }
        | Op::FromDiagonal
        | Op::FromScalars(..)
        | Op::Fill(..)
        | Op::Identity(..) => {
            if node
                .args
                .iter()
                .all(|&a| forms.get(a).is_some_and(Form::is_affine))
            {
                Form::Affine(None)
            } else {
                Form::Other
            }
        }
        Op::Kronecker => match (at(0), at(1)) {
            (a, b) if (a.is_const() && b.is_affine()) || (a.is_affine() && b.is_const()) => {
                Form::Affine(None)
            }
            _ => Form::Other,
        },
        _ => Form::Other,
    }
}

/// `a + b` of scalars (or 1×1 matrices): the pieces of both.
fn sum(a: &Form, b: &Form) -> Form {
    match (a.pieces(), b.pieces()) {
        (Some(mut pa), Some(pb)) => {
            if matches!(a, Form::Curved(_)) || matches!(b, Form::Curved(_)) {
                pa.extend(pb);
                Form::Curved(pa)
            } else if a.is_const() && b.is_const() {
                Form::Const
            } else {
                Form::Affine(None)
            }
        }
        _ => Form::Other,
    }
}

/// A chain of products (under `reassociate`): one varying factor (a Kronecker map
/// through the constants around it), or two whose product is 1×1,
/// `P₁ U P₂ V P₃ = tr(U P₂ V P₃ P₁) = ⟨Uᵀ, P₂ V P₃ P₁⟩`.
fn chain(
    g: &Graph,
    node: &crate::ir::Node,
    forms: &[Form],
    cross: &dyn Fn(&Lin, Kind, &Lin, Kind) -> Form,
) -> Form {
    let f = |a: NodeId| forms.get(a).unwrap_or(&Form::Other);
    let varying: Vec<usize> = (0..node.args.len())
        .filter(|&k| node.args.get(k).is_some_and(|&a| !f(a).is_const()))
        .collect();
    let consts = |ks: std::ops::Range<usize>| -> Vec<(NodeId, bool)> {
        ks.filter_map(|k| node.args.get(k).map(|&a| (a, false)))
            .collect()
    };
    let n = node.args.len();
    match varying.as_slice() {
        [k] => {
            let Some(&a) = node.args.get(*k) else {
                return Form::Other;
            };
            match f(a) {
                Form::Affine(Some(l)) => Form::Affine(Some(
                    l.left_mul(&consts(0..*k)).right_mul(&consts(k + 1..n)),
                )),
                Form::Affine(None) => Form::Affine(None),
                _ => Form::Other,
            }
        }
        [i, j] if is_one_by_one(node.kind) => {
            let (Some(&u), Some(&v)) = (node.args.get(*i), node.args.get(*j)) else {
                return Form::Other;
            };
            match (f(u), f(v)) {
                (Form::Affine(Some(lu)), Form::Affine(Some(lv))) => {
                    let mut after = consts(j + 1..n);
                    after.extend(consts(0..*i));
                    let lv = lv.left_mul(&consts(i + 1..*j)).right_mul(&after);
                    // The value of P₂ V P₃ P₁ is shaped like Uᵀ: a vector when U is.
                    let ku = g.node(u).kind;
                    let kv = match ku {
                        Kind::Matrix(s) => Kind::Matrix(s.transpose()),
                        k => k,
                    };
                    cross(&lu.flip(), ku, &lv, kv)
                }
                _ => Form::Other,
            }
        }
        _ => Form::Other,
    }
}

// ---------------------------------------------------------------------------
// Shapes and costs
// ---------------------------------------------------------------------------

/// Symbolic dimensions: `p×q` of the variable, and the shape of each node.
struct Dims<'a> {
    shapes: &'a [Option<(Poly, Poly)>],
    p: Poly,
    q: Poly,
}

impl Dims<'_> {
    fn shape(&self, id: NodeId) -> (Poly, Poly) {
        self.shapes
            .get(id)
            .cloned()
            .flatten()
            .unwrap_or((Poly::num(1), Poly::num(1)))
    }

    /// `(rows, cols)` of `op(f)`.
    fn op(&self, (f, t): (NodeId, bool)) -> (Poly, Poly) {
        let (r, c) = self.shape(f);
        if t {
            (c, r)
        } else {
            (r, c)
        }
    }

    /// `m`, the rows of `A` (`p` without one), and the cost of forming `A` from its
    /// factors, left to right.
    fn left(&self, lin: &Lin) -> (Poly, Poly) {
        let Some(&first) = lin.left.first() else {
            return (self.p.clone(), Poly::default());
        };
        let m = self.op(first).0;
        let mut cost = Poly::default();
        let mut cols = self.op(first).1;
        for &f in lin.left.iter().skip(1) {
            let (k, c) = self.op(f);
            cost = cost.add(&m.mul(&k).mul(&c));
            cols = c;
        }
        let _ = cols;
        (m, cost)
    }

    /// `r`, the columns of `B` (`q` without one), and the cost of forming `B`.
    fn right(&self, lin: &Lin) -> (Poly, Poly) {
        let Some(&first) = lin.right.first() else {
            return (self.q.clone(), Poly::default());
        };
        let rows = self.op(first).0;
        let mut cost = Poly::default();
        let mut r = self.op(first).1;
        for &f in lin.right.iter().skip(1) {
            let (k, c) = self.op(f);
            cost = cost.add(&rows.mul(&k).mul(&c));
            r = c;
        }
        (r, cost)
    }
}

/// The multiply-adds of building these pieces: with the runtime kernels (`dynamic`),
/// or, for static sizes, with each `L` formed (`Lᵀ D L` by nalgebra's products).
fn pieces_cost(pieces: &[Piece], d: &Dims<'_>, dynamic: bool) -> Poly {
    let (p, q) = (&d.p, &d.q);
    let (pp, qq) = (p.mul(p), q.mul(q));
    let n = p.mul(q);
    let nn = n.mul(&n);
    let mut total = Poly::default();
    for piece in pieces {
        let c = match piece {
            Piece::Gram { lin, weight, .. } => {
                let ((m, ca), (r, cb)) = (d.left(lin), d.right(lin));
                let mr = m.mul(&r);
                let forming = ca.add(&cb);
                if !dynamic && weight.is_some() {
                    forming.add(&mr.mul(&n)).add(&mr.mul(&nn))
                } else {
                    let (has_a, has_b) = (!lin.left.is_empty(), !lin.right.is_empty());
                    let gram = if has_a {
                        m.mul(&pp).add(&m.mul(p))
                    } else {
                        p.clone()
                    };
                    match (weight, has_b) {
                        (None, _) => {
                            let ata = if has_a { m.mul(&pp) } else { Poly::default() };
                            let bbt = if has_b { qq.mul(&r) } else { Poly::default() };
                            forming.add(&ata).add(&bbt).add(&nn)
                        }
                        (Some(_), false) => forming.add(&mr).add(&q.mul(&gram)),
                        (Some(_), true) => forming.add(&mr).add(&r.mul(&gram.add(&nn))),
                    }
                }
            }
            // Both backends: (op(B₁) op(B₂)ᵀ) ⊗ (op(A₁)ᵀ op(A₂)), no L formed.
            Piece::Cross { a, b, .. } => {
                let ((m, ca1), (r, cb1)) = (d.left(a), d.right(a));
                let ((_, ca2), (_, cb2)) = (d.left(b), d.right(b));
                let forming = ca1.add(&cb1).add(&ca2).add(&cb2);
                let x = if !a.left.is_empty() && !b.left.is_empty() {
                    m.mul(&pp)
                } else {
                    pp.clone()
                };
                let y = if !a.right.is_empty() && !b.right.is_empty() {
                    qq.mul(&r)
                } else {
                    qq.clone()
                };
                forming.add(&x).add(&y).add(&nn)
            }
            Piece::Softmax { lin, .. } => {
                let ((m, ca), (r, cb)) = (d.left(lin), d.right(lin));
                let mr = m.mul(&r);
                let forming = ca.add(&cb);
                if !dynamic {
                    forming
                        .add(&mr.mul(&n).mul(&Poly::num(2)))
                        .add(&mr.mul(&nn))
                        .add(&nn)
                } else {
                    let has_a = !lin.left.is_empty();
                    let gram = if has_a {
                        m.mul(&pp).add(&m.mul(p))
                    } else {
                        p.clone()
                    };
                    let u = if has_a { mr.mul(p) } else { Poly::default() }.add(&if lin
                        .right
                        .is_empty()
                    {
                        Poly::default()
                    } else {
                        p.mul(&r).mul(q)
                    });
                    let blocks = if lin.right.is_empty() {
                        q.mul(&gram)
                    } else {
                        r.mul(&gram.add(&nn))
                    };
                    forming.add(&mr).add(&blocks).add(&u).add(&nn)
                }
            }
        };
        total = total.add(&c);
    }
    total
}

/// The most combinations of run-time chain associations [`plan`] compares with.
const MAX_ESTIMATES: usize = 64;

/// How `NAME_hessian` is built, and why.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The structure, when one was recognised.
    pub pieces: Option<Vec<Piece>>,
    /// The multiply-adds of the structured build (over the parameters' dimensions,
    /// those the program forces equal identified), when there is a structure.
    pub structured: Option<Poly>,
    /// The estimate for the column-by-column build: `n` directions, each the tangent
    /// sweep and a reverse sweep through the same products, and the `n²` entries
    /// written; one per association the run-time choice of a chain can take.
    pub columns: Vec<Poly>,
    /// Whether the structure is used: recognised, and its count at most every
    /// estimate for every size.
    pub use_structure: bool,
}

impl Plan {
    /// The estimate of the column-by-column build, as text: `2 x.c x.c x.r + …`, or
    /// the smallest of several (a chain associated at run time).
    pub fn columns_text(&self) -> String {
        match self.columns.as_slice() {
            [one] => one.to_string(),
            many => {
                let all: Vec<String> = many.iter().map(Poly::to_string).collect();
                format!("min({})", all.join(", "))
            }
        }
    }

    /// The pieces, when the structure is used.
    pub fn chosen(&self) -> Option<&[Piece]> {
        if self.use_structure {
            self.pieces.as_deref()
        } else {
            None
        }
    }
}

/// The plan for the Hessian of `g`'s value with respect to parameter `w`, given the
/// tangent graph `t` of the HVP (whose nodes depending on parameter `direction` are
/// the per-column work of the column-by-column build). `dynamic`: the dynamic
/// backend builds it (else the static one).
pub fn plan(g: &Graph, w: usize, t: &Graph, direction: usize, dynamic: bool) -> Plan {
    let tshapes = cost::shapes(t);
    let same = cost::equal_dimensions(t, &tshapes);
    let rename = |p: &Poly| p.renamed(&same);
    // Per column: each node depending on the direction, its tangent, and the reverse
    // sweep through it (at least as many multiply-adds). A chain associated at run
    // time costs one of its candidates: every combination is an estimate.
    let dep = t.active(&[direction]);
    let mut per_column = cost::Cost::default();
    for id in 0..t.nodes.len() {
        if crate::ir::flag(&dep, id) {
            let c = cost::node_cost(t, id, &tshapes);
            per_column.fixed = per_column.fixed.add(&c.fixed);
            per_column.choices.extend(c.choices);
        }
    }
    let mut estimates = vec![per_column.fixed.clone()];
    for choice in &per_column.choices {
        if estimates.len() * choice.candidates.len() > MAX_ESTIMATES {
            break;
        }
        estimates = estimates
            .iter()
            .flat_map(|e| choice.candidates.iter().map(move |c| e.add(c)))
            .collect();
    }
    let shapes: Vec<Option<(Poly, Poly)>> = cost::shapes(g)
        .into_iter()
        .map(|s| s.map(|(r, c)| (rename(&r), rename(&c))))
        .collect();
    let (p, q) = shapes
        .get(w)
        .cloned()
        .flatten()
        .unwrap_or((Poly::num(1), Poly::num(1)));
    let n = p.mul(&q);
    // n columns of two sweeps each, and the n² entries they are copied into.
    let mut columns: Vec<Poly> = Vec::new();
    for e in &estimates {
        let c = rename(&n.mul(&Poly::num(2)).mul(e).add(&n.mul(&n)));
        if !columns.contains(&c) {
            columns.push(c);
        }
    }
    let pieces = recognize(g, w);
    let dims = Dims {
        shapes: &shapes,
        p,
        q,
    };
    let structured = pieces.as_ref().map(|ps| pieces_cost(ps, &dims, dynamic));
    let use_structure = structured
        .as_ref()
        .is_some_and(|s| columns.iter().all(|c| s.at_most(c)));
    Plan {
        pieces,
        structured,
        columns,
        use_structure,
    }
}

// ---------------------------------------------------------------------------
// Formulas
// ---------------------------------------------------------------------------

/// `op(f₁) op(f₂) ⋯` as a term; `None` for no factor (the identity).
fn factors_term(fs: &[(NodeId, bool)], terms: &Terms<'_>) -> Option<Term> {
    let parts: Vec<Term> = fs
        .iter()
        .map(|&(f, t)| {
            let v = terms.value(f);
            if t {
                Term::app("t", vec![v])
            } else {
                v
            }
        })
        .collect();
    match parts.len() {
        0 => None,
        1 => parts.into_iter().next(),
        _ => Some(Term::app("*", parts)),
    }
}

fn t(x: Term) -> Term {
    Term::app("t", vec![x])
}

fn product(xs: Vec<Option<Term>>) -> Term {
    let xs: Vec<Term> = xs.into_iter().flatten().collect();
    match xs.len() {
        0 => Term::sym("I"),
        1 => xs.into_iter().next().unwrap_or_else(|| Term::sym("I")),
        _ => Term::app("*", xs),
    }
}

/// Which sides of the variable's shape are 1 by its type: a column (`q = 1`) or a
/// row (`p = 1`) vector, whose Hessian needs no Kronecker product to be written.
#[derive(Clone, Copy, Debug)]
struct Layout {
    column: bool,
    row: bool,
}

impl Layout {
    fn of(var: Kind) -> Layout {
        match var {
            Kind::Matrix(s) => Layout {
                column: s.cols == Dim::One,
                row: s.rows == Dim::One,
            },
            Kind::Scalar => Layout {
                column: true,
                row: true,
            },
        }
    }

    /// `y ⊗ x` (`y` over the columns of the variable, `x` over its rows), or the
    /// factor that is not 1×1.
    fn kron(self, y: Term, x: Term) -> Term {
        if self.column {
            x
        } else if self.row {
            y
        } else {
            Term::app("⊗", vec![y, x])
        }
    }
}

/// The Hessian these pieces make, as a term in the function's names, and the
/// definitions it cites (`p = softmax(z)`). `var` is the variable's kind: a vector's
/// Hessian is written without Kronecker products.
pub fn formula(pieces: &[Piece], terms: &Terms<'_>, var: Kind) -> (Term, Vec<(String, Term)>) {
    let layout = Layout::of(var);
    let mut parts = Vec::new();
    let mut wheres = Vec::new();
    let coef = |c: &Sym| terms.sym(c, &[], false).0;
    let scaled = |c: &Sym, x: Term| {
        if c.is_lit(1.0) {
            x
        } else {
            Term::app("scale", vec![coef(c), x])
        }
    };
    for piece in pieces {
        match piece {
            Piece::Gram {
                lin,
                weight,
                args,
                coef: c,
                ..
            } => {
                let (a, b) = (
                    factors_term(&lin.left, terms),
                    factors_term(&lin.right, terms),
                );
                let x = match weight {
                    None => {
                        let ata = product(vec![a.clone().map(t), a]);
                        let bbt = product(vec![b.clone(), b.map(t)]);
                        layout.kron(bbt, ata)
                    }
                    Some(wt) => {
                        let vals: Vec<Term> = args.iter().map(|&a| terms.value(a)).collect();
                        let d = terms.sym(wt, &vals, true).0;
                        let d = if layout.column || layout.row {
                            d
                        } else {
                            Term::app("vec", vec![d])
                        };
                        let bt = product(vec![b.clone()]);
                        let left = layout.kron(bt, product(vec![a.clone().map(t)]));
                        let right = layout.kron(product(vec![b.map(t)]), product(vec![a]));
                        Term::app("*", vec![left, Term::app("diag", vec![d]), right])
                    }
                };
                parts.push(scaled(c, x));
            }
            Piece::Cross { a, b, coef: c } => {
                let (a1, b1) = (factors_term(&a.left, terms), factors_term(&a.right, terms));
                let (a2, b2) = (factors_term(&b.left, terms), factors_term(&b.right, terms));
                // M + Mᵀ, M = Y ⊗ X, Y = B₁ B₂ᵀ, X = A₁ᵀ A₂: Y ⊗ (X + Xᵀ) when Y is
                // symmetric (B₁ = B₂), (Y + Yᵀ) ⊗ X when X is.
                let sym_y = a.right == b.right;
                let sym_x = a.left == b.left;
                let x = product(vec![a1.map(t), a2]);
                let y = product(vec![b1, b2.map(t)]);
                let plus = |m: Term| Term::app("+", vec![m.clone(), t(m)]);
                let m = if layout.column {
                    plus(x)
                } else if layout.row {
                    plus(y)
                } else if sym_y {
                    layout.kron(y, plus(x))
                } else if sym_x {
                    layout.kron(plus(y), x)
                } else {
                    Term::app(
                        "+",
                        vec![layout.kron(y.clone(), x.clone()), layout.kron(t(y), t(x))],
                    )
                };
                parts.push(scaled(c, m));
            }
            Piece::Softmax { lin, z, coef: c } => {
                let (a, b) = (
                    factors_term(&lin.left, terms),
                    factors_term(&lin.right, terms),
                );
                let name = if wheres.is_empty() {
                    "p".to_owned()
                } else {
                    format!("p{}", wheres.len() + 1)
                };
                wheres.push((name.clone(), Term::app("softmax", vec![terms.value(*z)])));
                let pv = Term::sym(&name);
                let mid = Term::app(
                    "+",
                    vec![
                        Term::app("diag", vec![pv.clone()]),
                        Term::app("neg", vec![Term::app("*", vec![pv.clone(), t(pv)])]),
                    ],
                );
                let left = layout.kron(product(vec![b.clone()]), product(vec![a.clone().map(t)]));
                let right = layout.kron(product(vec![b.map(t)]), product(vec![a]));
                parts.push(scaled(c, Term::app("*", vec![left, mid, right])));
            }
        }
    }
    let h = match parts.len() {
        0 => Term::Num(0.0),
        1 => parts.into_iter().next().unwrap_or(Term::Num(0.0)),
        _ => Term::app("+", parts),
    };
    (simplify(&h), wheres)
}

// ---------------------------------------------------------------------------
// Code
// ---------------------------------------------------------------------------

/// What the dynamic lowering needs from the backend.
pub trait Lowering {
    /// A `DMatrixView` of node `id`'s value.
    fn view(&self, id: NodeId) -> TokenStream;
    /// The entries of node `id`'s value as a column-major slice.
    fn slice(&self, id: NodeId) -> TokenStream;
    /// A scalar expression (`Sym::Arg(k)` is `__mg_a{k}`).
    fn sym(&self, s: &Sym) -> TokenStream;
    /// A fresh workspace buffer: the statement taking it, and its name.
    fn scratch(&self) -> (TokenStream, Ident);
}

/// The statements writing the pieces' Hessian into the `DMatrix` `h` (`n×n`, `n =
/// p q` for the variable `w`'s `p×q`) with the runtime kernels.
pub fn lower(pieces: &[Piece], w: NodeId, h: &Ident, n: &dyn Lowering) -> TokenStream {
    let rt = crate::emit::rt();
    let vw = n.view(w);
    let (mp, mq) = (crate::emit::mixed("__mg_p"), crate::emit::mixed("__mg_q"));
    let mut out = quote!(let (#mp, #mq) = (#vw.nrows(), #vw.ncols()););
    let pq = quote!((#mp, #mq));
    let side = |fs: &[(NodeId, bool)], out: &mut TokenStream| -> TokenStream {
        match fs {
            [] => quote!(::core::option::Option::None),
            [(f, tr)] => {
                let v = n.view(*f);
                quote!(::core::option::Option::Some((#v, #tr)))
            }
            many => {
                let (take, buf) = n.scratch();
                out.extend(take);
                let mut temps = Vec::new();
                for _ in 2..many.len() {
                    let (take, t) = n.scratch();
                    out.extend(take);
                    temps.push(t);
                }
                let fs = many.iter().map(|(f, tr)| {
                    let v = n.view(*f);
                    quote!((#v, #tr))
                });
                let one = n.sym(&Sym::Lit(1.0));
                out.extend(quote! {
                    #rt::chain_product_to(&mut #buf, false, #one, &[#(#fs),*], &mut [#(&mut #temps),*]);
                });
                quote!(::core::option::Option::Some((#rt::view(&#buf), false)))
            }
        }
    };
    let scratch = |out: &mut TokenStream| -> Ident {
        let (take, s) = n.scratch();
        out.extend(take);
        s
    };
    if pieces.is_empty() {
        let zero = n.sym(&Sym::Lit(0.0));
        out.extend(quote!(#rt::fill_to(&mut #h, false, #zero, #mp * #mq, #mp * #mq);));
    }
    for (k, piece) in pieces.iter().enumerate() {
        let acc = k > 0;
        match piece {
            Piece::Gram {
                lin,
                z,
                weight,
                args,
                coef,
            } => {
                let (a, b) = (side(&lin.left, &mut out), side(&lin.right, &mut out));
                let d = match weight {
                    None => quote!(::core::option::Option::None),
                    Some(wt) => {
                        let dbuf = scratch(&mut out);
                        let vz = n.view(*z);
                        let slices = args.iter().map(|&a| n.slice(a));
                        let params: Vec<Ident> = (0..args.len())
                            .map(|k| crate::emit::mixed(&format!("__mg_a{k}")))
                            .collect();
                        let f = n.sym(wt);
                        out.extend(quote! {
                            #rt::zip_n_to(&mut #dbuf, false, #vz.nrows(), #vz.ncols(), [#(#slices),*], |[#(#params),*]| #f);
                        });
                        quote!(::core::option::Option::Some(#rt::view(&#dbuf)))
                    }
                };
                let (s1, s2) = (scratch(&mut out), scratch(&mut out));
                let alpha = n.sym(coef);
                out.extend(quote! {
                    #rt::kron_gram_to(&mut #h, #acc, #alpha, #a, #b, #d, #pq, &mut #s1, &mut #s2);
                });
            }
            Piece::Cross { a, b, coef } => {
                let (a1, b1) = (side(&a.left, &mut out), side(&a.right, &mut out));
                let (a2, b2) = (side(&b.left, &mut out), side(&b.right, &mut out));
                let (s1, s2) = (scratch(&mut out), scratch(&mut out));
                let alpha = n.sym(coef);
                out.extend(quote! {
                    #rt::kron_cross_to(&mut #h, #acc, #alpha, #a1, #b1, #a2, #b2, #pq, &mut #s1, &mut #s2);
                });
            }
            Piece::Softmax { lin, z, coef } => {
                let (a, b) = (side(&lin.left, &mut out), side(&lin.right, &mut out));
                let (s1, s2, s3) = (scratch(&mut out), scratch(&mut out), scratch(&mut out));
                let (alpha, vz) = (n.sym(coef), n.view(*z));
                out.extend(quote! {
                    #rt::softmax_gram_to(&mut #h, #acc, #alpha, #a, #b, #vz, #pq, &mut #s1, &mut #s2, &mut #s3);
                });
            }
        }
    }
    out
}

/// The size of a static dimension.
fn size(d: Dim) -> usize {
    d.size().unwrap_or(0)
}

/// The pieces' Hessian as one expression of type `SMatrix<T, N, N>` on the static
/// backend's stack values: each `L = op(B)ᵀ ⊗ op(A)` formed, `Lᵀ D L` by nalgebra's
/// products. `wshape` is the variable's shape.
pub fn lower_static(pieces: &[Piece], wshape: Shape, n: &dyn StaticNames) -> TokenStream {
    let __mg_d = crate::emit::mixed("__mg_d");
    let __mg_dl = crate::emit::mixed("__mg_dl");
    let __mg_e = crate::emit::mixed("__mg_e");
    let __mg_h = crate::emit::mixed("__mg_h");
    let __mg_i = crate::emit::mixed("__mg_i");
    let __mg_k = crate::emit::mixed("__mg_k");
    let __mg_l = crate::emit::mixed("__mg_l");
    let __mg_x = crate::emit::mixed("__mg_x");
    let __mg_y = crate::emit::mixed("__mg_y");
    let __mg_m = crate::emit::mixed("__mg_m");
    let __mg_pv = crate::emit::mixed("__mg_pv");
    let __mg_s = crate::emit::mixed("__mg_s");
    let __mg_top = crate::emit::mixed("__mg_top");
    let __mg_u = crate::emit::mixed("__mg_u");
    let __mg_v = crate::emit::mixed("__mg_v");
    let (p, q) = (size(wshape.rows), size(wshape.cols));
    let nn = p * q;
    let h_ty = n.ty(Shape {
        rows: Dim::fixed(nn),
        cols: Dim::fixed(nn),
    });
    let square = |k: usize| {
        n.ty(Shape {
            rows: Dim::fixed(k),
            cols: Dim::fixed(k),
        })
    };
    // op(A) (m×p) or op(B) (q×r) as an expression, with its outer dimension.
    let side = |fs: &[(NodeId, bool)], inner: usize, left: bool| -> (TokenStream, usize) {
        if fs.is_empty() {
            let ty = square(inner);
            return (quote!(#ty::identity()), inner);
        }
        let xs: Vec<TokenStream> = fs
            .iter()
            .map(|&(f, tr)| {
                let v = n.value(f);
                if tr {
                    quote!(#v.transpose())
                } else {
                    v
                }
            })
            .collect();
        let outer = |&(f, tr): &(NodeId, bool)| {
            let s = n.shape(f);
            let s = if tr { s.transpose() } else { s };
            if left {
                size(s.rows)
            } else {
                size(s.cols)
            }
        };
        let dim = if left {
            fs.first().map_or(inner, outer)
        } else {
            fs.last().map_or(inner, outer)
        };
        (quote!((#(#xs)*)), dim)
    };
    // `L = op(B)ᵀ ⊗ op(A)`, `(m r)×(p q)`, `m r` and the type of `L`.
    let l_of = |lin: &Lin| -> (TokenStream, usize, TokenStream) {
        let (a, m) = side(&lin.left, p, true);
        let (b, r) = side(&lin.right, q, false);
        let ty = n.ty(Shape {
            rows: Dim::fixed(m * r),
            cols: Dim::fixed(nn),
        });
        (
            quote!({ let #__mg_l: #ty = (#b).transpose().kronecker(&(#a)); #__mg_l }),
            m * r,
            ty,
        )
    };
    // diag(d) L, row i of L scaled by d[i].
    let scaled_rows = |lty: &TokenStream, d: &Ident| quote!(#lty::from_fn(|#__mg_i, #__mg_k| #d[#__mg_i] * #__mg_l[(#__mg_i, #__mg_k)]));
    let weights = |args: &[NodeId], wt: &Sym, mr: usize| -> TokenStream {
        let ty = n.ty(Shape {
            rows: Dim::fixed(mr),
            cols: Dim::One,
        });
        let binds = args.iter().enumerate().map(|(k, &a)| {
            let (name, v) = (crate::emit::mixed(&format!("__mg_a{k}")), n.value(a));
            quote!(let #name = #v[#__mg_k];)
        });
        let f = n.sym(wt, 0);
        quote!(#ty::from_fn(|#__mg_k, _| { #(#binds)* #f }))
    };
    let mut parts = Vec::new();
    for piece in pieces {
        let e = match piece {
            Piece::Gram {
                lin,
                weight,
                args,
                coef,
                ..
            } => {
                let (l, mr, lty) = l_of(lin);
                let c = n.sym(coef, 3);
                match weight {
                    // (op(B) op(B)ᵀ) ⊗ (op(A)ᵀ op(A)): no L formed.
                    None => {
                        let (a, _) = side(&lin.left, p, true);
                        let (b, _) = side(&lin.right, q, false);
                        quote!({
                            let #__mg_x = (#a).transpose() * (#a);
                            let #__mg_y = (#b) * (#b).transpose();
                            #__mg_y.kronecker(&#__mg_x) * #c
                        })
                    }
                    Some(wt) => {
                        let d = weights(args, wt, mr);
                        let dl = scaled_rows(&lty, &__mg_d);
                        quote!({
                            let #__mg_l = #l;
                            let #__mg_d = #d;
                            let #__mg_dl = #dl;
                            #__mg_l.tr_mul(&#__mg_dl) * #c
                        })
                    }
                }
            }
            // M = (op(B₁) op(B₂)ᵀ) ⊗ (op(A₁)ᵀ op(A₂)), then M + Mᵀ.
            Piece::Cross { a, b, coef } => {
                let ((a1, _), (b1, _)) = (side(&a.left, p, true), side(&a.right, q, false));
                let ((a2, _), (b2, _)) = (side(&b.left, p, true), side(&b.right, q, false));
                let c = n.sym(coef, 3);
                quote!({
                    let #__mg_x = (#a1).transpose() * (#a2);
                    let #__mg_y = (#b1) * (#b2).transpose();
                    let #__mg_m = #__mg_y.kronecker(&#__mg_x);
                    (#__mg_m + #__mg_m.transpose()) * #c
                })
            }
            Piece::Softmax { lin, z, coef } => {
                let (l, mr, lty) = l_of(lin);
                let c = n.sym(coef, 3);
                let vz = n.value(*z);
                let col = n.ty(Shape {
                    rows: Dim::fixed(mr),
                    cols: Dim::One,
                });
                let dl = scaled_rows(&lty, &__mg_pv);
                let rt = crate::emit::rt();
                quote!({
                    let #__mg_l = #l;
                    let #__mg_top = #vz.max();
                    let #__mg_e = #vz.map(|#__mg_v| #rt::ComplexField::exp(#__mg_v - #__mg_top));
                    let #__mg_s = #__mg_e.sum();
                    let #__mg_pv = #col::from_fn(|#__mg_k, _| #__mg_e[#__mg_k] / #__mg_s);
                    let #__mg_dl = #dl;
                    let #__mg_u = #__mg_l.tr_mul(&#__mg_pv);
                    (#__mg_l.tr_mul(&#__mg_dl) - #__mg_u * #__mg_u.transpose()) * #c
                })
            }
        };
        parts.push(e);
    }
    if parts.is_empty() {
        return quote!(#h_ty::zeros());
    }
    let parts = parts.iter().map(|p| quote!((#p)));
    quote!({ let #__mg_h: #h_ty = #(#parts)+*; #__mg_h })
}

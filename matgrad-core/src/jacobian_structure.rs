//! Structured Jacobians: `J` formed directly from the structure of the residuals'
//! tangent, instead of one tangent sweep per variable entry.
//!
//! The tangent of the residuals along a variable's direction `v` is linear in `v`
//! (every rule's `tangent` is), so it is `J v`. For a column variable, this module
//! reads the section of tangent nodes ([`crate::tangent::jvp_graph`]) and writes
//! `J` as a sum of terms `s · diag(c) B`, with `s` a literal, `c` a column or a
//! scalar of values (computed once) and `B` one of
//!
//! - `A`, a matrix of values: `A x` with `x` the variable gives `J = A`;
//! - the identity: `x` itself gives `J = I`;
//! - `𝟙 e_kᵀ`: entry k of the variable read as a scalar (`x[k]`), whose tangent
//!   is `v_k`, gives a Jacobian with column k alone.
//!
//! The formulas, one per form of tangent node (`J_t` the Jacobian of tangent node
//! `t`, `c` a value):
//!
//! - the direction: `J = I`; `v[k]` (a scalar): `J = e_kᵀ`;
//! - `A ṫ` (`A` a value, `J_ṫ = c I`, `c` a scalar): `J = c A`;
//! - an entrywise node (`map`, `zip_map`, a scalar expression, `+`, `−`, `⊙`, a
//!   scale, a quotient by a value) is linear in its tangent operands `L`: its
//!   closure is `Σ_L (∂g/∂L) L`, so `J = Σ_L diag(∂g/∂L) J_L`, with `∂g/∂L` read at
//!   the values (the closure's symbolic derivative);
//! - terms on the same `B` are added (their coefficients summed).
//!
//! So `f(A x) − y` gives `J = diag(f′(A x)) A` (one pass over `A`), `A x + b` gives
//! `J = A`, `t.map(|v| a e^{−b v})` of a variable `p = (a, b)` gives
//! `J = e^{−b t} e₀ᵀ − a t e^{−b t} e₁ᵀ` (each column written once). Any other
//! node on the way (a product with the tangent on the left, a reduction, a matrix
//! variable, …) gives `None`: the Jacobian is then swept (forward or reverse mode).
//! The cost model chooses the structured form when it is no dearer than either
//! sweep for all sizes (`crate::jacobian`).

use crate::emit::jacobian::ancestors;
use crate::ir::{flag, Closure, Count, Dim, Graph, Kind, Node, NodeId, Op};
use crate::sym::Sym;
use std::collections::HashMap;

/// The matrix a term of a structured Jacobian scales.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    /// `A`, a matrix of values with as many rows as the residuals and columns as the
    /// variable has entries: `J = diag(c) A` (from `A x`, `x` the variable).
    Matrix(NodeId),
    /// The identity: `J = diag(c)` (from `x` itself).
    Identity,
    /// `𝟙 e_kᵀ`: column k only, `J = c e_kᵀ` (from `x[k]`).
    Column(usize),
}

/// One term `scale · diag(coef) base` of a structured Jacobian.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    /// A literal factor (a sign, mostly).
    pub scale: f64,
    /// The row scale: a column of values (one per residual) or a scalar value
    /// node; `None`: one.
    pub coef: Option<NodeId>,
    /// The matrix it scales.
    pub base: Base,
}

/// A term before its coefficient is a node: the coefficient as an expression of
/// value nodes (a column node read entrywise, a scalar node as it is).
type Raw = Vec<(Sym, Base)>;

/// The terms of `J` for the variable whose direction is parameter `dir`, from the
/// tangent nodes `start..end` with `tangent` the residuals' tangent. `None` when a
/// node on the way has no structured form (see the module docs). The coefficients
/// are expressions of values; [`materialise`] makes them nodes.
pub fn recognise(
    g: &Graph,
    dir: NodeId,
    start: NodeId,
    end: NodeId,
    tangent: NodeId,
) -> Option<Raw> {
    // A column variable.
    match g.nodes.get(dir)?.kind {
        Kind::Matrix(s) if s.cols == Dim::One => {}
        _ => return None,
    }
    let on = g.active(&[dir]);
    let need = ancestors(g, &[tangent]);
    let mut cols: HashMap<NodeId, Raw> = HashMap::new();
    let mut scal: HashMap<NodeId, Vec<(Sym, usize)>> = HashMap::new();
    cols.insert(dir, vec![(Sym::Lit(1.0), Base::Identity)]);
    for id in start..end.min(g.nodes.len()) {
        if !flag(&on, id) || !flag(&need, id) {
            continue;
        }
        let node = g.node(id);
        let args = node.args.as_slice();
        let terms = match &node.op {
            Op::Index(Count::Lit(i), Count::Lit(0)) => {
                let &[a] = args else { return None };
                // Entry i of the direction (times a scalar).
                let ta = cols.get(&a)?;
                let mut out = Vec::new();
                for (c, b) in ta {
                    if *b != Base::Identity || has_column(g, c) {
                        return None;
                    }
                    out.push((c.clone(), Base::Column(*i)));
                }
                out
            }
            Op::MatMul => {
                let &[a, t] = args else { return None };
                if flag(&on, a) || !flag(&on, t) {
                    return None;
                }
                let tt = cols.get(&t)?;
                let mut out = Vec::new();
                for (c, b) in tt {
                    if *b != Base::Identity || has_column(g, c) {
                        return None;
                    }
                    out.push((c.clone(), Base::Matrix(a)));
                }
                out
            }
            op => {
                let (body, leaves) = entrywise(op, args)?;
                combine(&on, &body, &leaves, &cols, &scal)?
            }
        };
        let terms = merged(terms);
        match node.kind {
            Kind::Scalar => {
                let mut s = Vec::new();
                for (c, b) in terms {
                    let Base::Column(k) = b else { return None };
                    if has_column(g, &c) {
                        return None;
                    }
                    s.push((c, k));
                }
                scal.insert(id, s);
            }
            Kind::Matrix(sh) if sh.cols == Dim::One => {
                cols.insert(id, terms);
            }
            Kind::Matrix(_) => return None,
        }
    }
    let out = cols.remove(&tangent)?;
    Some(out.into_iter().filter(|(c, _)| !c.is_lit(0.0)).collect())
}

/// Whether `c` reads a matrix (column) node.
fn has_column(g: &Graph, c: &Sym) -> bool {
    c.any(&|x| matches!(x, Sym::Val(id) if g.nodes.get(*id).is_some_and(|n| n.kind.is_matrix())))
}

/// An entrywise node as one closure in `Val` leaves of its arguments (a column read
/// entrywise), with the leaves that stand for its arguments.
fn entrywise(op: &Op, args: &[NodeId]) -> Option<(Sym, Vec<(Sym, NodeId)>)> {
    let v = |k: usize| args.get(k).map(|&a| Sym::Val(a));
    let body = match op {
        Op::Map(c) => {
            let a = *args.first()?;
            c.body.subst_var(&Sym::Val(a))
        }
        Op::ZipMap(c) => {
            let (a, b) = (v(0)?, v(1)?);
            c.body.map_leaves(&|x| match x {
                Sym::Arg(0) => Some(a.clone()),
                Sym::Arg(1) => Some(b.clone()),
                _ => None,
            })
        }
        Op::Expr(c) => c.body.clone(),
        Op::Scalar(sop) => Sym::apply(*sop, args.iter().map(|&a| Sym::Val(a)).collect()),
        Op::Add => Sym::Add(Box::new(v(0)?), Box::new(v(1)?)),
        Op::Sub => Sym::Sub(Box::new(v(0)?), Box::new(v(1)?)),
        Op::Neg => Sym::Neg(Box::new(v(0)?)),
        Op::Scale | Op::ComponentMul => Sym::Mul(Box::new(v(0)?), Box::new(v(1)?)),
        Op::DivScalar | Op::ComponentDiv => Sym::Div(Box::new(v(0)?), Box::new(v(1)?)),
        Op::AddScalar => Sym::Add(Box::new(v(0)?), Box::new(v(1)?)),
        _ => return None,
    };
    // Every `Val` leaf that is an argument of the node can carry a tangent.
    let leaves = args.iter().map(|&a| (Sym::Val(a), a)).collect();
    Some((body, leaves))
}

/// `Σ_L (∂body/∂L) J_L` over the leaves on the direction.
fn combine(
    on: &[bool],
    body: &Sym,
    leaves: &[(Sym, NodeId)],
    cols: &HashMap<NodeId, Raw>,
    scal: &HashMap<NodeId, Vec<(Sym, usize)>>,
) -> Option<Raw> {
    let tangent_leaf = |x: &Sym| matches!(x, Sym::Val(id) if flag(on, *id));
    // Linear and homogeneous in the tangents.
    let rest = body
        .map_leaves(&|x| tangent_leaf(x).then_some(Sym::Lit(0.0)))
        .simplified();
    if !rest.is_lit(0.0) {
        return None;
    }
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for (leaf, node) in leaves {
        if !flag(on, *node) || seen.contains(node) {
            continue;
        }
        seen.push(*node);
        let d = body.derivative(leaf).simplified();
        if d.any(&|x| tangent_leaf(x) || matches!(x, Sym::Var | Sym::Arg(_))) {
            return None;
        }
        if let Some(tc) = cols.get(node) {
            for (c, b) in tc {
                out.push((Sym::mul(d.clone(), c.clone()), *b));
            }
        } else if let Some(ts) = scal.get(node) {
            for (c, k) in ts {
                out.push((Sym::mul(d.clone(), c.clone()), Base::Column(*k)));
            }
        } else {
            return None;
        }
    }
    Some(out)
}

/// Terms on the same base added.
fn merged(terms: Raw) -> Raw {
    let mut out: Raw = Vec::new();
    for (c, b) in terms {
        match out.iter_mut().find(|(_, ob)| *ob == b) {
            Some((oc, _)) => *oc = Sym::add(oc.clone(), c).simplified(),
            None => out.push((c.simplified(), b)),
        }
    }
    out
}

/// The terms with their coefficients as nodes appended to `g` (a coefficient that
/// is a literal, or a value node already, makes none): a `map` or `zip_map` of the
/// one or two columns it reads, a scalar expression when it reads none. `None`
/// when a coefficient reads more than two columns. `at` gives the new nodes their
/// span and text.
pub fn materialise(g: &mut Graph, raw: Raw, at: NodeId) -> Option<Vec<Term>> {
    let mut out = Vec::new();
    for (c, base) in raw {
        let c = c.simplified();
        if c.is_lit(0.0) {
            continue;
        }
        let (scale, c) = split_scale(c);
        let coef = match c {
            c if c.is_lit(1.0) => None,
            Sym::Val(id) => Some(id),
            c => Some(coefficient_node(g, c, at)?),
        };
        out.push(Term { scale, coef, base });
    }
    Some(out)
}

/// `(s, c)` with `c_in = s · c` for a literal `s` in front.
fn split_scale(c: Sym) -> (f64, Sym) {
    match c {
        Sym::Lit(x) => (x, Sym::Lit(1.0)),
        Sym::Neg(a) => {
            let (s, a) = split_scale(*a);
            (-s, a)
        }
        Sym::Mul(a, b) => match *a {
            Sym::Lit(x) => {
                let (s, b) = split_scale(*b);
                (x * s, b)
            }
            a => (1.0, Sym::Mul(Box::new(a), b)),
        },
        c => (1.0, c),
    }
}

/// A node computing `c` (see [`materialise`]).
fn coefficient_node(g: &mut Graph, c: Sym, at: NodeId) -> Option<NodeId> {
    let vals = crate::rules::tangent::vals(&c);
    // The earliest column first: its shape is the node's (a parameter's, where the
    // residuals' own sizes are named).
    let mut columns: Vec<NodeId> = vals
        .iter()
        .copied()
        .filter(|&id| g.nodes.get(id).is_some_and(|n| n.kind.is_matrix()))
        .collect();
    columns.sort_unstable();
    let (op, mut args, kind) = match columns.as_slice() {
        [] => (
            Op::Expr(Closure { body: c.clone() }),
            Vec::new(),
            Kind::Scalar,
        ),
        [a] => {
            let body = c.map_leaves(&|x| (*x == Sym::Val(*a)).then_some(Sym::Var));
            let kind = g.nodes.get(*a)?.kind;
            (Op::Map(Closure { body }), vec![*a], kind)
        }
        [a, b] => {
            let body = c.map_leaves(&|x| match x {
                Sym::Val(id) if id == a => Some(Sym::Arg(0)),
                Sym::Val(id) if id == b => Some(Sym::Arg(1)),
                _ => None,
            });
            let kind = g.nodes.get(*a)?.kind;
            (Op::ZipMap(Closure { body }), vec![*a, *b], kind)
        }
        _ => return None,
    };
    let body = match &op {
        Op::Map(cl) | Op::ZipMap(cl) | Op::Expr(cl) => cl.body.clone(),
        _ => return None,
    };
    args.extend(crate::rules::tangent::vals(&body));
    let from = g.nodes.get(at)?;
    let node = Node {
        op,
        args,
        kind,
        span: from.span,
        text: from.text.clone(),
        name: None,
    };
    g.nodes.push(node);
    Some(g.nodes.len() - 1)
}

/// The nodes the terms read (coefficients and matrices), to compute once.
pub fn reads(terms: &[Term]) -> Vec<NodeId> {
    let mut out = Vec::new();
    for t in terms {
        out.extend(t.coef);
        if let Base::Matrix(a) = t.base {
            out.push(a);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::split_scale;
    use crate::sym::Sym;

    #[test]
    fn literal_factors_come_out() {
        let c = Sym::Neg(Box::new(Sym::Mul(
            Box::new(Sym::Lit(2.0)),
            Box::new(Sym::Val(7)),
        )));
        assert_eq!(split_scale(c), (-2.0, Sym::Val(7)));
        assert_eq!(split_scale(Sym::Lit(3.0)), (3.0, Sym::Lit(1.0)));
    }
}

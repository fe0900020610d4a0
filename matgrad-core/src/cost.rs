//! A cost model: the multiply-adds (or entry operations) of each IR node, over
//! symbolic shapes.
//!
//! Shapes of `DMatrix`/`DVector` parameters are known only at run time, so a size is
//! a polynomial in the parameters' dimensions, written `a.r` and `a.c` (rows and
//! columns of `a`); static sizes and the 1 of a vector are numbers. A product of an
//! `m×k` and a `k×n` matrix costs `m k n`, written with the left factor's names
//! (`a.r a.c b.c`); a chain whose association is chosen at run time costs the
//! smaller of its two orders, `min(…, …)`. Used by [`crate::Derivation::forward_cost`]
//! to tell users what the forward pass costs after the rewrites of
//! [`crate::rewrite`].

use crate::ir::{Dim, Graph, Kind, NodeId, Op};
use std::collections::BTreeMap;
use std::fmt;

/// A polynomial with non-negative rational coefficients in dimension symbols
/// (`n³/3` for an LU factorisation; the other costs have integer coefficients).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Poly(BTreeMap<Vec<String>, Coef>);

/// A non-negative rational `num / den` in lowest terms, `den > 0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coef {
    num: u64,
    den: u64,
}

impl Coef {
    fn new(num: u64, den: u64) -> Coef {
        fn gcd(a: u64, b: u64) -> u64 {
            if b == 0 {
                a
            } else {
                gcd(b, a % b)
            }
        }
        let g = gcd(num, den).max(1);
        Coef {
            num: num / g,
            den: den / g,
        }
    }

    fn mul(self, o: Coef) -> Coef {
        Coef::new(self.num * o.num, self.den * o.den)
    }

    fn add(self, o: Coef) -> Coef {
        Coef::new(self.num * o.den + o.num * self.den, self.den * o.den)
    }
}

impl fmt::Display for Coef {
    /// `2`, or `1/3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

impl Poly {
    /// The number `n`.
    pub fn num(n: u64) -> Poly {
        let mut p = BTreeMap::new();
        if n != 0 {
            p.insert(Vec::new(), Coef::new(n, 1));
        }
        Poly(p)
    }

    /// The symbol `s`.
    pub fn sym(s: &str) -> Poly {
        Poly(BTreeMap::from([(vec![s.to_owned()], Coef::new(1, 1))]))
    }

    /// `self · other`.
    pub fn mul(&self, other: &Poly) -> Poly {
        let mut out: BTreeMap<Vec<String>, Coef> = BTreeMap::new();
        for (ma, ca) in &self.0 {
            for (mb, cb) in &other.0 {
                let mut m: Vec<String> = ma.iter().chain(mb).cloned().collect();
                m.sort();
                let c = ca.mul(*cb);
                out.entry(m).and_modify(|x| *x = x.add(c)).or_insert(c);
            }
        }
        Poly(out)
    }

    /// `self / d` (`d > 0`).
    pub fn div(&self, d: u64) -> Poly {
        let d = Coef::new(1, d.max(1));
        Poly(self.0.iter().map(|(m, c)| (m.clone(), c.mul(d))).collect())
    }

    /// `self + other`.
    pub fn add(&self, other: &Poly) -> Poly {
        let mut out = self.0.clone();
        for (m, c) in &other.0 {
            out.entry(m.clone())
                .and_modify(|x| *x = x.add(*c))
                .or_insert(*c);
        }
        Poly(out)
    }

    /// Whether it is zero.
    pub fn is_zero(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Poly {
    /// Highest degree first: `a.r a.c b.c + 2 a.r`, `1/3 a.r a.r a.r`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return write!(f, "0");
        }
        let mut terms: Vec<(&Vec<String>, &Coef)> = self.0.iter().collect();
        terms.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(b.0)));
        let one = Coef::new(1, 1);
        let text: Vec<String> = terms
            .into_iter()
            .map(|(m, c)| match (m.is_empty(), *c == one) {
                (true, _) => c.to_string(),
                (false, true) => m.join(" "),
                (false, false) => format!("{c} {}", m.join(" ")),
            })
            .collect();
        write!(f, "{}", text.join(" + "))
    }
}

/// A cost: a polynomial plus the run-time choices `min(p, q)` of the chains.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    /// The part known at expansion.
    pub fixed: Poly,
    /// One `(p, q)` per choice made at run time: it costs the smaller.
    pub choices: Vec<(Poly, Poly)>,
}

impl fmt::Display for Cost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = self
            .choices
            .iter()
            .map(|(p, q)| format!("min({p}, {q})"))
            .collect();
        if !self.fixed.is_zero() || parts.is_empty() {
            parts.insert(0, self.fixed.to_string());
        }
        write!(f, "{}", parts.join(" + "))
    }
}

/// The symbolic shape of each matrix node (`None` for scalars).
pub fn shapes(g: &Graph) -> Vec<Option<(Poly, Poly)>> {
    let mut out: Vec<Option<(Poly, Poly)>> = Vec::with_capacity(g.nodes.len());
    for (id, node) in g.nodes.iter().enumerate() {
        let Kind::Matrix(shape) = node.kind else {
            out.push(None);
            continue;
        };
        let arg = |k: usize| node.args.get(k).and_then(|&a| out[a].clone());
        let dim = |d: Dim, s: &str| match d {
            Dim::One => Poly::num(1),
            Dim::Fixed(n) => Poly::num(n as u64),
            Dim::Dyn => Poly::sym(s),
        };
        let label = g.label(id);
        let own = (
            dim(shape.rows, &format!("{label}.r")),
            dim(shape.cols, &format!("{label}.c")),
        );
        let derived = match node.op {
            Op::Param(_) => Some(own.clone()),
            Op::MatMul => arg(0).zip(arg(1)).map(|(a, b)| (a.0, b.1)),
            Op::Chain3 => arg(0).zip(arg(2)).map(|(a, c)| (a.0, c.1)),
            Op::Solve => arg(0).zip(arg(1)).map(|(a, b)| (a.0, b.1)),
            Op::Transpose => arg(0).map(|(r, c)| (c, r)),
            Op::Kronecker => arg(0)
                .zip(arg(1))
                .map(|(a, b)| (a.0.mul(&b.0), a.1.mul(&b.1))),
            // Everything else has the shape of its first matrix argument.
            _ => node.args.iter().find_map(|&a| out[a].clone()),
        };
        // A static dimension the types know beats one derived from names.
        let pick = |known: Dim, own: Poly, derived: Option<Poly>| match known {
            Dim::Dyn => derived.unwrap_or(own),
            _ => own,
        };
        let (dr, dc) = derived.map_or((None, None), |(r, c)| (Some(r), Some(c)));
        out.push(Some((
            pick(shape.rows, own.0, dr),
            pick(shape.cols, own.1, dc),
        )));
    }
    out
}

/// The cost of node `id` given the shapes.
pub fn node_cost(g: &Graph, id: NodeId, shapes: &[Option<(Poly, Poly)>]) -> Cost {
    let node = g.node(id);
    let arg = |k: usize| node.args.get(k).and_then(|&a| shapes[a].clone());
    let entries = |s: Option<(Poly, Poly)>| s.map_or(Poly::num(1), |(r, c)| r.mul(&c));
    let fixed = |p: Poly| Cost {
        fixed: p,
        choices: Vec::new(),
    };
    match node.op {
        Op::Param(_) | Op::Lit(_) | Op::Const(_) => Cost::default(),
        Op::Scalar(_) => fixed(Poly::num(1)),
        Op::MatMul => match (arg(0), arg(1)) {
            (Some(a), Some(b)) => fixed(a.0.mul(&a.1).mul(&b.1)),
            _ => fixed(Poly::num(1)),
        },
        Op::Chain3 => match (arg(0), arg(1), arg(2)) {
            (Some(a), Some(b), Some(c)) => {
                let (m, k, n, p) = (a.0, a.1, b.1, c.1);
                let left = m.mul(&k).mul(&n).add(&m.mul(&n).mul(&p));
                let right = k.mul(&n).mul(&p).add(&m.mul(&k).mul(&p));
                Cost {
                    fixed: Poly::default(),
                    choices: vec![(left, right)],
                }
            }
            _ => fixed(Poly::num(1)),
        },
        // The diagonal of the product only.
        Op::TraceMul => fixed(entries(arg(0))),
        Op::Trace => fixed(arg(0).map_or(Poly::num(1), |(r, _)| r)),
        Op::Index(..) => fixed(Poly::num(1)),
        // A factorisation: n³ (up to a constant).
        Op::Determinant | Op::Inverse(_) | Op::LnDet => {
            fixed(arg(0).map_or(Poly::num(1), |(r, _)| r.mul(&r).mul(&r)))
        }
        // LU with partial pivoting: n³/3.
        Op::Lu(_) => fixed(arg(0).map_or(Poly::num(1), |(r, _)| r.mul(&r).mul(&r).div(3))),
        // Two triangular solves per right-hand side column (or row): n² each pair,
        // what the product with the inverse costs.
        Op::Solve => match (arg(0), arg(1)) {
            (Some(a), Some(b)) => fixed(a.0.mul(&a.1).mul(&b.1)),
            _ => fixed(Poly::num(1)),
        },
        Op::SolveRight => match (arg(0), arg(1)) {
            (Some(b), Some(a)) => fixed(b.0.mul(&a.0).mul(&a.1)),
            _ => fixed(Poly::num(1)),
        },
        // Reductions read their argument once.
        Op::Sum
        | Op::Mean
        | Op::NormSquared
        | Op::Norm
        | Op::Dot
        | Op::LogSumExp
        | Op::SoftmaxCrossEntropy => fixed(entries(arg(0))),
        // Entrywise: one operation per entry of the result.
        _ => fixed(entries(shapes[id].clone())),
    }
}

/// The cost of the whole forward pass of `g`.
pub fn forward(g: &Graph) -> Cost {
    let shapes = shapes(g);
    let mut total = Cost::default();
    for id in 0..g.nodes.len() {
        let c = node_cost(g, id, &shapes);
        total.fixed = total.fixed.add(&c.fixed);
        total.choices.extend(c.choices);
    }
    total
}

#[cfg(test)]
mod tests {
    use quote::quote;

    /// The forward cost of `body` over `a`, `b`, `x` (matrices), `v` (a vector) and
    /// `s` (a scalar), differentiated with `attr`.
    fn cost(attr: proc_macro2::TokenStream, body: &str) -> String {
        let src = format!(
            "fn f(a: &DMatrix<f64>, b: &DMatrix<f64>, x: &DMatrix<f64>, v: &DVector<f64>, m: &Matrix3<f64>, s: f64) -> f64 {{ {body} }}"
        );
        let item: syn::ItemFn = syn::parse_str(&src).expect("a function");
        let d = crate::derive(attr, &item).unwrap_or_else(|_| panic!("`{body}` derives"));
        d.forward_cost()
    }

    #[test]
    fn one_line_costs() {
        for (body, want) in [
            ("(a * x).sum()", "a.c a.r x.c + a.r x.c"),
            ("(a * x).trace()", "a.c a.r"),
            ("(a * x * b).trace()", "a.c a.r x.c + a.r x.c"),
            ("(a * v).norm_squared()", "a.c a.r + a.r"),
            ("(m * m).trace() + s * s", "11"),
            ("a.component_mul(&x).sum() * s", "2 a.c a.r + 1"),
            ("ln_det(a)", "a.r a.r a.r"),
            (
                "(x.try_inverse().unwrap() * b).sum()",
                "b.c x.c x.r + x.r x.r x.r + b.c x.r",
            ),
        ] {
            assert_eq!(cost(quote!(wrt = x), body), want, "{body}");
        }
        // The solve: n³/3 for the factors, n² k for the solve.
        assert_eq!(
            cost(
                quote!(wrt = x, reassociate),
                "(x.try_inverse().unwrap() * b).sum()"
            ),
            "b.c x.c x.r + 1/3 x.r x.r x.r + b.c x.r"
        );
        assert_eq!(
            cost(quote!(wrt = x, reassociate), "(a * b * v).sum()"),
            "a.r + min(a.c a.r b.c + a.r b.c, a.c a.r + a.c b.c)"
        );
    }
}

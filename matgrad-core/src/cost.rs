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

use crate::ir::{Dim, Graph, Kind, NodeId};
use crate::rules::{self, Site};
use proc_macro2::TokenStream;
use quote::quote;
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

    /// Whether `self ≤ other` for all sizes ≥ 1: each monomial of `self`, in turn,
    /// taken from one of `other` that it divides (as `1 ≤ n` and `n ≤ n m`), with
    /// coefficients to spare.
    pub fn at_most(&self, other: &Poly) -> bool {
        // Integer coefficients over a common denominator.
        let den: u128 = self
            .0
            .values()
            .chain(other.0.values())
            .map(|c| u128::from(c.den))
            .product();
        let scaled = |c: &Coef| u128::from(c.num) * (den / u128::from(c.den));
        let mut budget: Vec<(Vec<String>, u128)> = other
            .0
            .iter()
            .map(|(m, c)| (m.clone(), scaled(c)))
            .collect();
        // Highest degree first, each from the smallest monomial it divides.
        let mut mine: Vec<(&Vec<String>, &Coef)> = self.0.iter().collect();
        mine.sort_by_key(|(m, _)| std::cmp::Reverse(m.len()));
        for (m, c) in mine {
            let mut need = scaled(c);
            let mut fits: Vec<&mut (Vec<String>, u128)> =
                budget.iter_mut().filter(|(b, _)| divides(m, b)).collect();
            fits.sort_by_key(|(b, _)| b.len());
            for (_, left) in fits {
                let take = need.min(*left);
                *left -= take;
                need -= take;
            }
            if need > 0 {
                return false;
            }
        }
        true
    }

    /// The number, when it is one.
    pub fn as_num(&self) -> Option<u128> {
        match self.0.iter().collect::<Vec<_>>().as_slice() {
            [] => Some(0),
            [(m, c)] if m.is_empty() && c.den == 1 => Some(u128::from(c.num)),
            _ => None,
        }
    }

    /// Whether it is zero.
    pub fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    /// The polynomial's value, each symbol given by `sym`; `None` when `sym` cannot
    /// give one of them.
    pub fn eval(&self, sym: &dyn Fn(&str) -> Option<f64>) -> Option<f64> {
        let mut total = 0.0;
        for (m, c) in &self.0 {
            #[allow(clippy::cast_precision_loss)]
            let mut term = c.num as f64 / c.den as f64;
            for x in m {
                term *= sym(x)?;
            }
            total += term;
        }
        Some(total)
    }

    /// The polynomial as a Rust expression of type `f64`, each symbol given by `sym`
    /// (an `f64` expression); `None` when `sym` cannot give one of them.
    pub fn tokens(&self, sym: &dyn Fn(&str) -> Option<TokenStream>) -> Option<TokenStream> {
        let mut terms = Vec::new();
        for (m, c) in &self.0 {
            // The coefficient, exactly as written (`u64` as `f64` is exact below 2⁵³).
            #[allow(clippy::cast_precision_loss)]
            let (num, den) = (c.num as f64, c.den as f64);
            let mut term = match (c.num, c.den) {
                (1, 1) if !m.is_empty() => None,
                (_, 1) => Some(quote!(#num)),
                _ => Some(quote!((#num / #den))),
            };
            for x in m {
                let x = sym(x)?;
                term = Some(match term {
                    Some(t) => quote!(#t * #x),
                    None => x,
                });
            }
            terms.push(term.unwrap_or_else(|| quote!(#num)));
        }
        if terms.is_empty() {
            return Some(quote!(0f64));
        }
        Some(quote!((#(#terms)+*)))
    }

    /// The symbol, when the polynomial is one symbol alone (`a.r`).
    pub fn as_symbol(&self) -> Option<&str> {
        match self.0.iter().collect::<Vec<_>>().as_slice() {
            [(m, c)] if c.num == 1 && c.den == 1 => match m.as_slice() {
                [s] => Some(s.as_str()),
                _ => None,
            },
            _ => None,
        }
    }

    /// Each symbol replaced by what `map` gives it (kept when it gives nothing).
    pub fn renamed(&self, map: &BTreeMap<String, Poly>) -> Poly {
        let mut out = Poly::default();
        for (m, c) in &self.0 {
            let mut term = Poly(BTreeMap::from([(Vec::new(), *c)]));
            for s in m {
                let x = map.get(s).cloned().unwrap_or_else(|| Poly::sym(s));
                term = term.mul(&x);
            }
            out = out.add(&term);
        }
        out
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

/// A cost: a polynomial plus the run-time choices `min(p, q, …)` of the chains.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    /// The part known at expansion.
    pub fixed: Poly,
    /// The choices made at run time: each costs its cheapest candidate.
    pub choices: Vec<Choice>,
}

impl Cost {
    /// A cost known at expansion.
    pub fn fixed(p: Poly) -> Cost {
        Cost {
            fixed: p,
            choices: Vec::new(),
        }
    }
}

/// The association of one chain, chosen at run time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    /// The chain's dimensions.
    pub dims: Vec<Poly>,
    /// The costs of the associations that can be the cheapest.
    pub candidates: Vec<Poly>,
}

/// The most candidates a [`Choice`] lists as `min(…)`; more are written
/// `chain(d₀, d₁, …)`, the cheapest association of a chain of those dimensions.
const SHOW_CANDIDATES: usize = 3;

impl fmt::Display for Choice {
    /// `min(p, q)`, or `chain(1, a.r, a.c, b.c, 1)` for many candidates.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, items) = if self.candidates.len() <= SHOW_CANDIDATES {
            ("min", &self.candidates)
        } else {
            ("chain", &self.dims)
        };
        let items: Vec<String> = items.iter().map(Poly::to_string).collect();
        write!(f, "{name}({})", items.join(", "))
    }
}

impl Cost {
    /// `self + other`.
    pub fn plus(&self, other: &Cost) -> Cost {
        let mut choices = self.choices.clone();
        choices.extend(other.choices.iter().cloned());
        Cost {
            fixed: self.fixed.add(&other.fixed),
            choices,
        }
    }

    /// `self · p`: each choice's candidates multiplied too (`p` is non-negative, so
    /// the cheapest stays the cheapest).
    pub fn times(&self, p: &Poly) -> Cost {
        Cost {
            fixed: self.fixed.mul(p),
            choices: self
                .choices
                .iter()
                .map(|c| Choice {
                    dims: c.dims.clone(),
                    candidates: c.candidates.iter().map(|x| x.mul(p)).collect(),
                })
                .collect(),
        }
    }

    /// The cost's value, each choice its cheapest candidate, each symbol given by
    /// `sym` (see [`Poly::eval`]): what [`Cost::tokens`] computes at run time.
    pub fn eval(&self, sym: &dyn Fn(&str) -> Option<f64>) -> Option<f64> {
        let mut total = self.fixed.eval(sym)?;
        for c in &self.choices {
            let mut best: Option<f64> = None;
            for p in &c.candidates {
                let v = p.eval(sym)?;
                best = Some(best.map_or(v, |b| b.min(v)));
            }
            total += best.unwrap_or(0.0);
        }
        Some(total)
    }

    /// The cost as a Rust expression of type `f64`, each choice its cheapest
    /// candidate, each symbol given by `sym` (see [`Poly::tokens`]).
    pub fn tokens(&self, sym: &dyn Fn(&str) -> Option<TokenStream>) -> Option<TokenStream> {
        let mut parts = vec![self.fixed.tokens(sym)?];
        for c in &self.choices {
            let mut cands = c.candidates.iter();
            let first = cands.next().map_or(Some(quote!(0f64)), |p| p.tokens(sym))?;
            let rest = cands
                .map(|p| p.tokens(sym))
                .collect::<Option<Vec<TokenStream>>>()?;
            parts.push(quote!(#first #(.min(#rest))*));
        }
        Some(quote!((#(#parts)+*)))
    }
}

impl fmt::Display for Cost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = self.choices.iter().map(Choice::to_string).collect();
        if !self.fixed.is_zero() || parts.is_empty() {
            parts.insert(0, self.fixed.to_string());
        }
        write!(f, "{}", parts.join(" + "))
    }
}

/// Whether monomial `a` divides monomial `b` (both sorted).
fn divides(a: &[String], b: &[String]) -> bool {
    let mut rest = b.iter();
    a.iter().all(|x| rest.by_ref().any(|y| y == x))
}

/// An association of the factors `lo..=hi` of a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Assoc {
    /// One factor.
    Leaf(usize),
    /// The product of two associations of neighbouring intervals.
    Product(Box<Assoc>, Box<Assoc>),
}

impl Assoc {
    /// The interval `(lo, hi)` of factors.
    pub fn span(&self) -> (usize, usize) {
        match self {
            Assoc::Leaf(i) => (*i, *i),
            Assoc::Product(l, r) => (l.span().0, r.span().1),
        }
    }

    /// Multiply-adds, given the chain's dimensions (`dims[i] × dims[i+1]` is factor `i`).
    pub fn cost(&self, dims: &[Poly]) -> Poly {
        match self {
            Assoc::Leaf(_) => Poly::default(),
            Assoc::Product(l, r) => {
                let ((lo, k), (_, hi)) = (l.span(), r.span());
                // `dims` has one entry more than the chain has factors.
                let own = match (dims.get(lo), dims.get(k + 1), dims.get(hi + 1)) {
                    (Some(l), Some(m), Some(h)) => l.mul(m).mul(h),
                    _ => Poly::default(),
                };
                l.cost(dims).add(&r.cost(dims)).add(&own)
            }
        }
    }

    /// Every association of the factors `lo..=hi`, the last split first (so
    /// `(a b) c` before `a (b c)`).
    pub fn all(lo: usize, hi: usize) -> Vec<Assoc> {
        if lo == hi {
            return vec![Assoc::Leaf(lo)];
        }
        let mut out = Vec::new();
        for k in (lo..hi).rev() {
            for l in Assoc::all(lo, k) {
                for r in Assoc::all(k + 1, hi) {
                    out.push(Assoc::Product(Box::new(l.clone()), Box::new(r)));
                }
            }
        }
        out
    }

    /// The association with the fewest multiply-adds for numeric dimensions, by
    /// dynamic programming (`matgrad_plan::cheapest_splits`); ties go to the later
    /// split. The run-time kernel (`matgrad_runtime::__private::Plan`) calls the same
    /// program, so it makes the same choice.
    pub fn cheapest(dims: &[u128]) -> Assoc {
        let n = dims.len().saturating_sub(1).max(1);
        let (mut cost, mut split) = (vec![0u128; n * n], vec![0usize; n * n]);
        matgrad_plan::cheapest_splits(dims, &mut cost, &mut split);
        // split[i * n + j] = k: the interval i..=j is (i..=k) (k+1..=j).
        fn build(split: &[usize], n: usize, i: usize, j: usize) -> Assoc {
            if i == j {
                return Assoc::Leaf(i);
            }
            // Any k in i..j makes an association of i..=j; the program set one.
            let k = split.get(i * n + j).copied().unwrap_or(i);
            Assoc::Product(
                Box::new(build(split, n, i, k)),
                Box::new(build(split, n, k + 1, j)),
            )
        }
        build(&split, n, 0, n - 1)
    }
}

impl Assoc {
    /// The association written with these factor names: `a (b v)`.
    pub fn written(&self, names: &[String]) -> String {
        fn go(a: &Assoc, names: &[String], top: bool) -> String {
            match a {
                Assoc::Leaf(i) => names.get(*i).cloned().unwrap_or_default(),
                Assoc::Product(l, r) => {
                    let s = format!("{} {}", go(l, names, false), go(r, names, false));
                    if top {
                        s
                    } else {
                        format!("({s})")
                    }
                }
            }
        }
        go(self, names, true)
    }
}

impl fmt::Display for Assoc {
    /// `(a0 a1) a2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn go(a: &Assoc, top: bool, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match a {
                Assoc::Leaf(i) => write!(f, "a{i}"),
                Assoc::Product(l, r) => {
                    if !top {
                        write!(f, "(")?;
                    }
                    go(l, false, f)?;
                    write!(f, " ")?;
                    go(r, false, f)?;
                    if !top {
                        write!(f, ")")?;
                    }
                    Ok(())
                }
            }
        }
        go(self, true, f)
    }
}

/// The symbolic shape of each matrix node (`None` for scalars), from each rule's
/// [`ShapeRule`](crate::rules::ShapeRule): the formula the parser reads on concrete
/// shapes, read here on polynomials. A dimension the types fix beats one derived.
pub fn shapes(g: &Graph) -> Vec<Option<(Poly, Poly)>> {
    shapes_with(g, &|_| None)
}

/// [`shapes`], where node `id` has the shape of node `same_as(id)` (an earlier node)
/// when that is `Some`: a direction of a variable has the variable's shape, in the
/// variable's symbols.
pub fn shapes_with(
    g: &Graph,
    same_as: &dyn Fn(NodeId) -> Option<NodeId>,
) -> Vec<Option<(Poly, Poly)>> {
    let mut out: Vec<Option<(Poly, Poly)>> = Vec::with_capacity(g.nodes.len());
    for (id, node) in g.nodes.iter().enumerate() {
        if let Some(shape) = same_as(id).filter(|&s| s < id).and_then(|s| out.get(s)) {
            out.push(shape.clone());
            continue;
        }
        let Kind::Matrix(shape) = node.kind else {
            out.push(None);
            continue;
        };
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
        let derived = rules::rule(&node.op)
            .shape()
            .eval(&node.args, |a| out.get(a).cloned().flatten());
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

/// The dimensions `g` forces equal for its operations to be defined (the inner
/// dimensions of a product, the shapes of a sum or an entrywise product, a square
/// matrix's two sides, …), as a renaming: each symbol of `shapes` that is equal to
/// another maps to its class's representative, a number when the class has one
/// (`x.c` to `3` beside a `Matrix3`), else its first symbol in order (`x.c` to `w.r`
/// for `x * w`). [`Poly::renamed`] applies it, so that costs written with either name
/// compare.
pub fn equal_dimensions(g: &Graph, shapes: &[Option<(Poly, Poly)>]) -> BTreeMap<String, Poly> {
    use crate::ir::Op;
    let mut pairs: Vec<(Poly, Poly)> = Vec::new();
    for node in &g.nodes {
        let sh = |k: usize| {
            node.args
                .get(k)
                .and_then(|&a| shapes.get(a).cloned().flatten())
        };
        let same =
            |pairs: &mut Vec<(Poly, Poly)>, a: Option<(Poly, Poly)>, b: Option<(Poly, Poly)>| {
                if let (Some(a), Some(b)) = (a, b) {
                    pairs.push((a.0, b.0));
                    pairs.push((a.1, b.1));
                }
            };
        match node.op {
            Op::MatMul => {
                if let (Some(a), Some(b)) = (sh(0), sh(1)) {
                    pairs.push((a.1, b.0));
                }
            }
            Op::Chain => {
                for k in 1..node.args.len() {
                    if let (Some(a), Some(b)) = (sh(k - 1), sh(k)) {
                        pairs.push((a.1, b.0));
                    }
                }
            }
            Op::TraceMul => {
                if let (Some(a), Some(b)) = (sh(0), sh(1)) {
                    pairs.push((a.1, b.0));
                    pairs.push((a.0, b.1));
                }
            }
            Op::Add | Op::Sub | Op::ComponentMul | Op::ComponentDiv | Op::ZipMap(_) | Op::Dot => {
                same(&mut pairs, sh(0), sh(1));
            }
            Op::AddRow => {
                if let (Some(m), Some(r)) = (sh(0), sh(1)) {
                    pairs.push((m.1, r.1));
                }
            }
            Op::AddCol => {
                if let (Some(m), Some(c)) = (sh(0), sh(1)) {
                    pairs.push((m.0, c.0));
                }
            }
            Op::Trace
            | Op::Determinant
            | Op::Inverse(_)
            | Op::FactorInverse
            | Op::LnDet
            | Op::Diagonal
            | Op::Factor(_) => {
                if let Some(a) = sh(0) {
                    pairs.push((a.0, a.1));
                }
            }
            Op::Solve => {
                if let (Some(f), Some(b)) = (sh(0), sh(1)) {
                    pairs.push((f.1, b.0));
                }
            }
            Op::SolveRight => {
                if let (Some(b), Some(f)) = (sh(0), sh(1)) {
                    pairs.push((b.1, f.0));
                }
            }
            _ => {}
        }
    }
    // Union–find over the atoms: symbols, and numbers written `#n`.
    let atom = |p: &Poly| -> Option<String> {
        match p.as_num() {
            Some(n) => Some(format!("#{n}")),
            None => p.as_symbol().map(str::to_owned),
        }
    };
    let mut parent: BTreeMap<String, String> = BTreeMap::new();
    fn root(parent: &BTreeMap<String, String>, x: &str) -> String {
        let mut cur = x.to_owned();
        // Each step moves to a parent; the chains are short and acyclic (every union
        // points one root at another).
        for _ in 0..=parent.len() {
            match parent.get(&cur) {
                Some(p) if *p != cur => cur = p.clone(),
                _ => break,
            }
        }
        cur
    }
    // Numbers first, then the symbol of the earliest node (parameters before the
    // directions of a tangent graph), then in order: a class's root is its best name.
    let mut first: BTreeMap<String, usize> = BTreeMap::new();
    for (id, s) in shapes.iter().enumerate() {
        for d in s.iter().flat_map(|(r, c)| [r, c]) {
            if let Some(x) = d.as_symbol() {
                first.entry(x.to_owned()).or_insert(id);
            }
        }
    }
    let rank = |a: &str| {
        (
            !a.starts_with('#'),
            first.get(a).copied().unwrap_or(usize::MAX),
        )
    };
    let better = |a: &str, b: &str| -> bool { (rank(a), a) < (rank(b), b) };
    for (a, b) in &pairs {
        let (Some(a), Some(b)) = (atom(a), atom(b)) else {
            continue;
        };
        let (ra, rb) = (root(&parent, &a), root(&parent, &b));
        if ra == rb {
            continue;
        }
        let (keep, drop) = if better(&ra, &rb) { (ra, rb) } else { (rb, ra) };
        parent.insert(drop, keep.clone());
        parent.entry(keep.clone()).or_insert(keep);
    }
    let mut out = BTreeMap::new();
    for x in parent.keys() {
        if x.starts_with('#') {
            continue;
        }
        let r = root(&parent, x);
        if r == *x {
            continue;
        }
        let to = match r.strip_prefix('#').and_then(|n| n.parse::<u64>().ok()) {
            Some(n) => Poly::num(n),
            None => Poly::sym(&r),
        };
        out.insert(x.clone(), to);
    }
    out
}

/// The cost of node `id` given the shapes: its rule's.
pub fn node_cost(g: &Graph, id: NodeId, shapes: &[Option<(Poly, Poly)>]) -> Cost {
    rules::rule(&g.node(id).op).cost(Site::new(g, id), shapes)
}

/// The shape of argument `k` of a node.
pub fn arg(s: Site<'_>, shapes: &[Option<(Poly, Poly)>], k: usize) -> Option<(Poly, Poly)> {
    shapes.get(s.arg_id(k)).cloned().flatten()
}

fn count(shape: Option<(Poly, Poly)>) -> Poly {
    shape.map_or(Poly::num(1), |(r, c)| r.mul(&c))
}

/// One operation per entry of the result (entrywise operations).
pub fn entries(s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
    Cost::fixed(count(shapes.get(s.id).cloned().flatten()))
}

/// One operation per entry of argument `k` (a reduction reads its argument once).
pub fn entries_of(s: Site<'_>, shapes: &[Option<(Poly, Poly)>], k: usize) -> Cost {
    Cost::fixed(count(arg(s, shapes, k)))
}

/// `m k n` for the product of arguments 0 (`m×k`) and 1 (`k×n`).
pub fn product(s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
    match (arg(s, shapes, 0), arg(s, shapes, 1)) {
        (Some(a), Some(b)) => Cost::fixed(a.0.mul(&a.1).mul(&b.1)),
        _ => Cost::fixed(Poly::num(1)),
    }
}

/// `n³` for a factorisation of argument 0 (up to a constant).
pub fn cubic(s: Site<'_>, shapes: &[Option<(Poly, Poly)>]) -> Cost {
    Cost::fixed(arg(s, shapes, 0).map_or(Poly::num(1), |(r, _)| r.mul(&r).mul(&r)))
}

/// The most factors whose every association [`chain_cost`] lists (132 of them); a
/// longer chain lists the two written orders only, left to right and right to left.
const LIST_ALL: usize = 7;

/// The cost of a chain with these dimensions in the association chosen: fixed when
/// every dimension is a number (the association is then chosen at expansion), else
/// a run-time choice among the associations.
pub fn chain_cost(dims: &[Poly]) -> Cost {
    let mut costs: Vec<Poly> = chain_orders(dims).into_iter().map(|(_, c)| c).collect();
    match costs.len() {
        0 => Cost::default(),
        1 => Cost {
            fixed: costs.remove(0),
            choices: Vec::new(),
        },
        _ => Cost {
            fixed: Poly::default(),
            choices: vec![Choice {
                dims: dims.to_vec(),
                candidates: costs,
            }],
        },
    }
}

/// The associations a chain with these dimensions may take, with their costs: the
/// one chosen at expansion when every dimension is a number, else those the
/// run-time choice may pick (none costing at least another's for every size).
pub fn chain_orders(dims: &[Poly]) -> Vec<(Assoc, Poly)> {
    let n = dims.len().saturating_sub(1);
    if n < 2 {
        return Vec::new();
    }
    if let Some(d) = dims.iter().map(Poly::as_num).collect::<Option<Vec<u128>>>() {
        let a = Assoc::cheapest(&d);
        let c = a.cost(dims);
        return vec![(a, c)];
    }
    let candidates = if n <= LIST_ALL {
        Assoc::all(0, n - 1)
    } else {
        let left = (1..n).fold(Assoc::Leaf(0), |acc, i| {
            Assoc::Product(Box::new(acc), Box::new(Assoc::Leaf(i)))
        });
        let right = (0..n - 1).rev().fold(Assoc::Leaf(n - 1), |acc, i| {
            Assoc::Product(Box::new(Assoc::Leaf(i)), Box::new(acc))
        });
        vec![left, right]
    };
    let mut orders: Vec<(Assoc, Poly)> = Vec::new();
    for a in candidates {
        let c = a.cost(dims);
        if !orders.iter().any(|(_, d)| *d == c) {
            orders.push((a, c));
        }
    }
    // A candidate no cheaper than another for every size is never chosen.
    let all: Vec<Poly> = orders.iter().map(|(_, c)| c.clone()).collect();
    orders.retain(|(_, p)| !all.iter().any(|q| q != p && q.at_most(p)));
    orders
}

/// The dimensions of chain node `id` (`a.r, a.c, b.c, …`), given the shapes.
pub fn chain_dims(g: &Graph, id: NodeId, shapes: &[Option<(Poly, Poly)>]) -> Option<Vec<Poly>> {
    let node = g.node(id);
    let s: Vec<(Poly, Poly)> = node
        .args
        .iter()
        .map(|&a| shapes.get(a).cloned().flatten())
        .collect::<Option<_>>()?;
    let mut dims = vec![s.first()?.0.clone()];
    dims.extend(s.iter().map(|x| x.1.clone()));
    Some(dims)
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
            cost(quote!(wrt = x, reassociate), "(a * b * v).norm_squared()"),
            "a.r + min(a.c a.r b.c + a.r b.c, a.c a.r + a.c b.c)"
        );
        // Σ (a x) = 𝟙ᵀ a x 𝟙: the two fills (a.r + x.c), the 1×1 sum, and a chain of
        // dimensions 1, a.r, a.c, x.c, 1 whose five associations can each win (see
        // `chain_candidates` below).
        assert_eq!(
            cost(quote!(wrt = x, reassociate), "(a * x).sum()"),
            "a.r + x.c + 1 + chain(1, a.r, a.c, x.c, 1)"
        );
        // Static sizes: the association is chosen here. (m m) m: 27 + 27, and the norm
        // 9; as 𝟙ᵀ m m m 𝟙, three row–matrix products (9 each) and a dot (3), the two
        // fills (3 + 3) and the 1×1 sum.
        assert_eq!(
            cost(quote!(wrt = x, reassociate), "(m * m * m).norm()"),
            "63"
        );
        assert_eq!(
            cost(quote!(wrt = x, reassociate), "(m * m * m).sum()"),
            "37"
        );
        // vᵀ a x v: the transpose (v.r entries), the index (1), the chain.
        assert_eq!(
            cost(
                quote!(wrt = x, reassociate),
                "(v.transpose() * a * x * v)[(0, 0)]"
            ),
            "v.r + 1 + chain(1, v.r, a.c, x.c, 1)"
        );
    }

    /// The associations of 1×p, p×q, q×r, r×1 that can be the cheapest, the last
    /// split first: ((𝟙ᵀa)x)𝟙, (𝟙ᵀ(ax))𝟙, (𝟙ᵀa)(x𝟙), 𝟙ᵀ((ax)𝟙), 𝟙ᵀ(a(x𝟙)). None is
    /// dearer than another for all sizes (with q = 10 and p = r = 1 the second costs
    /// 12 against the first's 21).
    #[test]
    fn chain_candidates() {
        use super::{chain_orders, Poly};
        let dims = [
            Poly::num(1),
            Poly::sym("p"),
            Poly::sym("q"),
            Poly::sym("r"),
            Poly::num(1),
        ];
        let orders: Vec<(String, String)> = chain_orders(&dims)
            .into_iter()
            .map(|(a, c)| (a.to_string(), c.to_string()))
            .collect();
        let want = [
            ("((a0 a1) a2) a3", "p q + q r + r"),
            ("(a0 (a1 a2)) a3", "p q r + p r + r"),
            ("(a0 a1) (a2 a3)", "p q + q r + q"),
            ("a0 ((a1 a2) a3)", "p q r + p r + p"),
            ("a0 (a1 (a2 a3))", "p q + q r + p"),
        ];
        assert_eq!(
            orders,
            want.map(|(a, c)| (a.to_owned(), c.to_owned())).to_vec()
        );
        // Static: the one chosen.
        let d = [1, 9, 9, 9, 1].map(Poly::num);
        assert_eq!(chain_orders(&d).len(), 1);
    }

    /// The run-time kernel (for `DMatrix` chains) and the expansion (for static ones)
    /// choose the same association.
    #[test]
    fn the_runtime_plan_is_the_cost_models() {
        for d in [
            vec![9, 9, 9, 1],
            vec![400, 20, 400, 20, 400],
            vec![1, 9, 9, 9, 1],
            vec![3, 1, 4, 1, 5, 9, 2, 6],
            vec![2, 2, 2, 2, 2, 2],
            vec![1, 1, 1],
        ] {
            let shapes: Vec<(usize, usize)> = d.windows(2).map(|w| (w[0], w[1])).collect();
            let dims: Vec<u128> = d.iter().map(|&x| x as u128).collect();
            assert_eq!(
                super::Assoc::cheapest(&dims).to_string(),
                matgrad_runtime::__private::Plan::new(&shapes).describe(),
                "{d:?}"
            );
        }
    }

    /// The dimensions a program forces equal map to one name: the inner dimension of
    /// `x * w` to `x.c` (the earlier parameter's), the rows of `x w − y` to `x.r`, and a
    /// dimension beside a static one to its number.
    #[test]
    fn equal_dimensions_are_identified() {
        use super::{equal_dimensions, shapes, Poly};
        let derive = |src: &str| {
            let item: syn::ItemFn = syn::parse_str(src).expect("a function");
            crate::derive(quote!(wrt = w), &item).unwrap_or_else(|_| panic!("`{src}` derives"))
        };
        let d = derive(
            "fn f(x: &DMatrix<f64>, w: &DVector<f64>, y: &DVector<f64>) -> f64 { (x * w - y).norm_squared() }",
        );
        let same = equal_dimensions(&d.graph, &shapes(&d.graph));
        assert_eq!(same.get("w.r"), Some(&Poly::sym("x.c")));
        assert_eq!(same.get("y.r"), Some(&Poly::sym("x.r")));
        assert_eq!(same.get("x.c"), None);
        let cost = Poly::sym("w.r").mul(&Poly::sym("y.r"));
        assert_eq!(cost.renamed(&same).to_string(), "x.c x.r");
        let d = derive(
            "fn f(a: &Matrix3<f64>, x: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 { (a * x * w).sum() }",
        );
        let same = equal_dimensions(&d.graph, &shapes(&d.graph));
        assert_eq!(same.get("x.r"), Some(&Poly::num(3)));
        assert_eq!(same.get("w.r"), Some(&Poly::sym("x.c")));
    }

    #[test]
    fn associations() {
        use super::Assoc;
        let best = |d: &[u128]| Assoc::cheapest(d).to_string();
        assert_eq!(best(&[9, 9, 9, 1]), "a0 (a1 a2)");
        assert_eq!(best(&[4, 4, 4, 4]), "(a0 a1) a2");
        assert_eq!(best(&[400, 20, 400, 20, 400]), "(a0 (a1 a2)) a3");
        assert_eq!(best(&[1, 9, 9, 9, 1]), "((a0 a1) a2) a3");
        assert_eq!(best(&[1, 1]), "a0");
        assert_eq!(Assoc::all(0, 3).len(), 5);
        assert_eq!(
            Assoc::all(0, 2)
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>(),
            ["(a0 a1) a2", "a0 (a1 a2)"]
        );
    }
}

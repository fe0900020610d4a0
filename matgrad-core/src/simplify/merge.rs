//! Merging: nested sums and products flattened, and repeated terms of a sum
//! combined (`G Xᵀ + G Xᵀ` → `2 G Xᵀ`, `a − a` → `0`).

use super::term::Term;

/// Flattens sums and products and merges the like terms of every sum.
pub fn merge(t: &Term) -> Term {
    let Term::App(h, a) = t else { return t.clone() };
    let a: Vec<Term> = a.iter().map(merge).collect();
    match h.as_str() {
        "+" => sum(a),
        "*" | "scale" => {
            // Flatten, and pull numeric coefficients (of scales and negations) to the
            // front. A factor is known to be a scalar when it came from the first
            // argument of a `scale` (or from inside one): an identity among scalars
            // only is the matrix `s I`, not `s`.
            let mut coef = 1.0;
            let mut flat = Vec::new();
            let mut all_scalars = true;
            let first_scalar = h == "scale";
            let mut stack: Vec<(Term, bool)> = a
                .into_iter()
                .enumerate()
                .map(|(i, x)| (x, first_scalar && i == 0))
                .rev()
                .collect();
            while let Some((x, scalar)) = stack.pop() {
                match x {
                    Term::App(h, inner) if h == "*" || h == "scale" => {
                        let first = h == "scale";
                        stack.extend(
                            inner
                                .into_iter()
                                .enumerate()
                                .map(|(i, y)| (y, scalar || (first && i == 0)))
                                .rev(),
                        )
                    }
                    Term::App(h, inner) if h == "neg" && inner.len() == 1 => {
                        coef = -coef;
                        stack.extend(inner.into_iter().map(|y| (y, scalar)));
                    }
                    Term::Num(v) => coef *= v,
                    // A folded `c / a` (see below) is a scalar: it leads the product.
                    Term::App(h, inner)
                        if h == "/"
                            && matches!(inner.as_slice(), [Term::Num(c), _] if *c != 1.0) =>
                    {
                        flat.insert(0, Term::App(h, inner));
                    }
                    other => {
                        all_scalars &= scalar || other == Term::sym("I");
                        flat.push(other);
                    }
                }
            }
            // A numeric coefficient and a reciprocal scalar `1 / a` (or `c / a`): one
            // factor `coef / a`, first (`(2 / n) xᵀ r`, not `2 xᵀ (1 / n) r`).
            if coef != 1.0 && coef != 0.0 {
                let reciprocal = flat
                    .iter()
                    .position(|x| matches!(x.as_app(), Some(("/", [Term::Num(_), _]))));
                if let Some(Term::App(_, parts)) = reciprocal.map(|k| flat.remove(k)) {
                    if let [Term::Num(c), a] = parts.as_slice() {
                        flat.insert(0, Term::app("/", vec![Term::Num(coef * c), a.clone()]));
                        coef = 1.0;
                    }
                }
            }
            let keep_identity = all_scalars && flat.contains(&Term::sym("I"));
            let mut product = product(flat);
            if keep_identity {
                product = match product {
                    p if p.is_num(1.0) => Term::sym("I"),
                    p => Term::app("scale", vec![p, Term::sym("I")]),
                };
            }
            if coef == 1.0 {
                return product;
            }
            if coef == 0.0 {
                return Term::Num(0.0);
            }
            if coef == -1.0 {
                return Term::app("neg", vec![product]);
            }
            if product.is_num(1.0) {
                return Term::Num(coef);
            }
            Term::app("scale", vec![Term::Num(coef), product])
        }
        _ => Term::App(h.clone(), a),
    }
}

fn product(mut flat: Vec<Term>) -> Term {
    // Scalar cancellation: `(1 / a) … a` → `…`.
    let mut i = 0;
    while i < flat.len() {
        let inverse_of = match flat.get(i).and_then(Term::as_app) {
            Some(("/", [one, a])) if one.is_num(1.0) => Some(a.clone()),
            _ => None,
        };
        if let Some(a) = inverse_of {
            if let Some(j) = flat.iter().position(|x| *x == a) {
                let (hi, lo) = if i > j { (i, j) } else { (j, i) };
                flat.remove(hi);
                flat.remove(lo);
                i = 0;
                continue;
            }
        }
        i += 1;
    }
    {
        {
            // Identity factors vanish from products; a zero factor zeroes them.
            if flat.iter().any(|x| x.is_num(0.0)) {
                return Term::Num(0.0);
            }
            flat.retain(|x| !(x.is_num(1.0) || *x == Term::sym("I")));
            if flat.is_empty() {
                return Term::Num(1.0);
            }
            if flat.len() == 1 {
                flat.pop().unwrap_or(Term::Num(1.0))
            } else {
                Term::app("*", flat)
            }
        }
    }
}

/// `(coefficient, term)` of a summand.
fn split(t: Term) -> (f64, Term) {
    match t {
        Term::App(h, a) if h == "neg" && a.len() == 1 => {
            let (c, x) = split(a.into_iter().next().unwrap_or(Term::Num(0.0)));
            (-c, x)
        }
        Term::App(h, a)
            if h == "scale" && a.len() == 2 && matches!(a.first(), Some(Term::Num(_))) =>
        {
            let mut it = a.into_iter();
            let c = match it.next() {
                Some(Term::Num(c)) => c,
                _ => 1.0,
            };
            let (c2, x) = split(it.next().unwrap_or(Term::Num(0.0)));
            (c * c2, x)
        }
        Term::Num(v) => (v, Term::Num(1.0)),
        other => (1.0, other),
    }
}

fn sum(args: Vec<Term>) -> Term {
    let mut flat = Vec::new();
    for x in args {
        match x {
            Term::App(h, inner) if h == "+" => flat.extend(inner),
            other => flat.push(other),
        }
    }
    let mut terms: Vec<(f64, Term)> = Vec::new();
    for x in flat {
        let (c, t) = split(x);
        match terms.iter_mut().find(|(_, u)| *u == t) {
            Some((c0, _)) => *c0 += c,
            None => terms.push((c, t)),
        }
    }
    let out: Vec<Term> = terms
        .into_iter()
        .filter(|(c, _)| *c != 0.0)
        .map(|(c, t)| match (c, t) {
            (c, Term::Num(1.0)) => Term::Num(c),
            (1.0, t) => t,
            (-1.0, t) => Term::app("neg", vec![t]),
            (c, t) => Term::app("scale", vec![Term::Num(c), t]),
        })
        .collect();
    match out.len() {
        0 => Term::Num(0.0),
        1 => out.into_iter().next().unwrap_or(Term::Num(0.0)),
        _ => Term::app("+", out),
    }
}

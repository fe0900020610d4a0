//! Factoring: a sum of products sharing their last (or first) factor is written
//! once, `A x + B x` → `(A + B) x`, as the seeds write `(A + Aᵀ) x`.

use super::term::Term;

/// Factors common right, then left, factors of sums of products.
pub fn factor(t: &Term) -> Term {
    let Term::App(h, a) = t else { return t.clone() };
    let a: Vec<Term> = a.iter().map(factor).collect();
    if h == "+" && a.len() >= 2 {
        if let Some(f) = common(&a, true).or_else(|| common(&a, false)) {
            return f;
        }
    }
    Term::App(h.clone(), a)
}

fn common(terms: &[Term], right: bool) -> Option<Term> {
    let parts: Option<Vec<(Term, Term)>> = terms
        .iter()
        .map(|t| match t {
            Term::App(h, f) if h == "*" && f.len() >= 2 => {
                let (rest, end) = if right {
                    let (last, rest) = f.split_last()?;
                    (rest.to_vec(), last.clone())
                } else {
                    let (first, rest) = f.split_first()?;
                    (rest.to_vec(), first.clone())
                };
                let rest = if rest.len() == 1 {
                    rest.into_iter().next()?
                } else {
                    Term::app("*", rest)
                };
                Some((rest, end))
            }
            _ => None,
        })
        .collect();
    let parts = parts?;
    let first = parts.first()?.1.clone();
    if !parts.iter().all(|(_, e)| *e == first) {
        return None;
    }
    // Plain terms before transposed ones: `(A + Aᵀ) x`, as the seeds write it.
    let mut rests: Vec<Term> = parts.into_iter().map(|(r, _)| r).collect();
    rests.sort_by_key(|r| matches!(r.as_app(), Some(("t", _))));
    let sum = Term::app("+", rests);
    Some(if right {
        Term::app("*", vec![sum, first])
    } else {
        Term::app("*", vec![first, sum])
    })
}

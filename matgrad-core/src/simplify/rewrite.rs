//! A small term-rewriting engine: rules are data, `lhs => rhs` in the text form,
//! with pattern variables `?a` (as egg's `rw!`).

use super::term::Term;

/// A named rewrite rule.
pub struct Rule {
    /// The rule's name, for tests and traces.
    pub name: &'static str,
    lhs: Term,
    rhs: Term,
}

impl Rule {
    /// `name: lhs => rhs`; the texts must parse (rules are fixed tables, tested).
    pub fn new(name: &'static str, lhs: &str, rhs: &str) -> Rule {
        let parse = |s: &str| Term::parse(s).unwrap_or_else(|_| Term::sym("<bad rule>"));
        Rule {
            name,
            lhs: parse(lhs),
            rhs: parse(rhs),
        }
    }

    /// Rewrites `t` at its root if the rule matches there.
    pub fn apply(&self, t: &Term) -> Option<Term> {
        let mut binds = Vec::new();
        if matches(&self.lhs, t, &mut binds) {
            Some(instantiate(&self.rhs, &binds))
        } else {
            None
        }
    }
}

fn matches(p: &Term, t: &Term, binds: &mut Vec<(String, Term)>) -> bool {
    match p {
        Term::Sym(v) if v.starts_with('?') => match binds.iter().find(|(n, _)| n == v) {
            Some((_, bound)) => bound == t,
            None => {
                binds.push((v.clone(), t.clone()));
                true
            }
        },
        Term::App(ph, pa) => match t {
            Term::App(th, ta) if ph == th && pa.len() == ta.len() => {
                pa.iter().zip(ta).all(|(p, t)| matches(p, t, binds))
            }
            _ => false,
        },
        other => other == t,
    }
}

fn instantiate(p: &Term, binds: &[(String, Term)]) -> Term {
    match p {
        Term::Sym(v) if v.starts_with('?') => binds
            .iter()
            .find(|(n, _)| n == v)
            .map_or_else(|| p.clone(), |(_, t)| t.clone()),
        Term::App(h, a) => Term::App(h.clone(), a.iter().map(|x| instantiate(x, binds)).collect()),
        other => other.clone(),
    }
}

/// Rewrites bottom-up with `rules` until none applies (bounded, so a bad rule set
/// cannot loop forever).
pub fn rewrite(t: &Term, rules: &[Rule]) -> Term {
    let mut cur = t.clone();
    for _ in 0..64 {
        let next = once(&cur, rules);
        if next == cur {
            return cur;
        }
        cur = next;
    }
    cur
}

fn once(t: &Term, rules: &[Rule]) -> Term {
    let t = match t {
        Term::App(h, a) => Term::App(h.clone(), a.iter().map(|x| once(x, rules)).collect()),
        other => other.clone(),
    };
    for r in rules {
        if let Some(n) = r.apply(&t) {
            return n;
        }
    }
    t
}

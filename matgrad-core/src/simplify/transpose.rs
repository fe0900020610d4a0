//! Transpose algebra: `(Aᵀ)ᵀ = A`, `(A B)ᵀ = Bᵀ Aᵀ`, and transposes pushed through
//! sums, scales, negations and entrywise products down to the leaves, where they read
//! best (`(Xᵀ G)ᵀ` becomes `Gᵀ X`).

use super::rewrite::{rewrite, Rule};
use super::term::Term;

fn rules() -> Vec<Rule> {
    vec![
        Rule::new("t-t", "(t (t ?a))", "?a"),
        Rule::new("t-scale", "(t (scale ?s ?a))", "(scale ?s (t ?a))"),
        Rule::new("t-neg", "(t (neg ?a))", "(neg (t ?a))"),
        Rule::new("t-had", "(t (⊙ ?a ?b))", "(⊙ (t ?a) (t ?b))"),
        Rule::new("t-pow", "(t (pow ?a ?n))", "(pow (t ?a) ?n)"),
    ]
}

/// Pushes transposes down; products are reversed (`(t (* a b c))` → `(* (t c) (t b) (t a))`).
pub fn transpose(t: &Term) -> Term {
    let t = push(t);
    rewrite(&t, &rules())
}

fn push(t: &Term) -> Term {
    let Term::App(h, a) = t else { return t.clone() };
    let a: Vec<Term> = a.iter().map(push).collect();
    if h == "t" {
        if let [Term::App(ih, ia)] = a.as_slice() {
            let tr = |x: &Term| push(&Term::app("t", vec![x.clone()]));
            match ih.as_str() {
                "*" => return Term::app("*", ia.iter().rev().map(tr).collect()),
                "+" => return Term::app("+", ia.iter().map(tr).collect()),
                _ => {}
            }
        }
    }
    Term::App(h.clone(), a)
}

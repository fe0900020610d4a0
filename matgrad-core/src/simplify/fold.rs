//! Constant folding: identities of 0, 1, `I` and `𝟙`, double negation, nested scales.

use super::rewrite::{rewrite, Rule};
use super::term::Term;

fn rules() -> Vec<Rule> {
    vec![
        Rule::new("scale-1", "(scale 1 ?a)", "?a"),
        Rule::new("scale-minus-1", "(scale -1 ?a)", "(neg ?a)"),
        Rule::new("scale-0", "(scale 0 ?a)", "0"),
        Rule::new("neg-neg", "(neg (neg ?a))", "?a"),
        Rule::new("neg-0", "(neg 0)", "0"),
        Rule::new("scale-neg", "(scale ?s (neg ?a))", "(neg (scale ?s ?a))"),
        Rule::new("mul-I-left", "(* I ?a)", "?a"),
        Rule::new("mul-I-right", "(* ?a I)", "?a"),
        Rule::new("mul-1-left", "(* 1 ?a)", "?a"),
        Rule::new("mul-1-right", "(* ?a 1)", "?a"),
        Rule::new("mul-0-left", "(* 0 ?a)", "0"),
        Rule::new("mul-0-right", "(* ?a 0)", "0"),
        Rule::new("had-ones-left", "(⊙ 𝟙 ?a)", "?a"),
        Rule::new("had-ones-right", "(⊙ ?a 𝟙)", "?a"),
        Rule::new("had-self", "(⊙ ?a ?a)", "(pow ?a 2)"),
        Rule::new("recip-cancel-left", "(* (/ 1 ?a) ?a)", "1"),
        Rule::new("recip-cancel-right", "(* ?a (/ 1 ?a))", "1"),
        Rule::new("div-self", "(/ ?a ?a)", "1"),
        Rule::new("t-I", "(t I)", "I"),
        Rule::new("t-1", "(t 1)", "1"),
    ]
}

/// Folds constants, then multiplies nested numeric scales: `(scale 2 (scale 3 a))` → `(scale 6 a)`.
pub fn fold(t: &Term) -> Term {
    let t = rewrite(t, &rules());
    nested_scales(&t)
}

fn nested_scales(t: &Term) -> Term {
    match t {
        Term::App(h, a) => {
            let a: Vec<Term> = a.iter().map(nested_scales).collect();
            if h == "scale" {
                if let [Term::Num(x), Term::App(h2, inner)] = a.as_slice() {
                    if h2 == "scale" {
                        if let [Term::Num(y), m] = inner.as_slice() {
                            return Term::app("scale", vec![Term::Num(x * y), m.clone()]);
                        }
                    }
                }
                if let [s, Term::Num(y)] = a.as_slice() {
                    return match s {
                        Term::Num(x) => Term::Num(x * y),
                        _ => Term::app("scale", vec![Term::Num(*y), s.clone()]),
                    };
                }
            }
            Term::App(h.clone(), a)
        }
        other => other.clone(),
    }
}

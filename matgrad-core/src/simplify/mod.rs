//! The simplifier of derived formulas. Its passes, one per file, run in the order
//! below until nothing changes:
//!
//! 1. [`transpose`]: transpose algebra, transposes pushed to the leaves;
//! 2. [`merge`]: sums and products flattened, repeated terms combined;
//! 3. [`fold`]: constants folded (`1 · a`, `a + 0`, `I a`, nested scales);
//! 4. [`factor`]: common factors of sums taken out.
//!
//! It works on [`Term`]s, whose text form keeps each rule testable in one line.

pub mod factor;
pub mod fold;
pub mod merge;
pub mod rewrite;
pub mod term;
pub mod transpose;

pub use term::Term;

/// Simplifies `t` with every pass, to a fixpoint (bounded).
pub fn simplify(t: &Term) -> Term {
    let passes: [fn(&Term) -> Term; 4] = [
        transpose::transpose,
        merge::merge,
        fold::fold,
        factor::factor,
    ];
    let mut cur = t.clone();
    for _ in 0..16 {
        let next = passes.iter().fold(cur.clone(), |acc, pass| pass(&acc));
        if next == cur {
            break;
        }
        cur = next;
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pass: fn(&Term) -> Term, from: &str, to: &str) {
        let t = Term::parse(from).expect("parse input");
        assert_eq!(
            pass(&t).to_string(),
            Term::parse(to).expect("parse expected").to_string(),
            "{from}"
        );
    }

    #[test]
    fn text_form_round_trips() {
        for s in [
            "(t (* a b))",
            "x",
            "2",
            "(+ (scale 2 x) (neg y))",
            "(tanh (* x w))",
        ] {
            assert_eq!(Term::parse(s).expect("parse").to_string(), s);
        }
    }

    #[test]
    fn transpose_pass() {
        check(transpose::transpose, "(t (t a))", "a");
        check(transpose::transpose, "(t (* a b))", "(* (t b) (t a))");
        check(
            transpose::transpose,
            "(t (* a b c))",
            "(* (t c) (t b) (t a))",
        );
        check(transpose::transpose, "(t (+ a b))", "(+ (t a) (t b))");
        check(transpose::transpose, "(t (scale 2 a))", "(scale 2 (t a))");
        check(transpose::transpose, "(t (* (t x) g))", "(* (t g) x)");
    }

    #[test]
    fn merge_pass() {
        check(
            merge::merge,
            "(+ (* g (t x)) (* g (t x)))",
            "(scale 2 (* g (t x)))",
        );
        check(merge::merge, "(+ x x)", "(scale 2 x)");
        check(merge::merge, "(+ a (neg a))", "0");
        check(merge::merge, "(+ (+ a b) c)", "(+ a b c)");
        check(merge::merge, "(* (* a b) c)", "(* a b c)");
    }

    #[test]
    fn fold_pass() {
        check(fold::fold, "(scale 1 a)", "a");
        check(fold::fold, "(+ a 0)", "(+ a 0)");
        check(fold::fold, "(* I a)", "a");
        check(fold::fold, "(scale 2 (scale 3 a))", "(scale 6 a)");
        check(fold::fold, "(neg (neg a))", "a");
        check(fold::fold, "(⊙ a a)", "(pow a 2)");
    }

    #[test]
    fn factor_pass() {
        check(
            factor::factor,
            "(+ (* a x) (* (t a) x))",
            "(* (+ a (t a)) x)",
        );
        check(factor::factor, "(+ (* x a) (* x b))", "(* x (+ a b))");
    }

    #[test]
    fn whole_pipeline() {
        check(simplify, "(+ a 0)", "a");
        check(
            simplify,
            "(+ (t (* (t x) a)) (t (* (t x) (t a))))",
            "(* (+ a (t a)) x)",
        );
        check(simplify, "(* (t a) (* I (t b)))", "(* (t a) (t b))");
    }
}

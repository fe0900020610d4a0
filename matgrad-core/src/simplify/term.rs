//! Terms: the symbolic matrix expressions gradients are written in, with a text
//! form (`(t (* a b))`) that parses and prints, so each rewrite can be tested in
//! one line.
//!
//! Heads: `+` (n-ary sum), `neg`, `*` (matrix product, n-ary), `scale` (number or
//! scalar expression times a matrix), `⊙`, `⊘`, `t` (transpose), `inv`, and any
//! other name is a function applied entrywise or a scalar function (`tanh`, `σ`,
//! `det`, `tr`, …). Leaves are symbols (`x`, `I`, `𝟙`) and numbers.

use std::fmt;

/// A symbolic expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Term {
    /// A number.
    Num(f64),
    /// A named value, or a constant such as `I` or `𝟙`.
    Sym(String),
    /// An operation applied to arguments.
    App(String, Vec<Term>),
}

impl Term {
    /// `head(args…)`.
    pub fn app(head: &str, args: Vec<Term>) -> Term {
        Term::App(head.to_owned(), args)
    }

    /// A symbol.
    pub fn sym(s: &str) -> Term {
        Term::Sym(s.to_owned())
    }

    /// The head and arguments, when this is an application.
    pub fn as_app(&self) -> Option<(&str, &[Term])> {
        match self {
            Term::App(h, a) => Some((h.as_str(), a.as_slice())),
            _ => None,
        }
    }

    /// Whether this is the number `v`.
    pub fn is_num(&self, v: f64) -> bool {
        matches!(self, Term::Num(x) if *x == v)
    }

    /// The number of nodes (a measure of size).
    pub fn size(&self) -> usize {
        match self {
            Term::App(_, a) => 1 + a.iter().map(Term::size).sum::<usize>(),
            _ => 1,
        }
    }

    /// Parses the text form: `(head arg …)`, symbols, numbers.
    pub fn parse(s: &str) -> Result<Term, String> {
        let tokens = tokenize(s);
        let mut pos = 0;
        let t = parse_at(&tokens, &mut pos)?;
        if pos != tokens.len() {
            return Err(format!("trailing input after term in `{s}`"));
        }
        Ok(t)
    }
}

fn tokenize(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        if c == '(' || c == ')' || c.is_whitespace() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            if c != ' ' && !c.is_whitespace() {
                out.push(c.to_string());
            }
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn parse_at(tokens: &[String], pos: &mut usize) -> Result<Term, String> {
    let Some(tok) = tokens.get(*pos) else {
        return Err("unexpected end of term".into());
    };
    *pos += 1;
    if tok == "(" {
        let Some(head) = tokens.get(*pos).cloned() else {
            return Err("`(` without a head".into());
        };
        *pos += 1;
        let mut args = Vec::new();
        loop {
            match tokens.get(*pos).map(String::as_str) {
                Some(")") => {
                    *pos += 1;
                    return Ok(Term::App(head, args));
                }
                Some(_) => args.push(parse_at(tokens, pos)?),
                None => return Err("missing `)`".into()),
            }
        }
    }
    if tok == ")" {
        return Err("unexpected `)`".into());
    }
    Ok(match tok.parse::<f64>() {
        Ok(v) => Term::Num(v),
        Err(_) => Term::Sym(tok.clone()),
    })
}

impl fmt::Display for Term {
    /// The text form, which [`Term::parse`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::Num(v) => write!(f, "{v}"),
            Term::Sym(s) => f.write_str(s),
            Term::App(h, args) => {
                write!(f, "({h}")?;
                for a in args {
                    write!(f, " {a}")?;
                }
                f.write_str(")")
            }
        }
    }
}

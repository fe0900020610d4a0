//! One-line functions: `x: DVector, a: DMatrix => x.transpose() * a * x`.
//!
//! The variables become the parameters of `fn f` (matrices by reference, scalars by
//! value, one element type, f64 unless written), and the expression its body.

/// A parsed `VARS => EXPR`.
#[derive(Clone, Debug)]
pub struct Expr {
    /// The variables, in the order written.
    pub vars: Vec<Var>,
    /// The element type: `f64` or `f32`.
    pub float: &'static str,
    /// The statements before the value (`let z = x * w;`), possibly empty.
    pub statements: String,
    /// The value.
    pub value: String,
}

/// One typed variable.
#[derive(Clone, Debug)]
pub struct Var {
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: VarKind,
}

/// The kinds of variable a one-line function takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarKind {
    /// `DMatrix`.
    Matrix,
    /// `DVector`.
    Vector,
    /// `RowDVector`.
    Row,
    /// A scalar of the element type.
    Scalar,
}

const TYPES: &str = "the types are `DMatrix`, `DVector`, `RowDVector` (element type optional: `DMatrix<f32>`) and the scalars `f64`, `f32`, `scalar`";

/// Parses `VARS => EXPR`.
pub fn parse(text: &str) -> Result<Expr, String> {
    let Some((vars_text, body)) = text.split_once("=>") else {
        return Err(
            "write `VARS => EXPR`, e.g. `x: DVector, a: DMatrix => x.transpose() * a * x`".into(),
        );
    };
    let mut vars: Vec<Var> = Vec::new();
    let mut floats: Vec<&'static str> = Vec::new();
    for decl in split_top_level(vars_text) {
        let decl = decl.trim();
        if decl.is_empty() {
            continue;
        }
        let Some((name, ty)) = decl.split_once(':') else {
            return Err(format!(
                "`{decl}` has no type: write `{decl}: DMatrix` ({TYPES})"
            ));
        };
        let name = name.trim();
        if syn::parse_str::<syn::Ident>(name).is_err() {
            return Err(format!("`{name}` is not a Rust identifier"));
        }
        if vars.iter().any(|v| v.name == name) {
            return Err(format!("`{name}` is declared twice"));
        }
        let (kind, float) = parse_type(ty).ok_or_else(|| format!("`{decl}`: {TYPES}"))?;
        floats.extend(float);
        vars.push(Var {
            name: name.to_owned(),
            kind,
        });
    }
    let float = match floats.first() {
        None => "f64",
        Some(&f) if floats.iter().all(|&g| g == f) => f,
        Some(_) => {
            return Err("the variables mix f32 and f64: a function has one element type".into())
        }
    };
    let body = body.trim();
    if body.is_empty() {
        return Err("the expression after `=>` is empty".into());
    }
    let (statements, value) = match body.rsplit_once(';') {
        Some((s, v)) if !v.trim().is_empty() => (format!("{};", s.trim()), v.trim().to_owned()),
        _ => (String::new(), body.to_owned()),
    };
    Ok(Expr {
        vars,
        float,
        statements,
        value,
    })
}

impl Expr {
    /// The function's source: `fn f(x: &DVector<f64>, ..) -> f64 { .. }`, its value
    /// read as the one entry `[(0, 0)]` of a 1×1 matrix when `entry` is set.
    pub fn function(&self, entry: bool) -> String {
        let params: Vec<String> = self
            .vars
            .iter()
            .map(|v| {
                let f = self.float;
                match v.kind {
                    VarKind::Matrix => format!("{}: &DMatrix<{f}>", v.name),
                    VarKind::Vector => format!("{}: &DVector<{f}>", v.name),
                    VarKind::Row => format!("{}: &RowDVector<{f}>", v.name),
                    VarKind::Scalar => format!("{}: {f}", v.name),
                }
            })
            .collect();
        let mut out = format!("fn f({}) -> {} {{\n", params.join(", "), self.float);
        if !self.statements.is_empty() {
            out.push_str(&format!("    {}\n", self.statements));
        }
        if entry {
            out.push_str(&format!("    ({})[(0, 0)]\n}}\n", self.value));
        } else {
            out.push_str(&format!("    {}\n}}\n", self.value));
        }
        out
    }
}

/// The kind and, when written, the element type of a type.
fn parse_type(ty: &str) -> Option<(VarKind, Option<&'static str>)> {
    let compact: String = ty.chars().filter(|c| !c.is_whitespace()).collect();
    let t = compact.trim_start_matches('&');
    let t = t
        .strip_prefix("nalgebra::")
        .or_else(|| t.strip_prefix("na::"))
        .unwrap_or(t);
    let float = |s: &str| match s {
        "f64" => Some("f64"),
        "f32" => Some("f32"),
        _ => None,
    };
    match t {
        "f64" | "f32" => return Some((VarKind::Scalar, float(t))),
        "scalar" | "Scalar" => return Some((VarKind::Scalar, None)),
        _ => {}
    }
    let (base, elem) = match t.split_once('<') {
        Some((b, rest)) => (b, Some(float(rest.strip_suffix('>')?)?)),
        None => (t, None),
    };
    let kind = match base {
        "DMatrix" => VarKind::Matrix,
        "DVector" => VarKind::Vector,
        "RowDVector" => VarKind::Row,
        _ => return None,
    };
    Some((kind, elem))
}

/// `text` split at the commas outside `<..>`.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '<' | '(' => depth += 1,
            '>' | ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_function() {
        let e = parse("x: DVector, a: DMatrix, s: scalar => s * (x.transpose() * a * x)").unwrap();
        assert_eq!(
            e.function(true),
            "fn f(x: &DVector<f64>, a: &DMatrix<f64>, s: f64) -> f64 {\n    (s * (x.transpose() * a * x))[(0, 0)]\n}\n"
        );
    }

    #[test]
    fn element_type_and_statements() {
        let e = parse("w: nalgebra::DMatrix<f32>, x: &DVector => let z = w * x; z.norm()").unwrap();
        assert_eq!(e.float, "f32");
        assert_eq!(
            e.function(false),
            "fn f(w: &DMatrix<f32>, x: &DVector<f32>) -> f32 {\n    let z = w * x;\n    z.norm()\n}\n"
        );
    }

    #[test]
    fn rejects() {
        assert!(parse("x: DVector").is_err());
        assert!(parse("x: Vec<f64> => x.sum()").is_err());
        assert!(parse("x: DVector<f32>, y: DVector<f64> => x.dot(&y)").is_err());
        assert!(parse("x: DVector, x: DVector => x.sum()").is_err());
        assert!(parse("x => x.sum()").is_err());
    }
}

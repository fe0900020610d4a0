//! Printing reports: readable text, or one JSON document for tools.

use crate::diagnostics::Located;
use crate::report::{latex_name, Report};
use crate::Show;
use serde_json::{json, Map, Value};
use std::fmt::Write;

/// Which sections to print.
#[derive(Clone, Copy, Debug)]
pub struct Sections {
    formulas: bool,
    steps: bool,
    latex: bool,
    rust: bool,
    hessian: bool,
}

impl From<&[Show]> for Sections {
    fn from(show: &[Show]) -> Sections {
        Sections {
            formulas: show.contains(&Show::Formulas),
            steps: show.contains(&Show::Steps),
            latex: show.contains(&Show::Latex),
            rust: show.contains(&Show::Rust),
            hessian: show.contains(&Show::Hessian),
        }
    }
}

/// The reports as text.
pub fn text(reports: &[Report], shown: Sections) -> String {
    let mut out = String::new();
    for (k, r) in reports.iter().enumerate() {
        if k > 0 {
            out.push('\n');
        }
        match &r.built {
            Some(built) => out.push_str(built),
            None => {
                out.push_str(&r.signature);
                out.push('\n');
            }
        }
        let _ = writeln!(out, "with respect to {}", r.wrt.join(", "));

        if shown.formulas {
            out.push_str("\nGradient:\n");
            for g in &r.gradients {
                let _ = writeln!(out, "  ∂f/∂{} = {}", g.var, g.unicode);
            }
            if !r.definitions.is_empty() {
                out.push_str("where\n");
                for (name, def) in &r.definitions {
                    let _ = writeln!(out, "  {name} = {def}");
                }
            }
            let chain_note = if r.forward_cost.contains("chain(") {
                "; chain(d₀, …, dₙ): the fewest of a chain of those dimensions"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "\nForward pass: {} multiply-adds (a.r, a.c: rows and columns of a{chain_note})",
                r.forward_cost
            );
            if !r.orders.is_empty() {
                out.push_str("Products, each in its cheapest association (the gradients go back through it):\n");
                for o in &r.orders {
                    let _ = writeln!(out, "  {}", o.replace('`', ""));
                }
            }
        }
        if shown.hessian {
            if let Some(h) = &r.hessian {
                let _ = writeln!(
                    out,
                    "\nHessian, over the entries of {} in column-major order:",
                    r.wrt.join(", ")
                );
                let _ = writeln!(out, "  ∇²f = {}", h.formula);
                if !h.wheres.is_empty() {
                    out.push_str("where\n");
                    for (name, def) in &h.wheres {
                        let _ = writeln!(out, "  {name} = {def}");
                    }
                }
                let _ = if h.built {
                    writeln!(
                        out,
                        "  {}_hessian builds it so: {} multiply-adds, against about {} for n Hessian-vector products",
                        r.name, h.structured, h.columns
                    )
                } else {
                    writeln!(
                        out,
                        "  {}_hessian builds it from n Hessian-vector products: about {} multiply-adds, where this structure takes {}, not fewer for every size",
                        r.name, h.columns, h.structured
                    )
                };
                out.push_str("  (a.r, a.c: rows and columns of a)\n");
            }
            if !r.tangent_steps.is_empty() {
                out.push_str("\nTangent sweep, forward mode along the direction (ẏ: the derivative of y along it):\n");
                for (k, (name, def)) in r.tangent_steps.iter().enumerate() {
                    let _ = writeln!(out, "  {}. {name} = {def}", k + 1);
                }
            }
        }
        if shown.hessian && !r.hvps.is_empty() {
            let dirs: Vec<String> = r.hvps.iter().map(|(v, _)| format!("v_{v}")).collect();
            let _ = writeln!(
                out,
                "\nHessian-vector product, the direction ({}) (reverse over forward):",
                dirs.join(", ")
            );
            for (v, h) in &r.hvps {
                let _ = writeln!(out, "  (∇²f · v)_{v} = {h}");
            }
        }
        if shown.steps {
            out.push_str("\nReverse sweep, from ∂f/∂f = 1 back to the variables:\n");
            for s in &r.steps {
                let updates = s.updates();
                if updates.len() == 1 {
                    let _ = writeln!(out, "  {}. {}: {}", s.number, s.heading(), updates[0]);
                } else {
                    let _ = writeln!(out, "  {}. {}:", s.number, s.heading());
                    let indent = " ".repeat(s.number.to_string().len() + 4);
                    for u in updates {
                        let _ = writeln!(out, "  {indent}{u}");
                    }
                }
            }
        }
        if shown.latex {
            out.push_str("\nLaTeX:\n");
            for g in &r.gradients {
                let _ = writeln!(
                    out,
                    "  \\frac{{\\partial f}}{{\\partial {}}} = {}",
                    latex_name(&g.var),
                    g.latex
                );
            }
        }
        if shown.rust {
            out.push_str("\nRust:\n\n");
            out.push_str(&r.rust);
        }
    }
    out
}

/// The reports and the errors as one JSON document:
/// `{ "functions": [ { "name", "wrt", "gradients": { x: { "unicode", "latex" } }, .. } ], "errors": [..] }`.
pub fn json(reports: &[Report], errors: &[Located], shown: Sections) -> String {
    let functions: Vec<Value> = reports.iter().map(|r| function_json(r, shown)).collect();
    let errors: Vec<Value> = errors
        .iter()
        .map(|e| {
            json!({
                "function": e.function,
                "message": e.message,
                "file": e.file,
                "line": e.line,
                "column": e.column,
                "end_line": e.end_line,
                "end_column": e.end_column,
            })
        })
        .collect();
    let doc = json!({ "functions": functions, "errors": errors });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

fn function_json(r: &Report, shown: Sections) -> Value {
    let mut f = Map::new();
    f.insert("name".into(), json!(r.name));
    f.insert("signature".into(), json!(r.signature));
    if let Some(built) = &r.built {
        f.insert("source".into(), json!(built));
    }
    f.insert("wrt".into(), json!(r.wrt));
    if shown.formulas || shown.latex {
        let mut grads = Map::new();
        for g in &r.gradients {
            let mut one = Map::new();
            if shown.formulas {
                one.insert("unicode".into(), json!(g.unicode));
            }
            if shown.latex {
                one.insert("latex".into(), json!(g.latex));
            }
            grads.insert(g.var.clone(), Value::Object(one));
        }
        f.insert("gradients".into(), Value::Object(grads));
    }
    if shown.formulas {
        let defs: Vec<Value> = r
            .definitions
            .iter()
            .map(|(n, d)| json!({ "name": n, "definition": d }))
            .collect();
        f.insert("definitions".into(), json!(defs));
        f.insert("forward_cost".into(), json!(r.forward_cost));
        f.insert("orders".into(), json!(r.orders));
    }
    if shown.steps {
        let steps: Vec<Value> = r
            .steps
            .iter()
            .map(|s| {
                let sends: Vec<Value> = s
                    .sends
                    .iter()
                    .map(|(to, c)| json!({ "to": to, "contribution": c }))
                    .collect();
                json!({
                    "number": s.number,
                    "value": s.name,
                    "definition": s.definition,
                    "sends": sends,
                    "text": s.line(),
                })
            })
            .collect();
        f.insert("steps".into(), json!(steps));
    }
    if shown.hessian {
        let hvps: Map<String, Value> = r.hvps.iter().map(|(v, h)| (v.clone(), json!(h))).collect();
        f.insert("hessian_vector_products".into(), Value::Object(hvps));
        if let Some(h) = &r.hessian {
            let wheres: Vec<Value> = h
                .wheres
                .iter()
                .map(|(n, d)| json!({ "name": n, "definition": d }))
                .collect();
            f.insert(
                "hessian".into(),
                json!({
                    "formula": h.formula,
                    "where": wheres,
                    "built_from_structure": h.built,
                    "structured_cost": h.structured,
                    "hessian_vector_products_cost": h.columns,
                }),
            );
        }
        let steps: Vec<Value> = r
            .tangent_steps
            .iter()
            .enumerate()
            .map(|(k, (n, d))| json!({ "number": k + 1, "tangent": n, "formula": d }))
            .collect();
        f.insert("tangent_steps".into(), json!(steps));
    }
    if shown.rust {
        f.insert("rust".into(), json!(r.rust));
    }
    Value::Object(f)
}

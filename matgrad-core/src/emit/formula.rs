//! The derived gradients as readable math, for the `_grad` doc comment.
//!
//! Each `wrt` variable's gradient is written out in full in the names the user gave
//! (see [`super::math`]), simplified, in Unicode and LaTeX, followed by the
//! definitions of the named values.

use super::math::{print, Notation, Terms};
use super::Input;
use crate::cost;
use crate::ir::Op;
use crate::simplify::simplify;

/// One line per chain of products: `` `a (b v)` (static sizes: 27 multiply-adds) ``,
/// or `` `a b v`: at run time, the cheapest of `(a b) v` (…) and `a (b v)` (…) ``.
pub fn orders(input: &Input<'_>) -> Vec<String> {
    let g = input.graph;
    // Most functions have no chain: no terms or shapes to build for them.
    if !g.nodes.iter().any(|n| matches!(n.op, Op::Chain)) {
        return Vec::new();
    }
    let terms = Terms::new(input);
    let shapes = cost::shapes(g);
    let mut out = Vec::new();
    for (id, node) in g.nodes.iter().enumerate() {
        if !matches!(node.op, Op::Chain) {
            continue;
        }
        let Some(dims) = cost::chain_dims(g, id, &shapes) else {
            continue;
        };
        let names: Vec<String> = node
            .args
            .iter()
            .map(|&a| {
                let t = print(&simplify(&terms.value(a)), Notation::Unicode);
                if t.contains(' ') {
                    format!("({t})")
                } else {
                    t
                }
            })
            .collect();
        let orders = cost::chain_orders(&dims);
        let is_static = dims.iter().all(|d| d.as_num().is_some());
        let line = match orders.as_slice() {
            [(a, c)] if is_static => {
                format!("`{}` (static sizes: {c} multiply-adds)", a.written(&names))
            }
            [(a, c)] => format!("`{}` ({c} multiply-adds, the fewest for all sizes)", a.written(&names)),
            many if many.len() > 3 => format!(
                "`{}`: at run time, the cheapest of its {} associations that can win, by dynamic programming over the shapes",
                names.join(" "),
                many.len()
            ),
            many => {
                let choices: Vec<String> = many
                    .iter()
                    .map(|(a, c)| format!("`{}` ({c})", a.written(&names)))
                    .collect();
                format!(
                    "`{}`: at run time, the cheapest of {}",
                    names.join(" "),
                    choices.join(", ")
                )
            }
        };
        out.push(line);
    }
    out
}

/// The doc lines of `NAME_hvp`: the gradient and the Hessian-vector product of each
/// variable as the reverse sweep over the tangent graph derives them (`v_x` the
/// direction of `x`, `ẏ` a tangent), then what they cite.
pub fn hvp_doc(input: &Input<'_>) -> Vec<String> {
    let terms = Terms::new(input);
    let gradients = terms.gradients();
    let k = gradients.len() / 2;
    let mut lines = vec![
        "# Derived gradient and Hessian-vector product".to_owned(),
        String::new(),
    ];
    for (i, (name, t)) in gradients.iter().enumerate() {
        let t = print(t, Notation::Unicode);
        match gradients.get(i + k).filter(|_| i < k) {
            Some((var, _)) => lines.push(format!("- `∂f/∂{var} = {t}`")),
            None => lines.push(format!("- `(∇²f · v)_{name} = {t}`")),
        }
    }
    let cited = terms.cited();
    let defs = terms.definitions();
    if !defs.is_empty() || !cited.is_empty() {
        lines.push(String::new());
        lines.push("where".to_owned());
        lines.push(String::new());
        for (name, t) in cited.iter().rev().chain(&defs) {
            lines.push(format!("- `{name} = {}`", print(t, Notation::Unicode)));
        }
    }
    lines.push(String::new());
    lines.push(
        "Each Hessian-vector product has the shape of its variable: (∇²f · v)_x = ∂⟨∇f, v⟩/∂x, linear in the directions."
            .to_owned(),
    );
    lines
        .into_iter()
        .map(|l| if l.is_empty() { l } else { format!(" {l}") })
        .collect()
}

/// The doc lines (each with the leading space of a `///` comment) describing the derived gradients: each `wrt` variable's gradient
/// simplified and printed in Unicode math (with its LaTeX), then the definitions of
/// the values the user named.
pub fn doc(input: &Input<'_>) -> Vec<String> {
    let terms = Terms::new(input);
    let gradients = terms.gradients();
    let mut lines = vec!["# Derived gradients".to_owned(), String::new()];
    for (name, t) in &gradients {
        lines.push(format!("- `∂f/∂{name} = {}`", print(t, Notation::Unicode)));
    }
    // Cited adjoints, the latest (closest to the variables) first, then the lets.
    let cited = terms.cited();
    let defs = terms.definitions();
    if !defs.is_empty() || !cited.is_empty() {
        lines.push(String::new());
        lines.push("where".to_owned());
        lines.push(String::new());
        for (name, t) in cited.iter().rev().chain(&defs) {
            lines.push(format!("- `{name} = {}`", print(t, Notation::Unicode)));
        }
    }
    let orders = orders(input);
    if !orders.is_empty() {
        lines.push(String::new());
        lines.push("Products, each in the association with the fewest multiply-adds (the gradients go back through the same association):".to_owned());
        lines.push(String::new());
        lines.extend(orders.into_iter().map(|o| format!("- {o}")));
    }
    lines.push(String::new());
    lines.push("Each gradient has the shape of its variable: entry (i, j) is ∂f/∂X_ij.".to_owned());
    lines.push(String::new());
    lines.push("In LaTeX:".to_owned());
    lines.push(String::new());
    lines.push("```text".to_owned());
    for (name, t) in &gradients {
        lines.push(format!(
            "\\frac{{\\partial f}}{{\\partial {name}}} = {}",
            print(t, Notation::Latex)
        ));
    }
    lines.push("```".to_owned());
    // `#[doc = " text"]` is what `/// text` becomes: printed back, the companions
    // read `/// text`, not `///text`.
    lines
        .into_iter()
        .map(|l| if l.is_empty() { l } else { format!(" {l}") })
        .collect()
}

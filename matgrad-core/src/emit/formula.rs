//! The derived gradients as readable math, for the `_grad` doc comment.
//!
//! Each `wrt` variable's gradient is written out in full in the names the user gave
//! (see [`super::math`]), simplified, in Unicode and LaTeX, followed by the
//! definitions of the named values.

use super::math::{print, Notation, Terms};
use super::Input;

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

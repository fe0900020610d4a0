//! `matgrad`: the offline command-line deriver of matgrad.
//!
//! `matgrad derive` reads Rust functions (a file, standard input, or a one-line
//! expression with typed variables), differentiates them with `matgrad-core`
//! exactly as `#[grad]` does, and prints for each one the gradient formulas, the
//! step-by-step reverse sweep, their LaTeX and the generated Rust, as text or JSON.
//! Errors are the macro's own diagnostics, rendered with source lines and carets.
//!
//! The pipeline reads in the modules' order:
//!
//! - [`input`]: find the functions to derive (`#[grad]` ones, or plain ones with `--wrt`),
//! - [`expr`]: build a function from a one-line `--expr`,
//! - [`derive`](mod@derive): run the engine, retrying a 1×1 `--expr` with `[(0, 0)]`,
//! - [`report`]: turn a derivation into what is printed,
//! - [`output`]: print it as text or JSON,
//! - [`diagnostics`]: render errors against [`sources`].

mod derive;
mod diagnostics;
mod expr;
mod input;
mod output;
mod report;
mod sources;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// Gradients of nalgebra loss functions, derived offline by matgrad's engine.
///
/// Every gradient has the shape of its variable: entry (i, j) of ∂f/∂X is ∂f/∂X_ij
/// (the "gradient layout"; numerator-layout texts write its transpose).
#[derive(Parser, Debug)]
#[command(name = "matgrad", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Derive the gradients of Rust functions: formulas, reverse sweep, LaTeX and Rust.
    ///
    /// Functions carrying `#[grad(wrt = ...)]` are derived with their own attribute;
    /// with `--wrt`, plain functions are derived with respect to those variables.
    #[command(after_help = EXAMPLES)]
    Derive(DeriveArgs),
}

const EXAMPLES: &str = "\
Examples:
  matgrad derive loss.rs
  matgrad derive model.rs --wrt w,b --show formulas,steps
  matgrad derive loss.rs --show formulas,hessian
  cat loss.rs | matgrad derive - --format json
  matgrad derive --expr 'x: DVector, a: DMatrix => x.transpose() * a * x' --wrt x
  matgrad derive --expr 'w: DMatrix, x: DVector, b: DVector => (w * x + b).norm_squared()'";

/// The arguments of `matgrad derive`.
#[derive(Args, Debug)]
pub struct DeriveArgs {
    /// A Rust file holding one or more functions, or `-` for standard input.
    ///
    /// An argument containing `=>` that names no file is read as `--expr`.
    #[arg(value_name = "FILE", required_unless_present = "expr")]
    pub file: Option<String>,

    /// A one-line function: `VARS => EXPR`, with VARS like `x: DVector, a: DMatrix, s: f64`.
    ///
    /// Types are `DMatrix`, `DVector`, `RowDVector` (element type optional: `DMatrix<f32>`,
    /// default f64) and scalars `f64`, `f32` or `scalar`. EXPR is the body (statements
    /// separated by `;` allowed); a 1×1 product such as `x.transpose() * a * x` is read as
    /// its one entry. Without `--wrt`, every variable is differentiated.
    #[arg(
        long,
        short = 'e',
        value_name = "VARS => EXPR",
        conflicts_with = "file"
    )]
    pub expr: Option<String>,

    /// The variables to differentiate plain functions with (comma-separated).
    ///
    /// Functions with their own `#[grad]` attribute keep it.
    #[arg(long, value_name = "X,Y", value_delimiter = ',')]
    pub wrt: Vec<String>,

    /// Only these functions of the file (comma-separated names).
    #[arg(long = "fn", value_name = "NAME", value_delimiter = ',')]
    pub functions: Vec<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// What to print (comma-separated); default: everything.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "formulas,steps,latex,rust"
    )]
    pub show: Vec<Show>,

    /// When to color diagnostics.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable text.
    Text,
    /// One JSON document on standard output, for tools.
    Json,
}

/// A section of the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Show {
    /// The gradient of each variable, in Unicode math, and the `let` definitions.
    Formulas,
    /// The reverse sweep, one numbered step per value.
    Steps,
    /// The gradients in LaTeX.
    Latex,
    /// The generated `NAME_grad` and `NAME_grad_into`, pretty-printed.
    Rust,
    /// Second order (not in the default): for one variable, the Hessian ∇²f from its
    /// structure and which build `#[grad(.., hessian)]` uses; the tangent sweep step
    /// by step; the Hessian-vector product ∇²f · v of each variable, in Unicode math.
    Hessian,
}

/// When to color diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// When standard error is a terminal.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Exit code of a failed derivation or unreadable input.
const FAILED: u8 = 1;
/// Exit code of a command line that cannot be run.
const USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Derive(args) => run_derive(&args),
    }
}

fn run_derive(args: &DeriveArgs) -> ExitCode {
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let mut sources = sources::Sources::default();
    let mut problems = diagnostics::Problems::new(color);

    let mut jobs = match gather(args, &mut sources, &mut problems) {
        Ok(jobs) => jobs,
        Err(code) => {
            problems.flush(&sources);
            return ExitCode::from(code);
        }
    };

    // Second order is derived only when asked for (it adds a sweep).
    if args.show.contains(&Show::Hessian) {
        for job in &mut jobs {
            job.attr.extend(quote::quote!(, hvp));
        }
    }
    let mut reports = Vec::new();
    for job in &jobs {
        match derive::run(job, &mut sources) {
            Ok(done) => reports.push(report::build(&done)),
            Err(failure) => problems.failure(&sources, job, failure),
        }
    }

    let shown = output::Sections::from(&args.show[..]);
    let printed = match args.format {
        Format::Text => output::text(&reports, shown),
        Format::Json => output::json(&reports, &problems.located(&sources), shown),
    };
    print!("{printed}");
    let failed = problems.any();
    problems.flush(&sources);
    if failed {
        ExitCode::from(FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

/// The functions to derive, or the exit code after reporting why there are none.
fn gather(
    args: &DeriveArgs,
    sources: &mut sources::Sources,
    problems: &mut diagnostics::Problems,
) -> Result<Vec<input::Job>, u8> {
    let wrt = match input::WrtFlag::parse(&args.wrt) {
        Ok(w) => w,
        Err(msg) => {
            problems.message(msg);
            return Err(USAGE);
        }
    };
    let expr_text = match (&args.expr, &args.file) {
        (Some(e), _) => Some(e.clone()),
        (None, Some(f)) if f.contains("=>") && !PathBuf::from(f).exists() => Some(f.clone()),
        _ => None,
    };
    if let Some(text) = expr_text {
        return match expr::parse(&text) {
            Ok(e) => Ok(vec![input::Job::expr(e, &wrt, sources)]),
            Err(msg) => {
                problems.message(format!("in --expr: {msg}"));
                Err(USAGE)
            }
        };
    }
    let Some(file) = &args.file else {
        problems
            .message("nothing to derive: give a FILE, `-` for standard input, or --expr".into());
        return Err(USAGE);
    };
    let (name, text) = match input::read(file) {
        Ok(t) => t,
        Err(msg) => {
            problems.message(msg);
            return Err(FAILED);
        }
    };
    match input::jobs_in_file(&name, &text, &wrt, &args.functions, sources) {
        Ok(jobs) => Ok(jobs),
        Err(input::FileError::Syntax(e)) => {
            problems.syn_errors(sources, None, e);
            Err(FAILED)
        }
        Err(input::FileError::Nothing(msg)) => {
            problems.message(msg);
            Err(FAILED)
        }
    }
}

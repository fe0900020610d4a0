//! Errors, rendered as the compiler renders the macro's: the message, then the
//! source line with carets under the span (codespan-reporting).
//!
//! The engine's errors are `syn::Error`s whose spans point into the texts of
//! [`Sources`]; one the engine made without a span of its own (such as a missing
//! `wrt`) points at the function's `#[grad]` attribute instead.

use crate::derive::JobFailure;
use crate::input::Job;
use crate::sources::Sources;
use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::Files;
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use codespan_reporting::term::{self, Config};
use std::ops::Range;

/// The problems found so far, printed to standard error by [`Problems::flush`].
pub struct Problems {
    color: bool,
    entries: Vec<Entry>,
    flushed: usize,
}

struct Entry {
    function: Option<String>,
    message: String,
    at: Option<(usize, Range<usize>)>,
    notes: Vec<String>,
}

/// A problem with its place as line and column numbers (from 1), for JSON.
pub struct Located {
    /// The function being derived, if any.
    pub function: Option<String>,
    /// The message.
    pub message: String,
    /// The file's display name (`<stdin>`, `<expr>`, `<command line>`, a path).
    pub file: Option<String>,
    /// First line.
    pub line: Option<usize>,
    /// First column, in characters.
    pub column: Option<usize>,
    /// Last line.
    pub end_line: Option<usize>,
    /// Column just past the span.
    pub end_column: Option<usize>,
}

impl Problems {
    /// No problems yet; rendered in color when `color` is set.
    pub fn new(color: bool) -> Problems {
        Problems {
            color,
            entries: Vec::new(),
            flushed: 0,
        }
    }

    /// Whether there is any problem.
    pub fn any(&self) -> bool {
        !self.entries.is_empty()
    }

    /// A problem with no place in a source.
    pub fn message(&mut self, message: String) {
        self.entries.push(Entry {
            function: None,
            message,
            at: None,
            notes: Vec::new(),
        });
    }

    /// Every message of `error` (a parse error, or the engine's).
    pub fn syn_errors(&mut self, sources: &Sources, job: Option<&Job>, error: syn::Error) {
        for e in error {
            let at = sources
                .locate(e.span())
                .or_else(|| job.and_then(|j| j.anchor).and_then(|s| sources.locate(s)));
            self.entries.push(Entry {
                function: job.map(|j| j.name.clone()),
                message: e.to_string(),
                at,
                notes: Vec::new(),
            });
        }
    }

    /// Why `job` could not be derived.
    pub fn failure(&mut self, sources: &Sources, job: &Job, failure: JobFailure) {
        let first = self.entries.len();
        for e in failure.errors {
            self.syn_errors(sources, Some(job), e);
        }
        let added = self.entries.len() > first;
        if let (Some(note), Some(last), true) = (failure.note, self.entries.last_mut(), added) {
            last.notes.push(note);
        }
    }

    /// The problems with line and column numbers.
    pub fn located(&self, sources: &Sources) -> Vec<Located> {
        self.entries
            .iter()
            .map(|e| {
                let place = e.at.as_ref().and_then(|(id, range)| {
                    let name = sources.files.name(*id).ok()?;
                    let start = sources.files.location(*id, range.start).ok()?;
                    let end = sources.files.location(*id, range.end).ok()?;
                    Some((name, start, end))
                });
                Located {
                    function: e.function.clone(),
                    message: e.message.clone(),
                    file: place.as_ref().map(|p| p.0.clone()),
                    line: place.as_ref().map(|p| p.1.line_number),
                    column: place.as_ref().map(|p| p.1.column_number),
                    end_line: place.as_ref().map(|p| p.2.line_number),
                    end_column: place.as_ref().map(|p| p.2.column_number),
                }
            })
            .collect()
    }

    /// Prints the problems not printed yet to standard error.
    pub fn flush(&mut self, sources: &Sources) {
        let choice = if self.color {
            ColorChoice::Always
        } else {
            ColorChoice::Never
        };
        let writer = StandardStream::stderr(choice);
        let config = Config::default();
        for e in &self.entries[self.flushed..] {
            let mut d = Diagnostic::error().with_message(&e.message);
            if let Some((id, range)) = &e.at {
                d = d.with_labels(vec![Label::primary(*id, range.clone())]);
            }
            d = d.with_notes(e.notes.clone());
            if term::emit_to_write_style(&mut writer.lock(), &config, &sources.files, &d).is_err() {
                eprintln!("error: {}", e.message);
            }
        }
        self.flushed = self.entries.len();
    }
}

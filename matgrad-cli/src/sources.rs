//! The texts that spans point into: the input file, a built `--expr` function, the
//! `--wrt` flag.
//!
//! Outside a procedural macro, proc-macro2 (with its `span-locations` feature) keeps
//! every string it lexes in a thread-local map and names it `<parsed string N>`;
//! [`proc_macro2::Span::file`] gives that name and [`proc_macro2::Span::byte_range`]
//! the bytes within it. Every text is lexed here, so a span of any token the engine
//! reports on can be traced back to the text and the name the user knows it by.

use codespan_reporting::files::SimpleFiles;
use proc_macro2::{Span, TokenStream};
use std::collections::HashMap;
use std::ops::Range;

/// Every text lexed so far, as codespan files.
#[derive(Default)]
pub struct Sources {
    /// The texts, by display name.
    pub files: SimpleFiles<String, String>,
    /// proc-macro2's name of each lexed text → its id in `files`.
    by_lexer_name: HashMap<String, usize>,
}

impl Sources {
    /// Lexes `text` (shown as `name` in diagnostics) into tokens whose spans
    /// [`Sources::locate`] can find again.
    pub fn lex(&mut self, name: &str, text: &str) -> Result<TokenStream, syn::Error> {
        let id = self.files.add(name.to_owned(), text.to_owned());
        // A `#!` line (not `#![attr]`) is not Rust tokens: blank it, keeping offsets.
        let lexed = match text.strip_prefix("#!") {
            Some(rest) if !rest.trim_start().starts_with('[') => {
                let end = text.find('\n').unwrap_or(text.len());
                let mut blanked = " ".repeat(end);
                blanked.push_str(&text[end..]);
                blanked
            }
            _ => text.to_owned(),
        };
        match lexed.parse::<TokenStream>() {
            Ok(tokens) => {
                if let Some(first) = tokens.clone().into_iter().next() {
                    self.by_lexer_name.insert(first.span().file(), id);
                }
                Ok(tokens)
            }
            Err(e) => {
                self.by_lexer_name.insert(e.span().file(), id);
                Err(syn::Error::new(e.span(), lex_message(&lexed)))
            }
        }
    }

    /// The file and byte range `span` covers, if it lies in a text lexed here
    /// (not, for instance, a `Span::call_site()` the engine made up).
    pub fn locate(&self, span: Span) -> Option<(usize, Range<usize>)> {
        let id = *self.by_lexer_name.get(&span.file())?;
        Some((id, span.byte_range()))
    }
}

/// What keeps `text` from being Rust tokens, as far as a quick look tells.
fn lex_message(text: &str) -> String {
    let quotes = text.matches('"').count() - text.matches("\\\"").count();
    let open = text.matches(['(', '[', '{']).count();
    let close = text.matches([')', ']', '}']).count();
    if quotes % 2 == 1 {
        "this is not Rust: unterminated double quote string".into()
    } else if open != close {
        "this is not Rust: unbalanced delimiters".into()
    } else {
        "this is not Rust: it cannot be split into tokens".into()
    }
}

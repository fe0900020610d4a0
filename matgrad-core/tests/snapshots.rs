//! What the macros write, committed: each `snapshots/in/NAME.rs` (`#[grad]` and
//! `#[jacobian]` functions) expanded and
//! pretty-printed into `snapshots/out/NAME.rs`, so a reader can see the generated
//! code and a change to it shows in review. Refresh with
//! `MATGRAD_BLESS=1 cargo test -p matgrad-core --test snapshots`.

use std::fs;
use std::path::Path;

fn expand_file(src: &str) -> String {
    prettyplease::unparse(&syn::parse2(expand_tokens(src)).expect("expansion parses"))
}

fn expand_tokens(src: &str) -> proc_macro2::TokenStream {
    let file: syn::File = syn::parse_str(src).expect("parse input");
    let mut out = proc_macro2::TokenStream::new();
    for item in file.items {
        let syn::Item::Fn(mut f) = item else { continue };
        let Some(pos) = f
            .attrs
            .iter()
            .position(|a| a.path().is_ident("grad") || a.path().is_ident("jacobian"))
        else {
            continue;
        };
        let attr = f.attrs.remove(pos);
        let jacobian = attr.path().is_ident("jacobian");
        let args = match attr.meta {
            syn::Meta::List(l) => l.tokens,
            _ => proc_macro2::TokenStream::new(),
        };
        out.extend(if jacobian {
            matgrad_core::jacobian::expand(args, quote::quote!(#f), false)
        } else {
            matgrad_core::expand(args, quote::quote!(#f))
        });
    }
    out
}

/// Whether `tokens` hold the identifier `name` (doc comments are literals, not
/// identifiers, so the prose "nalgebra's static kernels" does not count).
fn has_ident(tokens: proc_macro2::TokenStream, name: &str) -> bool {
    tokens.into_iter().any(|tree| match tree {
        proc_macro2::TokenTree::Ident(ident) => ident == name,
        proc_macro2::TokenTree::Group(group) => has_ident(group.stream(), name),
        _ => false,
    })
}

/// The generated code names nalgebra only through `::matgrad::__private` and the
/// user's own types: the user's crate may have nalgebra 0.34 or 0.35, under any name
/// (matgrad's `nalgebra_v0_34` feature renames it), so a `::nalgebra::` path in an
/// expansion would break there. The annotated functions of the inputs do not name
/// `nalgebra` themselves (their files' `use` lines may).
#[test]
fn expansions_never_name_the_nalgebra_crate() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/in");
    let mut checked = 0;
    for entry in fs::read_dir(dir).expect("in/").flatten() {
        let src = fs::read_to_string(entry.path()).expect("read");
        let file: syn::File = syn::parse_str(&src).expect("parse input");
        let mut functions = file
            .items
            .iter()
            .filter(|item| matches!(item, syn::Item::Fn(_)));
        assert!(
            !functions.any(|f| has_ident(quote::quote!(#f), "nalgebra")),
            "{:?}: an annotated function names nalgebra itself",
            entry.path()
        );
        assert!(
            !has_ident(expand_tokens(&src), "nalgebra"),
            "the expansion of {:?} names nalgebra",
            entry.path()
        );
        checked += 1;
    }
    assert!(
        checked >= 5,
        "expected the snapshot inputs, found {checked}"
    );
}

#[test]
fn expanded_code_matches_the_committed_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let bless = std::env::var_os("MATGRAD_BLESS").is_some();
    let mut checked = 0;
    let mut entries: Vec<_> = fs::read_dir(dir.join("in"))
        .expect("in/")
        .flatten()
        .collect();
    entries.sort_by_key(std::fs::DirEntry::path);
    for entry in entries {
        let path = entry.path();
        let got = expand_file(&fs::read_to_string(&path).expect("read"));
        let out = dir.join("out").join(path.file_name().expect("name"));
        if bless {
            fs::write(&out, &got).expect("write snapshot");
        } else {
            let want = fs::read_to_string(&out).unwrap_or_default();
            assert!(
                got == want,
                "{} changed; rerun with MATGRAD_BLESS=1 and review the diff:\n{got}",
                out.display()
            );
        }
        checked += 1;
    }
    assert!(
        checked >= 5,
        "expected the snapshot inputs, found {checked}"
    );
}

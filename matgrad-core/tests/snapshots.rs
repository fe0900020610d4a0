//! What the macro writes, committed: each `snapshots/in/NAME.rs` expanded and
//! pretty-printed into `snapshots/out/NAME.rs`, so a reader can see the generated
//! code and a change to it shows in review. Refresh with
//! `MATGRAD_BLESS=1 cargo test -p matgrad-core --test snapshots`.

use std::fs;
use std::path::Path;

fn expand_file(src: &str) -> String {
    let file: syn::File = syn::parse_str(src).expect("parse input");
    let mut out = proc_macro2::TokenStream::new();
    for item in file.items {
        let syn::Item::Fn(mut f) = item else { continue };
        let Some(pos) = f.attrs.iter().position(|a| a.path().is_ident("grad")) else {
            continue;
        };
        let attr = f.attrs.remove(pos);
        let args = match attr.meta {
            syn::Meta::List(l) => l.tokens,
            _ => proc_macro2::TokenStream::new(),
        };
        out.extend(matgrad_core::expand(args, quote::quote!(#f)));
    }
    prettyplease::unparse(&syn::parse2(out).expect("expansion parses"))
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

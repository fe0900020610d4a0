//! Prints what `#[grad]` (or `#[jacobian]`) writes for each annotated function read
//! from stdin (a developer's tool).
use std::io::Read;

fn main() {
    let mut src = String::new();
    std::io::stdin()
        .read_to_string(&mut src)
        .expect("read stdin");
    let file: syn::File = syn::parse_str(&src).expect("parse");
    for item in file.items {
        if let syn::Item::Fn(mut f) = item {
            let pos = f
                .attrs
                .iter()
                .position(|a| a.path().is_ident("grad") || a.path().is_ident("jacobian"));
            let Some(pos) = pos else { continue };
            let jacobian = f
                .attrs
                .get(pos)
                .is_some_and(|a| a.path().is_ident("jacobian"));
            let attr = f.attrs.remove(pos);
            let args = match attr.meta {
                syn::Meta::List(l) => l.tokens,
                _ => Default::default(),
            };
            let out = if jacobian {
                matgrad_core::jacobian::expand(args, quote::quote!(#f), false)
            } else {
                matgrad_core::expand(args, quote::quote!(#f))
            };
            match syn::parse2::<syn::File>(out.clone()) {
                Ok(file) => println!("{}", prettyplease::unparse(&file)),
                Err(_) => println!("{out}"),
            }
        }
    }
}

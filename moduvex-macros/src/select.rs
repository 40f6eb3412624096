//! The pattern cleaner behind `select!`'s match check.
//!
//! `select!` tries each completed branch's pattern on a *reference* to the
//! output before it commits to that branch, so a pattern that does not
//! match leaves the output whole. Against a reference, a `mut x` or
//! `ref mut x` binding would move out of, or mutably borrow through, a
//! shared reference; with those modifiers removed every binding is a
//! shared borrow and the check compiles for any output type. The pattern
//! as written is used afterwards, by value, to bind the handler's names.

use proc_macro2::{Group, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::Parser;
use syn::Pat;

/// `pattern` with every binding's `ref`/`mut` removed, and `&mut p`
/// reference patterns made `&p` (the check runs on a shared reference).
pub(crate) fn clean_pattern(input: TokenStream) -> TokenStream {
    let tokens = flatten_invisible_groups(input);
    match Pat::parse_multi_with_leading_vert.parse2(tokens.clone()) {
        Ok(mut pat) => {
            clean(&mut pat);
            pat.into_token_stream()
        }
        // `macro_rules!` accepted it as a pattern: if syn does not, the
        // pattern as written is still a valid check (it only loses the
        // cleaning), and rustc's own errors are the clearer ones.
        Err(_) => tokens,
    }
}

/// A pattern handed through `macro_rules!` arrives wrapped in invisible
/// (`None`-delimited) groups; syn parses patterns from the bare tokens.
fn flatten_invisible_groups(input: TokenStream) -> TokenStream {
    input
        .into_iter()
        .flat_map(|tt| match tt {
            TokenTree::Group(g) if g.delimiter() == proc_macro2::Delimiter::None => {
                flatten_invisible_groups(g.stream())
                    .into_iter()
                    .collect::<Vec<_>>()
            }
            TokenTree::Group(g) => {
                let mut new = Group::new(g.delimiter(), flatten_invisible_groups(g.stream()));
                new.set_span(g.span());
                vec![TokenTree::Group(new)]
            }
            other => vec![other],
        })
        .collect()
}

fn clean(pat: &mut Pat) {
    match pat {
        Pat::Ident(ident) => {
            ident.by_ref = None;
            ident.mutability = None;
            if let Some((_, sub)) = &mut ident.subpat {
                clean(sub);
            }
        }
        Pat::Or(or) => or.cases.iter_mut().for_each(clean),
        Pat::Paren(p) => clean(&mut p.pat),
        Pat::Reference(r) => {
            r.mutability = None;
            clean(&mut r.pat);
        }
        Pat::Slice(s) => s.elems.iter_mut().for_each(clean),
        Pat::Struct(s) => s.fields.iter_mut().for_each(|f| clean(&mut f.pat)),
        Pat::Tuple(t) => t.elems.iter_mut().for_each(clean),
        Pat::TupleStruct(t) => t.elems.iter_mut().for_each(clean),
        Pat::Type(t) => clean(&mut t.pat),
        // Literals, ranges, paths, `..`, `_`, macros: no bindings to clean.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::clean_pattern;
    use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
    use quote::quote;

    fn cleaned(pat: TokenStream) -> String {
        clean_pattern(pat).to_string()
    }

    #[test]
    fn binding_modes_are_removed_everywhere() {
        assert_eq!(cleaned(quote!(mut v)), quote!(v).to_string());
        assert_eq!(
            cleaned(quote!(Some(ref mut v))),
            quote!(Some(v)).to_string()
        );
        assert_eq!(
            cleaned(quote!((mut a, Point { mut x, y: ref y2 }, [ref first, ..]))),
            quote!((a, Point { x, y: y2 }, [first, ..])).to_string()
        );
        assert_eq!(
            cleaned(quote!(whole @ Some(mut inner) | whole @ None)),
            quote!(whole @ Some(inner) | whole @ None).to_string()
        );
        assert_eq!(cleaned(quote!(&mut (n, _))), quote!(&(n, _)).to_string());
    }

    #[test]
    fn patterns_without_bindings_are_kept() {
        for pat in [
            quote!(None),
            quote!(Ok(1..=3)),
            quote!(_),
            quote!(Kind::A { .. }),
        ] {
            assert_eq!(cleaned(pat.clone()), pat.to_string());
        }
    }

    #[test]
    fn a_pattern_from_macro_rules_arrives_in_an_invisible_group() {
        let group = Group::new(Delimiter::None, quote!(Some(mut v)));
        let input: TokenStream = std::iter::once(TokenTree::Group(group)).collect();
        assert_eq!(cleaned(input), quote!(Some(v)).to_string());
    }
}

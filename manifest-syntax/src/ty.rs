//! Terminal field types and the canonical text of a type.

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{GenericArgument, PathArguments, Type};

use crate::TerminalKind;
use crate::symbol::{COMBINE, INPUT, MULTIPLEX, OUTPUT};

/// The kind and message type of a terminal field type: a path whose last
/// segment is `Input`, `Output`, `Multiplex` or `Combine` with exactly one
/// generic type argument. `None` for every other type.
pub(crate) fn terminal(ty: &Type) -> Option<(TerminalKind, &Type)> {
    let path = match ty {
        Type::Group(group) => return terminal(&group.elem),
        Type::Path(path) if path.qself.is_none() => &path.path,
        _ => return None,
    };
    let last = path.segments.last()?;
    let kind = if last.ident == INPUT {
        TerminalKind::Input
    } else if last.ident == OUTPUT {
        TerminalKind::Output
    } else if last.ident == MULTIPLEX {
        TerminalKind::Multiplex
    } else if last.ident == COMBINE {
        TerminalKind::Combine
    } else {
        return None;
    };
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    if args.args.len() != 1 {
        return None;
    }
    match args.args.first() {
        Some(GenericArgument::Type(message)) => Some((kind, message)),
        _ => None,
    }
}

/// Canonical text of a type, independent of how the source was spaced:
/// `Vec<u8>`, `[u8; 1024]`, `(u32, String)`, `std::string::String`,
/// `&'static str`, `Box<dyn Fn(u8) -> u8 + Send>`.
///
/// Spaces go after `,` and `;`, between two words (`dyn Trait`, `&'a mut T`),
/// and around `+`, `=` and `->`; nowhere else.
pub fn type_text(ty: &Type) -> String {
    let mut out = String::new();
    write_tokens(&mut out, ty.to_token_stream());
    out
}

/// What the previous token was, to decide on a space before the next one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Prev {
    Start,
    /// A word after which a group needs a space (`mut [u8]`, `&'a [u8]`).
    Keyword,
    /// Any other word (`Fn(u8)`, `fn(u8)`).
    Word,
    /// An operator that wants a space after it (`,`, `;`, `+`, `=`, `->`).
    Spaced,
    /// Any other punctuation or a group.
    Tight,
}

fn write_tokens(out: &mut String, tokens: TokenStream) {
    let mut prev = Prev::Start;
    let mut iter = tokens.into_iter().peekable();
    while let Some(token) = iter.next() {
        match token {
            TokenTree::Ident(ident) => {
                if matches!(prev, Prev::Keyword | Prev::Word | Prev::Spaced) {
                    out.push(' ');
                }
                let text = ident.to_string();
                let keyword = matches!(text.as_str(), "mut" | "const" | "dyn" | "impl" | "as");
                prev = if keyword || out.ends_with('\'') {
                    Prev::Keyword
                } else {
                    Prev::Word
                };
                out.push_str(&text);
            }
            TokenTree::Literal(lit) => {
                if matches!(prev, Prev::Keyword | Prev::Word | Prev::Spaced) {
                    out.push(' ');
                }
                out.push_str(&lit.to_string());
                prev = Prev::Word;
            }
            TokenTree::Group(group) => {
                if matches!(prev, Prev::Keyword | Prev::Spaced) {
                    out.push(' ');
                }
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                out.push_str(open);
                write_tokens(out, group.stream());
                out.push_str(close);
                prev = if group.delimiter() == Delimiter::None {
                    Prev::Word
                } else {
                    Prev::Tight
                };
            }
            TokenTree::Punct(punct) => {
                // Joint punctuation forms one operator: `->`, `::`, `'a`.
                let mut op = String::from(punct.as_char());
                let mut spacing = punct.spacing();
                while spacing == Spacing::Joint {
                    match iter.peek() {
                        Some(TokenTree::Punct(next)) => {
                            op.push(next.as_char());
                            spacing = next.spacing();
                            iter.next();
                        }
                        _ => break,
                    }
                }
                match op.as_str() {
                    "," | ";" => {
                        out.push_str(&op);
                        prev = Prev::Spaced;
                    }
                    "+" | "=" | "->" => {
                        if prev != Prev::Start {
                            out.push(' ');
                        }
                        out.push_str(&op);
                        prev = Prev::Spaced;
                    }
                    _ => {
                        if prev == Prev::Spaced {
                            out.push(' ');
                        }
                        out.push_str(&op);
                        prev = Prev::Tight;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn text(ty: Type) -> String {
        type_text(&ty)
    }

    #[test]
    fn canonical_text_of_common_types() {
        assert_eq!(text(parse_quote!(f64)), "f64");
        assert_eq!(text(parse_quote!(Vec<u8>)), "Vec<u8>");
        assert_eq!(text(parse_quote!([u8; 1024])), "[u8; 1024]");
        assert_eq!(text(parse_quote!((u32, String))), "(u32, String)");
        assert_eq!(text(parse_quote!((u32,))), "(u32,)");
        assert_eq!(text(parse_quote!(())), "()");
        assert_eq!(
            text(parse_quote!(std::string::String)),
            "std::string::String"
        );
        assert_eq!(
            text(parse_quote!(::std::vec::Vec<u8>)),
            "::std::vec::Vec<u8>"
        );
        assert_eq!(
            text(parse_quote!(Vec<Vec<Option<u8>>>)),
            "Vec<Vec<Option<u8>>>"
        );
        assert_eq!(
            text(parse_quote!(HashMap<String, Vec<u8>>)),
            "HashMap<String, Vec<u8>>"
        );
    }

    #[test]
    fn canonical_text_of_references_and_trait_objects() {
        assert_eq!(text(parse_quote!(&'static str)), "&'static str");
        assert_eq!(text(parse_quote!(&'a mut [u8])), "&'a mut [u8]");
        assert_eq!(text(parse_quote!(*const u8)), "*const u8");
        assert_eq!(text(parse_quote!(*mut [u8])), "*mut [u8]");
        assert_eq!(text(parse_quote!(&'a [u8])), "&'a [u8]");
        assert_eq!(text(parse_quote!(&(u8, u8))), "&(u8, u8)");
        assert_eq!(text(parse_quote!(&mut (u8, u8))), "&mut (u8, u8)");
        assert_eq!(text(parse_quote!(Box<dyn FnMut(u8)>)), "Box<dyn FnMut(u8)>");
        assert_eq!(text(parse_quote!(Box<dyn (Send)>)), "Box<dyn (Send)>");
        assert_eq!(
            text(parse_quote!(Box<dyn Fn(u8) -> u8 + Send + 'static>)),
            "Box<dyn Fn(u8) -> u8 + Send + 'static>"
        );
        assert_eq!(
            text(parse_quote!(fn(u8, u16) -> bool)),
            "fn(u8, u16) -> bool"
        );
        assert_eq!(
            text(parse_quote!(Box<dyn Iterator<Item = u8>>)),
            "Box<dyn Iterator<Item = u8>>"
        );
        assert_eq!(
            text(parse_quote!(<T as Trait>::Assoc)),
            "<T as Trait>::Assoc"
        );
    }

    #[test]
    fn text_does_not_depend_on_source_spacing() {
        let a: Type = syn::parse_str("Vec< ( u8 , [ i32 ; 4 ] ) >").unwrap();
        let b: Type = syn::parse_str("Vec<(u8,[i32;4])>").unwrap();
        assert_eq!(type_text(&a), type_text(&b));
        assert_eq!(type_text(&a), "Vec<(u8, [i32; 4])>");
    }

    #[test]
    fn recognises_the_four_terminal_kinds() {
        let cases: [(Type, TerminalKind, &str); 5] = [
            (parse_quote!(Input<f64>), TerminalKind::Input, "f64"),
            (
                parse_quote!(Output<Vec<u8>>),
                TerminalKind::Output,
                "Vec<u8>",
            ),
            (
                parse_quote!(kernel::Multiplex<String>),
                TerminalKind::Multiplex,
                "String",
            ),
            (
                parse_quote!(::kernel::Combine<(u8, u8)>),
                TerminalKind::Combine,
                "(u8, u8)",
            ),
            (
                parse_quote!(Output<[u8; 4]>),
                TerminalKind::Output,
                "[u8; 4]",
            ),
        ];
        for (ty, kind, message) in cases {
            let found = terminal(&ty).map(|(k, m)| (k, type_text(m)));
            assert_eq!(
                found,
                Some((kind, message.to_owned())),
                "{}",
                type_text(&ty)
            );
        }
    }

    #[test]
    fn other_types_are_not_terminals() {
        let cases: [Type; 8] = [
            parse_quote!(u64),
            parse_quote!(Vec<u8>),
            parse_quote!(Output),
            parse_quote!(Output<u8, u16>),
            parse_quote!(Output<'static>),
            parse_quote!(Output<3>),
            parse_quote!(<Self as Trait>::Output<u8>),
            parse_quote!(&Output<u8>),
        ];
        for ty in cases {
            assert!(terminal(&ty).is_none(), "{}", type_text(&ty));
        }
    }
}

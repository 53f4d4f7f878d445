//! `#[manifest(..)]` and `#[terminal(..)]`: one struct per attribute with an
//! `Option` per key, filled by `parse_nested_meta`.
//!
//! Parsing goes on after a bad key or value, so one compile reports every mistake.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Lit, LitStr, Path, Token, UnOp};

use crate::Auth;
use crate::ctxt::Ctxt;
use crate::symbol::{
    self, AUTH, AUTH_MECHANISM, CLASS, CRATE, DOC, MANIFEST, MANIFEST_KEYS, NAME, OWNER, Symbol,
    TERMINAL, TERMINAL_KEYS,
};

/// A key's value and where it was written. `value` is `None` when the value
/// was invalid; that error has been reported already.
#[derive(Debug, Clone)]
pub(crate) struct Entry<T> {
    pub(crate) value: Option<T>,
    pub(crate) span: Span,
}

impl<T> Entry<T> {
    fn valid(value: T, span: Span) -> Self {
        Entry {
            value: Some(value),
            span,
        }
    }

    fn invalid(span: Span) -> Self {
        Entry { value: None, span }
    }
}

/// Everything `#[manifest(..)]` says about the struct.
#[derive(Debug, Default)]
pub(crate) struct Container<'a> {
    pub(crate) name: Option<Entry<String>>,
    pub(crate) class: Option<Entry<u32>>,
    pub(crate) owner: Option<Entry<String>>,
    pub(crate) auth: Option<Entry<Auth>>,
    pub(crate) auth_mechanism: Option<Entry<String>>,
    /// `crate = ".."`: the path generated code names the kernel by.
    pub(crate) krate: Option<Entry<Path>>,
    /// The first `#[manifest(..)]`, where missing keys are reported.
    pub(crate) attr: Option<&'a Attribute>,
}

impl<'a> Container<'a> {
    /// Reads every `#[manifest(..)]` on the struct (several are merged).
    pub(crate) fn from_ast(cx: &Ctxt, attrs: &'a [Attribute]) -> Self {
        let mut this = Container::default();
        for attr in attrs {
            if attr.path() == TERMINAL {
                cx.error_spanned_by(
                    attr,
                    "`#[terminal(..)]` belongs on a terminal field, not on the struct",
                );
                continue;
            }
            if attr.path() != MANIFEST {
                continue;
            }
            this.attr.get_or_insert(attr);
            let parsed = attr.parse_nested_meta(|meta| {
                let path = &meta.path;
                if path == NAME {
                    let entry = string_value(cx, &meta, NAME, "name = \"sensor\"")?;
                    set(cx, MANIFEST, &mut this.name, NAME, path, entry);
                } else if path == CLASS {
                    let entry = class_value(cx, &meta)?;
                    set(cx, MANIFEST, &mut this.class, CLASS, path, entry);
                } else if path == OWNER {
                    let entry = string_value(cx, &meta, OWNER, "owner = \"ops\"")?;
                    set(cx, MANIFEST, &mut this.owner, OWNER, path, entry);
                } else if path == AUTH {
                    let entry = auth_value(cx, &meta)?;
                    set(cx, MANIFEST, &mut this.auth, AUTH, path, entry);
                } else if path == AUTH_MECHANISM {
                    let entry = string_value(
                        cx,
                        &meta,
                        AUTH_MECHANISM,
                        "auth_mechanism = \"hmac-sha256\"",
                    )?;
                    set(
                        cx,
                        MANIFEST,
                        &mut this.auth_mechanism,
                        AUTH_MECHANISM,
                        path,
                        entry,
                    );
                } else if path == CRATE {
                    let entry = crate_value(cx, &meta)?;
                    set(cx, MANIFEST, &mut this.krate, CRATE, path, entry);
                } else {
                    unknown_key(cx, &meta, MANIFEST, MANIFEST_KEYS)?;
                }
                Ok(())
            });
            if let Err(err) = parsed {
                cx.syn_error(err);
            }
        }
        this
    }
}

/// Everything `#[terminal(..)]` says about a field.
#[derive(Debug, Default)]
pub(crate) struct Terminal<'a> {
    pub(crate) name: Option<Entry<String>>,
    pub(crate) doc: Option<Entry<String>>,
    /// The first `#[terminal(..)]` on the field.
    pub(crate) attr: Option<&'a Attribute>,
}

impl<'a> Terminal<'a> {
    /// Reads every `#[terminal(..)]` on a field (several are merged).
    pub(crate) fn from_ast(cx: &Ctxt, attrs: &'a [Attribute]) -> Self {
        let mut this = Terminal::default();
        for attr in attrs {
            if attr.path() == MANIFEST {
                cx.error_spanned_by(
                    attr,
                    "`#[manifest(..)]` belongs on the struct, not on a field",
                );
                continue;
            }
            if attr.path() != TERMINAL {
                continue;
            }
            this.attr.get_or_insert(attr);
            let parsed = attr.parse_nested_meta(|meta| {
                let path = &meta.path;
                if path == NAME {
                    let entry = string_value(cx, &meta, NAME, "name = \"readings\"")?;
                    set(cx, TERMINAL, &mut this.name, NAME, path, entry);
                } else if path == DOC {
                    let entry = string_value(cx, &meta, DOC, "doc = \"raw readings in bar\"")?;
                    set(cx, TERMINAL, &mut this.doc, DOC, path, entry);
                } else {
                    unknown_key(cx, &meta, TERMINAL, TERMINAL_KEYS)?;
                }
                Ok(())
            });
            if let Err(err) = parsed {
                cx.syn_error(err);
            }
        }
        this
    }
}

/// Stores `entry` unless the key was given before, which is an error on the repeat.
fn set<T>(
    cx: &Ctxt,
    attr: Symbol,
    slot: &mut Option<Entry<T>>,
    key: Symbol,
    path: &Path,
    entry: Entry<T>,
) {
    if slot.is_some() {
        cx.error_spanned_by(path, format!("duplicate {attr} attribute `{key}`"));
    } else {
        *slot = Some(entry);
    }
}

/// Reports an unknown key and skips its value, if any.
fn unknown_key(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    attr: Symbol,
    keys: &[Symbol],
) -> syn::Result<()> {
    let key = path_text(&meta.path);
    cx.error_spanned_by(
        &meta.path,
        format!(
            "unknown {attr} attribute `{key}`, expected {}",
            symbol::one_of(keys)
        ),
    );
    value_tokens(meta)?;
    Ok(())
}

/// The tokens after `key =` up to the next top-level comma; `None` when there is no `=`.
/// Anything else after the key (`key(..)`, `key "x"`) is skipped and also yields `None`.
fn value_tokens(meta: &ParseNestedMeta) -> syn::Result<Option<TokenStream>> {
    let has_eq = meta.input.peek(Token![=]);
    if has_eq {
        meta.input.parse::<Token![=]>()?;
    }
    let mut tokens = TokenStream::new();
    while !meta.input.is_empty() && !meta.input.peek(Token![,]) {
        tokens.extend([meta.input.parse::<TokenTree>()?]);
    }
    Ok(has_eq.then_some(tokens))
}

/// The value of `key = <tokens>`, or an error (recorded) and `None` when it is missing.
fn required_value(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    key: Symbol,
    example: &str,
) -> syn::Result<Option<TokenStream>> {
    match value_tokens(meta)? {
        Some(tokens) if !tokens.is_empty() => Ok(Some(tokens)),
        Some(_) | None => {
            cx.error_spanned_by(
                &meta.path,
                format!("`{key}` needs a value, like `{example}`"),
            );
            Ok(None)
        }
    }
}

fn string_value(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    key: Symbol,
    example: &str,
) -> syn::Result<Entry<String>> {
    let Some(tokens) = required_value(cx, meta, key, example)? else {
        return Ok(Entry::invalid(meta.path.span()));
    };
    match syn::parse2::<LitStr>(tokens.clone()) {
        Ok(lit) => Ok(Entry::valid(lit.value(), lit.span())),
        Err(_) => {
            cx.error_spanned_by(
                &tokens,
                format!("`{key}` must be a string literal, like `{example}`"),
            );
            Ok(Entry::invalid(tokens_span(&tokens)))
        }
    }
}

fn crate_value(cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<Entry<Path>> {
    const EXAMPLE: &str = "crate = \"my_framework::kernel\"";
    let entry = string_value(cx, meta, CRATE, EXAMPLE)?;
    let Some(text) = entry.value else {
        return Ok(Entry::invalid(entry.span));
    };
    match syn::parse_str::<Path>(&text) {
        Ok(mut path) => {
            for segment in &mut path.segments {
                segment.ident.set_span(entry.span);
            }
            Ok(Entry::valid(path, entry.span))
        }
        Err(_) => {
            cx.error_at(
                entry.span,
                format!("`crate` must be a Rust path to the kernel crate, like `{EXAMPLE}`"),
            );
            Ok(Entry::invalid(entry.span))
        }
    }
}

fn class_value(cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<Entry<u32>> {
    const EXAMPLE: &str = "class = 0x0a01";
    let Some(tokens) = required_value(cx, meta, CLASS, EXAMPLE)? else {
        return Ok(Entry::invalid(meta.path.span()));
    };
    let span = tokens_span(&tokens);
    let too_large = "`class` must fit in u32 (0 to 0xffffffff)";
    match syn::parse2::<Expr>(tokens.clone()) {
        Ok(Expr::Lit(expr)) => match &expr.lit {
            Lit::Int(int) if int.suffix().is_empty() || int.suffix() == "u32" => {
                match int.base10_parse::<u32>() {
                    Ok(class) => return Ok(Entry::valid(class, span)),
                    Err(_) => cx.error_spanned_by(&tokens, too_large),
                }
            }
            Lit::Int(int) => cx.error_spanned_by(
                &tokens,
                format!(
                    "`class` is a u32; write it without the `{}` suffix, like `{EXAMPLE}`",
                    int.suffix()
                ),
            ),
            _ => cx.error_spanned_by(
                &tokens,
                format!("`class` must be an integer literal, like `{EXAMPLE}`"),
            ),
        },
        Ok(Expr::Unary(expr))
            if matches!(expr.op, UnOp::Neg(_))
                && matches!(&*expr.expr, Expr::Lit(lit) if matches!(lit.lit, Lit::Int(_))) =>
        {
            cx.error_spanned_by(&tokens, too_large);
        }
        _ => cx.error_spanned_by(
            &tokens,
            format!("`class` must be an integer literal, like `{EXAMPLE}`"),
        ),
    }
    Ok(Entry::invalid(span))
}

fn auth_value(cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<Entry<Auth>> {
    let entry = string_value(cx, meta, AUTH, "auth = \"yes\"")?;
    let Some(text) = entry.value else {
        return Ok(Entry::invalid(entry.span));
    };
    match wiring_model::identity::parse_auth(&text).ok() {
        Some(flag) => Ok(Entry::valid(flag, entry.span)),
        None => {
            cx.error_at(
                entry.span,
                format!(
                    "unknown `auth` value `{text:?}`, expected `\"yes\"`, `\"no\"` or `\"optional\"`"
                ),
            );
            Ok(Entry::invalid(entry.span))
        }
    }
}

/// `a::b` as written, for messages.
fn path_text(path: &Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let text = segments.join("::");
    if path.leading_colon.is_some() {
        format!("::{text}")
    } else {
        text
    }
}

/// A span covering `tokens` where the compiler can join spans, else their first token.
fn tokens_span(tokens: &TokenStream) -> Span {
    let mut iter = tokens.clone().into_iter();
    let Some(first) = iter.next() else {
        return Span::call_site();
    };
    let start = first.span();
    match iter.last() {
        Some(last) => start.join(last.span()).unwrap_or(start),
        None => start,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn messages(cx: Ctxt) -> Vec<String> {
        match cx.check() {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn reads_every_manifest_key() {
        let attrs: Vec<Attribute> = vec![parse_quote!(
            #[manifest(name = "flow", class = 0x0a01, owner = "ops", auth = "yes", auth_mechanism = "hmac-sha256")]
        )];
        let cx = Ctxt::new();
        let c = Container::from_ast(&cx, &attrs);
        assert!(messages(cx).is_empty());
        assert_eq!(c.name.and_then(|e| e.value).as_deref(), Some("flow"));
        assert_eq!(c.class.and_then(|e| e.value), Some(0x0a01));
        assert_eq!(c.owner.and_then(|e| e.value).as_deref(), Some("ops"));
        assert_eq!(c.auth.and_then(|e| e.value), Some(Auth::Yes));
        assert_eq!(
            c.auth_mechanism.and_then(|e| e.value).as_deref(),
            Some("hmac-sha256")
        );
        assert!(c.attr.is_some());
    }

    #[test]
    fn merges_several_manifest_attributes() {
        let attrs: Vec<Attribute> = vec![
            parse_quote!(#[manifest(class = 7)]),
            parse_quote!(#[doc = "other attributes are ignored"]),
            parse_quote!(#[manifest(owner = "ops")]),
        ];
        let cx = Ctxt::new();
        let c = Container::from_ast(&cx, &attrs);
        assert!(messages(cx).is_empty());
        assert_eq!(c.class.and_then(|e| e.value), Some(7));
        assert_eq!(c.owner.and_then(|e| e.value).as_deref(), Some("ops"));
    }

    #[test]
    fn class_bounds() {
        for (attr, expected) in [
            (parse_quote!(#[manifest(class = 0xffff_ffff)]), Ok(u32::MAX)),
            (parse_quote!(#[manifest(class = 0u32)]), Ok(0)),
            (
                parse_quote!(#[manifest(class = 0x1_0000_0000)]),
                Err("`class` must fit in u32 (0 to 0xffffffff)"),
            ),
            (
                parse_quote!(#[manifest(class = -1)]),
                Err("`class` must fit in u32 (0 to 0xffffffff)"),
            ),
            (
                parse_quote!(#[manifest(class = "0x0a01")]),
                Err("`class` must be an integer literal, like `class = 0x0a01`"),
            ),
            (
                parse_quote!(#[manifest(class = 1.5)]),
                Err("`class` must be an integer literal, like `class = 0x0a01`"),
            ),
            (
                parse_quote!(#[manifest(class = SOME_CONST)]),
                Err("`class` must be an integer literal, like `class = 0x0a01`"),
            ),
            (
                parse_quote!(#[manifest(class = 5u8)]),
                Err("`class` is a u32; write it without the `u8` suffix, like `class = 0x0a01`"),
            ),
            (
                parse_quote!(#[manifest(class)]),
                Err("`class` needs a value, like `class = 0x0a01`"),
            ),
        ] {
            let attrs: Vec<Attribute> = vec![attr];
            let cx = Ctxt::new();
            let c = Container::from_ast(&cx, &attrs);
            let errors = messages(cx);
            match expected {
                Ok(class) => {
                    assert!(errors.is_empty(), "{errors:?}");
                    assert_eq!(c.class.and_then(|e| e.value), Some(class));
                }
                Err(message) => {
                    assert_eq!(errors, vec![message.to_owned()]);
                    // Present but invalid: not reported as missing later.
                    assert!(c.class.is_some_and(|e| e.value.is_none()));
                }
            }
        }
    }

    #[test]
    fn reports_every_bad_key_in_one_attribute() {
        let attrs: Vec<Attribute> = vec![parse_quote!(
            #[manifest(colour = red(1, 2), class = 1, class = 2, owner = 5, auth = "maybe", size(3))]
        )];
        let cx = Ctxt::new();
        let c = Container::from_ast(&cx, &attrs);
        assert_eq!(
            messages(cx),
            vec![
                "unknown manifest attribute `colour`, expected `name`, `class`, `owner`, `auth`, `auth_mechanism` or `crate`",
                "duplicate manifest attribute `class`",
                "`owner` must be a string literal, like `owner = \"ops\"`",
                "unknown `auth` value `\"maybe\"`, expected `\"yes\"`, `\"no\"` or `\"optional\"`",
                "unknown manifest attribute `size`, expected `name`, `class`, `owner`, `auth`, `auth_mechanism` or `crate`",
            ]
        );
        assert_eq!(c.class.and_then(|e| e.value), Some(1));
    }

    #[test]
    fn duplicate_keys_across_attributes() {
        let attrs: Vec<Attribute> = vec![
            parse_quote!(#[manifest(owner = "a")]),
            parse_quote!(#[manifest(owner = "b")]),
        ];
        let cx = Ctxt::new();
        let c = Container::from_ast(&cx, &attrs);
        assert_eq!(messages(cx), vec!["duplicate manifest attribute `owner`"]);
        assert_eq!(c.owner.and_then(|e| e.value).as_deref(), Some("a"));
    }

    #[test]
    fn syntax_errors_are_reported_not_panicked() {
        for attr in [
            parse_quote!(#[manifest]),
            parse_quote!(#[manifest = "x"]),
            parse_quote!(#[manifest("x")]),
            parse_quote!(#[manifest(class = 1 owner = "x")]),
        ] {
            let attrs: Vec<Attribute> = vec![attr];
            let cx = Ctxt::new();
            let _ = Container::from_ast(&cx, &attrs);
            assert_eq!(messages(cx).len(), 1);
        }
    }

    #[test]
    fn reads_terminal_keys() {
        let attrs: Vec<Attribute> = vec![parse_quote!(#[terminal(name = "raw", doc = "bar")])];
        let cx = Ctxt::new();
        let t = Terminal::from_ast(&cx, &attrs);
        assert!(messages(cx).is_empty());
        assert_eq!(t.name.and_then(|e| e.value).as_deref(), Some("raw"));
        assert_eq!(t.doc.and_then(|e| e.value).as_deref(), Some("bar"));
    }

    #[test]
    fn rejects_unknown_and_duplicate_terminal_keys() {
        let attrs: Vec<Attribute> = vec![
            parse_quote!(#[terminal(name = "a", colour = "red")]),
            parse_quote!(#[terminal(name = "b")]),
            parse_quote!(#[manifest(class = 1)]),
        ];
        let cx = Ctxt::new();
        let _ = Terminal::from_ast(&cx, &attrs);
        assert_eq!(
            messages(cx),
            vec![
                "unknown terminal attribute `colour`, expected `name` or `doc`",
                "duplicate terminal attribute `name`",
                "`#[manifest(..)]` belongs on the struct, not on a field",
            ]
        );
    }
}

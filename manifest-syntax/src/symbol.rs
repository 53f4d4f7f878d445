//! The words of the manifest syntax, in one place.

use std::fmt::{self, Display};

use syn::{Ident, Path};

/// An attribute keyword or a terminal type name.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Symbol(&'static str);

/// `#[manifest(..)]` on the struct.
pub(crate) const MANIFEST: Symbol = Symbol("manifest");
/// `#[terminal(..)]` on a terminal field.
pub(crate) const TERMINAL: Symbol = Symbol("terminal");
/// `#[derive(..)]`.
pub(crate) const DERIVE: Symbol = Symbol("derive");
/// The derive's own name, as listed in `#[derive(..)]`.
pub(crate) const DERIVE_NAME: Symbol = Symbol("Manifest");

/// `name = ".."` in `#[manifest]` and `#[terminal]`.
pub(crate) const NAME: Symbol = Symbol("name");
/// `class = 0x..` in `#[manifest]`.
pub(crate) const CLASS: Symbol = Symbol("class");
/// `owner = ".."` in `#[manifest]`.
pub(crate) const OWNER: Symbol = Symbol("owner");
/// `auth = "yes" | "no" | "optional"` in `#[manifest]`.
pub(crate) const AUTH: Symbol = Symbol("auth");
/// `auth_mechanism = ".."` in `#[manifest]`.
pub(crate) const AUTH_MECHANISM: Symbol = Symbol("auth_mechanism");
/// `doc = ".."` in `#[terminal]`.
pub(crate) const DOC: Symbol = Symbol("doc");
/// `crate = "path::to::kernel"` in `#[manifest]`: where generated code finds
/// the kernel, for crates that re-export it.
pub(crate) const CRATE: Symbol = Symbol("crate");

/// Keys accepted by `#[manifest(..)]`, in the order they are documented.
pub(crate) const MANIFEST_KEYS: &[Symbol] = &[NAME, CLASS, OWNER, AUTH, AUTH_MECHANISM, CRATE];
/// Keys accepted by `#[terminal(..)]`.
pub(crate) const TERMINAL_KEYS: &[Symbol] = &[NAME, DOC];

/// `auth_mechanism` when none is given, and the only one allowed with `auth = "no"`.
pub(crate) const NO_MECHANISM: &str = "none";

/// Terminal type names.
pub(crate) const INPUT: Symbol = Symbol("Input");
pub(crate) const OUTPUT: Symbol = Symbol("Output");
pub(crate) const MULTIPLEX: Symbol = Symbol("Multiplex");
pub(crate) const COMBINE: Symbol = Symbol("Combine");

impl PartialEq<Symbol> for Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl PartialEq<Symbol> for &Ident {
    fn eq(&self, word: &Symbol) -> bool {
        *self == word.0
    }
}

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl PartialEq<Symbol> for &Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// `a`, `b` or `c`, for messages that list what is accepted.
pub(crate) fn one_of(words: &[Symbol]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_naturally() {
        assert_eq!(one_of(&[NAME]), "`name`");
        assert_eq!(one_of(&[NAME, DOC]), "`name` or `doc`");
        assert_eq!(
            one_of(MANIFEST_KEYS),
            "`name`, `class`, `owner`, `auth`, `auth_mechanism` or `crate`"
        );
    }

    #[test]
    fn compares_with_idents_and_paths() {
        let ident: Ident = syn::parse_quote!(class);
        assert!(ident == CLASS);
        let path: Path = syn::parse_quote!(class);
        assert!(path == CLASS);
        let path: Path = syn::parse_quote!(a::class);
        assert!(path != CLASS);
    }
}

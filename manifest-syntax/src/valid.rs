//! Checks that span several keys or fields.

use std::collections::BTreeSet;

use crate::Auth;
use crate::ast::Container;
use crate::ctxt::Ctxt;
use crate::symbol::NO_MECHANISM;

const TERMINAL_TYPES: &str = "`Input<T>`, `Output<T>`, `Multiplex<T>` or `Combine<T>`";

pub(crate) fn check(cx: &Ctxt, cont: &Container) {
    check_required(cx, cont);
    check_name(cx, cont);
    check_owner(cx, cont);
    check_auth(cx, cont);
    check_terminals(cx, cont);
}

/// `class` and `owner` have no default.
fn check_required(cx: &Ctxt, cont: &Container) {
    let attrs = &cont.attrs;
    let Some(attr) = attrs.attr else {
        cx.error_spanned_by(
            cont.ident,
            format!(
                "missing `#[manifest(class = .., owner = \"..\")]` on `{}`",
                cont.ident
            ),
        );
        return;
    };
    if attrs.class.is_none() {
        cx.error_spanned_by(
            attr,
            "missing `class` in `#[manifest(..)]`, like `class = 0x0a01`",
        );
    }
    if attrs.owner.is_none() {
        cx.error_spanned_by(
            attr,
            "missing `owner` in `#[manifest(..)]`, like `owner = \"ops\"`",
        );
    }
}

/// The manifest name becomes the server name of guest identities.
fn check_name(cx: &Ctxt, cont: &Container) {
    let Some(name) = cont.name() else { return };
    if is_name(&name, |c| c == '_' || c == '-') {
        return;
    }
    match &cont.attrs.name {
        Some(entry) => cx.error_at(
            entry.span,
            format!("manifest name `{name}` must match `[a-z0-9_-]+`"),
        ),
        None => cx.error_spanned_by(
            cont.ident,
            format!(
                "manifest name `{name}` (from `{}`) must match `[a-z0-9_-]+`; \
                 set `#[manifest(name = \"..\")]`",
                cont.ident
            ),
        ),
    }
}

/// The owner is a field of guest identities: `[A-Za-z0-9._-]+`.
fn check_owner(cx: &Ctxt, cont: &Container) {
    let Some(entry) = &cont.attrs.owner else {
        return;
    };
    let Some(owner) = &entry.value else { return };
    let ok = !owner.is_empty()
        && owner
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !ok {
        cx.error_at(
            entry.span,
            format!("owner `{owner}` must match `[A-Za-z0-9._-]+`"),
        );
    }
}

/// `auth_mechanism` is "none" exactly when `auth` is "no", as in guest identities.
fn check_auth(cx: &Ctxt, cont: &Container) {
    let attrs = &cont.attrs;
    let auth = match &attrs.auth {
        None => None,
        Some(entry) => match entry.value {
            Some(flag) => Some((flag, entry.span)),
            None => return,
        },
    };
    let mechanism = match &attrs.auth_mechanism {
        None => None,
        Some(entry) => match &entry.value {
            Some(text) => Some((text.as_str(), entry.span)),
            None => return,
        },
    };
    match (auth, mechanism) {
        (Some((flag @ (Auth::Yes | Auth::Optional), span)), None) => cx.error_at(
            span,
            format!(
                "`auth = \"{}\"` needs an `auth_mechanism` other than \"none\", \
                 like `auth_mechanism = \"hmac-sha256\"`",
                flag.as_str()
            ),
        ),
        (Some((flag @ (Auth::Yes | Auth::Optional), _)), Some((mechanism, span)))
            if mechanism == NO_MECHANISM =>
        {
            cx.error_at(
                span,
                format!(
                    "`auth_mechanism` must not be \"none\" when `auth = \"{}\"`",
                    flag.as_str()
                ),
            );
        }
        (None | Some((Auth::No, _)), Some((mechanism, span))) if mechanism != NO_MECHANISM => {
            cx.error_at(
                span,
                format!(
                    "`auth_mechanism = \"{mechanism}\"` needs `auth = \"yes\"` or \
                     `auth = \"optional\"`; without authentication it must be \"none\""
                ),
            );
        }
        (_, Some((mechanism, span))) => {
            let ok = !mechanism.is_empty()
                && mechanism
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !ok {
                cx.error_at(
                    span,
                    format!("auth mechanism `{mechanism}` must match `[a-z0-9-]+`"),
                );
            }
        }
        (_, None) => {}
    }
}

/// At least one terminal, valid and unique terminal names, `#[terminal]` only on terminals.
fn check_terminals(cx: &Ctxt, cont: &Container) {
    for field in &cont.fields {
        if let (Some(attr), None) = (field.attrs.attr, field.terminal) {
            cx.error_spanned_by(
                attr,
                format!(
                    "`#[terminal(..)]` on `{}`, which is not a terminal; \
                     a terminal field has type {TERMINAL_TYPES}",
                    field.ident
                ),
            );
        }
    }
    if cont.terminals().next().is_none() {
        cx.error_spanned_by(
            cont.ident,
            format!(
                "`{}` has no terminal field; add a field of type {TERMINAL_TYPES}",
                cont.ident
            ),
        );
        return;
    }
    let mut seen = BTreeSet::new();
    for field in cont.terminals() {
        let Some(name) = field.name() else { continue };
        if !is_name(&name, |c| c == '_') {
            let hint = if field.attrs.name.is_some() {
                ""
            } else {
                "; rename the field or set `#[terminal(name = \"..\")]`"
            };
            let shown = if name.is_empty() {
                "terminal name must not be empty".to_owned()
            } else {
                format!("terminal name `{name}` must match `[a-z0-9_]+`{hint}")
            };
            cx.error_at(field.name_span(), shown);
        } else if !seen.insert(name.clone()) {
            cx.error_at(
                field.name_span(),
                format!("duplicate terminal name `{name}`"),
            );
        }
    }
}

/// Non-empty, ASCII lowercase letters and digits plus the `extra` characters.
fn is_name(text: &str, extra: impl Fn(char) -> bool) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || extra(c))
}

#[cfg(test)]
mod tests {
    use super::is_name;

    #[test]
    fn names() {
        let terminal = |s: &str| is_name(s, |c| c == '_');
        let manifest = |s: &str| is_name(s, |c| c == '_' || c == '-');
        assert!(terminal("readings_2"));
        assert!(!terminal("read-ings"));
        assert!(!terminal("Readings"));
        assert!(!terminal(""));
        assert!(manifest("flow-meter_2"));
        assert!(!manifest("Flow"));
        assert!(!manifest("café"));
        assert!(!manifest("a b"));
    }
}

//! Views of the derive input that keep the original syn nodes for spans.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields, Ident, Type};

use crate::attr;
use crate::case::snake_case;
use crate::ctxt::Ctxt;
use crate::{TerminalKind, ty};

/// A server struct.
pub(crate) struct Container<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) attrs: attr::Container<'a>,
    /// Every named field, terminal or not.
    pub(crate) fields: Vec<Field<'a>>,
}

/// One named field of a server struct.
pub(crate) struct Field<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) attrs: attr::Terminal<'a>,
    pub(crate) ty: &'a Type,
    /// TerminalKind and message type, when the field is a terminal.
    pub(crate) terminal: Option<(TerminalKind, &'a Type)>,
}

impl<'a> Container<'a> {
    /// `None` when the input is not a struct with named fields (reported to `cx`).
    pub(crate) fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let attrs = attr::Container::from_ast(cx, &input.attrs);
        let ident = &input.ident;
        let fields = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(fields) => fields
                    .named
                    .iter()
                    .filter_map(|field| Field::from_ast(cx, field))
                    .collect(),
                Fields::Unnamed(fields) => {
                    cx.error_spanned_by(
                        &fields.unnamed,
                        "`#[derive(Manifest)]` needs a struct with named fields; \
                         a terminal is named after its field",
                    );
                    return None;
                }
                Fields::Unit => {
                    cx.error_spanned_by(
                        ident,
                        "`#[derive(Manifest)]` needs a struct with named terminal fields, \
                         not a unit struct",
                    );
                    return None;
                }
            },
            Data::Enum(data) => {
                cx.error_spanned_by(
                    data.enum_token,
                    "`#[derive(Manifest)]` needs a struct with named fields, not an enum",
                );
                return None;
            }
            Data::Union(data) => {
                cx.error_spanned_by(
                    data.union_token,
                    "`#[derive(Manifest)]` needs a struct with named fields, not a union",
                );
                return None;
            }
        };
        if !input.generics.params.is_empty() {
            cx.error_spanned_by(
                &input.generics,
                format!(
                    "generic servers are not supported: `type` in wiring.toml names a \
                     concrete struct; declare `{ident}` without type parameters, one struct \
                     per message type"
                ),
            );
        }
        Some(Container {
            ident,
            attrs,
            fields,
        })
    }

    /// `#[manifest(name = ..)]` or the struct name in snake_case; `None` when the
    /// given name was invalid (already reported).
    pub(crate) fn name(&self) -> Option<String> {
        match &self.attrs.name {
            Some(entry) => entry.value.clone(),
            None => Some(snake_case(&self.ident.unraw().to_string())),
        }
    }

    /// The fields that are terminals.
    pub(crate) fn terminals(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields.iter().filter(|f| f.terminal.is_some())
    }
}

impl<'a> Field<'a> {
    fn from_ast(cx: &Ctxt, field: &'a syn::Field) -> Option<Self> {
        let ident = field.ident.as_ref()?;
        Some(Field {
            ident,
            attrs: attr::Terminal::from_ast(cx, &field.attrs),
            ty: &field.ty,
            terminal: ty::terminal(&field.ty),
        })
    }

    /// `#[terminal(name = ..)]` or the field name; `None` when the given name
    /// was invalid (already reported).
    pub(crate) fn name(&self) -> Option<String> {
        match &self.attrs.name {
            Some(entry) => entry.value.clone(),
            None => Some(self.ident.unraw().to_string()),
        }
    }

    /// Where the terminal's name is written: the `name = ".."` value or the field name.
    pub(crate) fn name_span(&self) -> Span {
        match &self.attrs.name {
            Some(entry) => entry.span,
            None => self.ident.span(),
        }
    }
}

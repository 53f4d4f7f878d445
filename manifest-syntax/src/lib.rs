//! The syntax of `#[derive(Manifest)]` server structs.
//!
//! Shared by the derive (`manifest-macros`) and the wiring scanner (`wiring-build`),
//! so both read a server the same way: [`parse`] turns a [`syn::DeriveInput`] into a
//! [`ManifestDef`], or into one [`syn::Error`] that carries every problem found,
//! each on the offending tokens.
//!
//! ```
//! let input: syn::DeriveInput = syn::parse_quote! {
//!     #[derive(Manifest)]
//!     #[manifest(class = 0x0a01, owner = "ops")]
//!     pub struct FlowMeter {
//!         #[terminal(name = "raw", doc = "pulses from the meter")]
//!         pub pulses: Input<u32>,
//!         pub rate: Output<f64>,
//!         count: u64,
//!     }
//! };
//! assert!(manifest_syntax::derives_manifest(&input.attrs));
//! let def = manifest_syntax::parse(&input)?;
//! assert_eq!(def.name, "flow_meter");
//! assert_eq!(def.terminals[0].name, "raw");
//! assert_eq!(def.terminals[1].kind, manifest_syntax::TerminalKind::Output);
//! assert_eq!(manifest_syntax::type_text(&def.terminals[1].message), "f64");
//! # Ok::<(), syn::Error>(())
//! ```

#![warn(missing_docs)]

mod ast;
mod attr;
mod case;
mod ctxt;
mod symbol;
mod ty;
mod valid;

use syn::punctuated::Punctuated;
use syn::{Attribute, Path, Token};

pub use ty::type_text;
pub use wiring_model::{Auth, TerminalKind};

/// A server struct's manifest, with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestDef {
    /// The struct name.
    pub ident: syn::Ident,
    /// `#[manifest(name = ..)]`, default the struct name in snake_case; `[a-z0-9_-]+`.
    pub name: String,
    /// `#[manifest(class = ..)]`: the server type's class (required).
    pub class: u32,
    /// `[A-Za-z0-9._-]+`.
    pub owner: String,
    /// `#[manifest(auth = "yes" | "no" | "optional")]`, default `no`.
    pub auth: Auth,
    /// `"none"` exactly when `auth` is `No`; else `[a-z0-9-]+`.
    pub auth_mechanism: String,
    /// In field order; never empty.
    pub terminals: Vec<TerminalDef>,
    /// `#[manifest(crate = "..")]`: how generated code names the kernel
    /// crate; `::kernel` by default.
    pub krate: syn::Path,
}

/// One terminal field.
#[derive(Debug, Clone, PartialEq)]
pub struct TerminalDef {
    /// The field name.
    pub field: syn::Ident,
    /// `#[terminal(name = ..)]` or the field name; `[a-z0-9_]+`, unique in the struct.
    pub name: String,
    /// From the field type's last segment: `Input`, `Output`, `Multiplex`
    /// or `Combine`.
    pub kind: TerminalKind,
    /// The whole field type, e.g. `Output<f64>`.
    pub ty: syn::Type,
    /// The generic argument, e.g. `f64`.
    pub message: syn::Type,
    /// `#[terminal(doc = ..)]`.
    pub doc: Option<String>,
}

/// Reads a server struct. Every problem is reported in one combined
/// [`syn::Error`] (see [`syn::Error::combine`]), each on the offending tokens.
pub fn parse(input: &syn::DeriveInput) -> Result<ManifestDef, syn::Error> {
    let cx = ctxt::Ctxt::new();
    let def = ast::Container::from_ast(&cx, input).and_then(|cont| {
        valid::check(&cx, &cont);
        build(&cont)
    });
    cx.check()?;
    def.ok_or_else(|| {
        syn::Error::new_spanned(
            &input.ident,
            "internal error in `#[derive(Manifest)]`: invalid input without a message",
        )
    })
}

/// The model, when every part of it is valid. Callers report errors through `Ctxt`.
fn build(cont: &ast::Container) -> Option<ManifestDef> {
    let attrs = &cont.attrs;
    let value = |entry: &Option<attr::Entry<String>>| match entry {
        None => Some(None),
        Some(entry) => entry.value.clone().map(Some),
    };
    let terminals = cont
        .terminals()
        .map(|field| {
            let (kind, message) = field.terminal?;
            Some(TerminalDef {
                field: field.ident.clone(),
                name: field.name()?,
                kind,
                ty: field.ty.clone(),
                message: message.clone(),
                doc: value(&field.attrs.doc)?,
            })
        })
        .collect::<Option<Vec<TerminalDef>>>()?;
    let auth = match &attrs.auth {
        None => Auth::No,
        Some(entry) => entry.value?,
    };
    let krate = match &attrs.krate {
        None => default_kernel_path(),
        Some(entry) => entry.value.clone()?,
    };
    Some(ManifestDef {
        ident: cont.ident.clone(),
        name: cont.name()?,
        class: attrs.class.as_ref()?.value?,
        owner: attrs.owner.as_ref()?.value.clone()?,
        auth,
        auth_mechanism: value(&attrs.auth_mechanism)?
            .unwrap_or_else(|| symbol::NO_MECHANISM.to_owned()),
        terminals,
        krate,
    })
}

fn default_kernel_path() -> syn::Path {
    syn::parse_quote!(::kernel)
}

/// What the derive can still emit for a struct whose manifest has errors,
/// so that code using the server sees no follow-on errors: the kernel path
/// and the terminals that can be told (wiring name and field type), each
/// name once.
#[derive(Debug, Clone)]
pub struct Fallback {
    /// How generated code names the kernel crate (`#[manifest(crate)]`, else
    /// `::kernel`).
    pub krate: syn::Path,
    /// The terminals' wiring names and field types, in field order.
    pub terminals: Vec<(String, syn::Type)>,
}

/// Reads what [`Fallback`] holds from any input, ignoring every error
/// (those are [`parse`]'s to report).
pub fn fallback(input: &syn::DeriveInput) -> Fallback {
    let cx = ctxt::Ctxt::new();
    let attrs = attr::Container::from_ast(&cx, &input.attrs);
    let krate = attrs
        .krate
        .and_then(|entry| entry.value)
        .unwrap_or_else(default_kernel_path);
    let mut terminals: Vec<(String, syn::Type)> = Vec::new();
    if let syn::Data::Struct(data) = &input.data {
        for field in &data.fields {
            let (Some(ident), Some(_)) = (&field.ident, ty::terminal(&field.ty)) else {
                continue;
            };
            let named = attr::Terminal::from_ast(&cx, &field.attrs)
                .name
                .and_then(|entry| entry.value);
            let name = named.unwrap_or_else(|| syn::ext::IdentExt::unraw(ident).to_string());
            let usable = syn::parse_str::<syn::Ident>(&port_fn_name(&name)).is_ok();
            if usable && !terminals.iter().any(|(n, _)| *n == name) {
                terminals.push((name, field.ty.clone()));
            }
        }
    }
    Fallback { krate, terminals }
}

/// True when `attrs` hold a `#[derive(..)]` listing `Manifest` (any path ending
/// in `Manifest`, such as `kernel::Manifest`).
pub fn derives_manifest(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path() == symbol::DERIVE
            && attr
                .parse_args_with(Punctuated::<Path, Token![,]>::parse_terminated)
                .is_ok_and(|paths| {
                    paths.iter().any(|path| {
                        path.segments
                            .last()
                            .is_some_and(|s| s.ident == symbol::DERIVE_NAME)
                    })
                })
    })
}

/// Name of the hidden associated fn the derive emits per terminal: `__wiring_port_<terminal>`.
pub fn port_fn_name(terminal: &str) -> String {
    format!("__wiring_port_{terminal}")
}

#[cfg(test)]
mod tests;

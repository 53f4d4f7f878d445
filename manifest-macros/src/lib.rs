//! `#[derive(Manifest)]`: declares a server's identity and terminals.
//!
//! Use it through `kernel::prelude::*`; see the `kernel` crate for the contract.

#![warn(missing_docs)]

mod expand;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Implements `kernel::Manifest` for a server struct.
///
/// `#[manifest(class = .., owner = "..", name = "..", auth = "..", auth_mechanism = "..")]`
/// on the struct; `#[terminal(name = "..", doc = "..")]` on terminal fields.
#[proc_macro_derive(Manifest, attributes(manifest, terminal))]
pub fn derive_manifest(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input).into()
}

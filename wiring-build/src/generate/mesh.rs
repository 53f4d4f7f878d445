//! The mesh part of the generated kernel: `[mesh]` and `[[routes]]` in the
//! spec, and the builder calls that give routed outputs and offered inputs
//! their typed codecs. A kernel without them gets none of it.

use std::collections::HashMap;

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Expr, Stmt};

use super::syntax::{str_lit, try_method_stmt};
use super::{Server, Words, compile_error, rust_ident};
use crate::plan::{EndpointPlan, Plan, TargetPlan};
use wiring_model::Encoding;

/// The value of the spec's `mesh` field.
pub(super) fn mesh_field(plan: &Plan) -> TokenStream {
    let Some(mesh) = &plan.mesh else {
        return quote!(None);
    };
    let listen = &mesh.listen;
    let peers = &mesh.peers;
    let offer = mesh.offer.iter().map(|ep| {
        let (server, terminal) = (&ep.server, &ep.terminal);
        quote!(::kernel::Endpoint { server: #server, terminal: #terminal })
    });
    quote! {
        Some(&::kernel::connectome::MeshSpec {
            listen: &[#(#listen),*],
            peers: &[#(#peers),*],
            offer: &[#(#offer),*],
        })
    }
}

/// The spec's `routes`, one `RouteSpec` each.
pub(super) fn route_specs(plan: &Plan) -> impl Iterator<Item = Expr> + '_ {
    plan.routes.iter().map(|route| {
        let id = route.id.as_u128();
        let (server, terminal) = (&route.from.server, &route.from.terminal);
        let to = match &route.to {
            TargetPlan::Guest(text) => quote!(::kernel::connectome::RouteTarget::Guest(#text)),
            TargetPlan::Mask(text) => quote!(::kernel::connectome::RouteTarget::Mask(#text)),
        };
        let remote = &route.terminal;
        let capacity = route.capacity;
        let encoding = match route.encoding {
            Encoding::Postcard => quote!(Postcard),
            Encoding::Json => quote!(Json),
        };
        syn::parse_quote! {
            ::kernel::connectome::RouteSpec {
                id: ::kernel::Uuid::from_u128(#id),
                from: ::kernel::Endpoint { server: #server, terminal: #terminal },
                to: #to,
                terminal: #remote,
                capacity: #capacity,
                encoding: ::kernel::connectome::Encoding::#encoding,
            }
        }
    })
}

/// The builder calls of the mesh inside `::kernel::__private::mesh! { .. }`,
/// which is a compile error naming the fix when the `kernel` dependency lacks
/// its `mesh` feature; nothing for a kernel without `[mesh]` and routes.
pub(super) fn mesh_stmt(
    plan: &Plan,
    words: &Words,
    by_name: &HashMap<&str, &Server<'_>>,
) -> Option<Stmt> {
    if plan.mesh.is_none() && plan.routes.is_empty() {
        return None;
    }
    let calls = builder_calls(plan, words, by_name);
    Some(syn::parse_quote! {
        ::kernel::__private::mesh! { #(#calls)* }
    })
}

/// `builder.route(..)?` once per routed output, `builder.offer(..)?` per
/// offered input, each with the terminal's port marker so that the mesh
/// knows its message type.
fn builder_calls(plan: &Plan, words: &Words, by_name: &HashMap<&str, &Server<'_>>) -> Vec<Stmt> {
    let call = |method: &syn::Ident, ep: &EndpointPlan| {
        let port = match by_name.get(ep.server.as_str()) {
            Some(server) => {
                let port = rust_ident(&manifest_syntax::port_fn_name(&ep.terminal));
                server.port(words, port.as_ref())
            }
            None => compile_error(&format!(
                "wiring-build: no server `{}` in the plan",
                ep.server
            )),
        };
        try_method_stmt(
            &words.builder,
            method,
            None,
            [str_lit(&ep.to_string()), port],
        )
    };
    let mut routed: Vec<&EndpointPlan> = Vec::new();
    for route in &plan.routes {
        if !routed.contains(&&route.from) {
            routed.push(&route.from);
        }
    }
    let offered = plan.mesh.iter().flat_map(|m| &m.offer);
    routed
        .into_iter()
        .map(|ep| call(&words.route, ep))
        .chain(offered.map(|ep| call(&words.offer, ep)))
        .collect()
}

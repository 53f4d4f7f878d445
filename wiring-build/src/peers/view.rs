//! What the checks across kernels need of one kernel: its guests with their
//! terminals and message types, what it offers, what feeds its inputs
//! locally, and its routes.

use std::collections::BTreeSet;
use std::path::Path;

use manifest_syntax::type_text;
use wiring_model::TerminalKind;
use wiring_model::identity::GuestIdentity;
use wiring_model::wiring::{Route, Spanned, Wiring};

use crate::lint::types::Resolver;
use crate::plan::{server_identity, server_uuid};
use crate::scan::{Package, Scan};

/// One kernel: the one being linted or a peer.
#[derive(Debug, Clone)]
pub(crate) struct KernelView {
    pub name: String,
    pub fqdn: String,
    /// The peer folder as given; `None` for the kernel being linted.
    pub origin: Option<String>,
    pub guests: Vec<GuestView>,
    /// `[mesh] offer`, as written.
    pub offers: Vec<Spanned<String>>,
    /// Input terminals (`server.terminal`) a `[[connections]]` entry feeds.
    pub fed: BTreeSet<String>,
    pub routes: Vec<Route>,
}

/// A server of a kernel, as its peers see it.
#[derive(Debug, Clone)]
pub(crate) struct GuestView {
    pub name: String,
    /// The type as written in `type`.
    pub type_name: String,
    pub identity: GuestIdentity,
    pub terminals: Vec<TerminalView>,
}

#[derive(Debug, Clone)]
pub(crate) struct TerminalView {
    pub name: String,
    pub kind: TerminalKind,
    /// The message type as written in the server's struct.
    pub written: String,
    /// The message type as a Rust path from outside its crate
    /// (`south::msgs::Tick`, `u64`), as `std::any::type_name` would spell
    /// it; `None` when the scan cannot decide it.
    pub rust_type: Option<String>,
}

impl KernelView {
    /// The view of a kernel whose wiring file parsed; `None` without a
    /// kernel name (already reported). `crate_name` is the name of the crate
    /// the kernel is in, when known.
    pub fn new(
        wiring: &Wiring,
        scan: &Scan,
        crate_name: Option<&str>,
        origin: Option<String>,
    ) -> Option<KernelView> {
        let name = wiring.kernel.name.as_ref()?.value.clone();
        let fqdn = wiring.kernel.fqdn().to_string();
        let resolver = Resolver::new(scan);
        let guests = wiring
            .servers
            .iter()
            .filter_map(|server| {
                let type_name = server.ty.as_ref()?.value.clone();
                let ty = scan.server(&type_name)?;
                let uuid = server_uuid(&name, server);
                let identity = server_identity(&fqdn, &server.name.value, Some(&ty.def), uuid);
                let identity = GuestIdentity::parse(&identity).ok()?;
                let terminals = ty
                    .def
                    .terminals
                    .iter()
                    .map(|t| TerminalView {
                        name: t.name.clone(),
                        kind: t.kind,
                        written: type_text(&t.message),
                        rust_type: resolver
                            .canonical(&ty.module, &t.message)
                            .map(|canonical| qualify(&canonical, crate_name)),
                    })
                    .collect();
                Some(GuestView {
                    name: server.name.value.clone(),
                    type_name,
                    identity,
                    terminals,
                })
            })
            .collect();
        let fed = wiring
            .connections
            .iter()
            .flat_map(|c| c.pairs().map(|(_, to)| to.to_string()))
            .collect();
        Some(KernelView {
            name,
            fqdn,
            origin,
            guests,
            offers: wiring
                .mesh
                .as_ref()
                .map(|m| m.offer.clone())
                .unwrap_or_default(),
            fed,
            routes: wiring.routes.clone(),
        })
    }

    /// `south` or `south` (`../south`), for messages.
    pub fn describe(&self) -> String {
        match &self.origin {
            Some(origin) => format!("`{}` (`{origin}`)", self.name),
            None => format!("`{}` (this kernel)", self.name),
        }
    }

    pub fn guest(&self, name: &str) -> Option<&GuestView> {
        self.guests.iter().find(|g| g.name == name)
    }

    pub fn offers(&self, endpoint: &str) -> bool {
        self.offers.iter().any(|o| o.value == endpoint)
    }
}

impl GuestView {
    pub fn terminal(&self, name: &str) -> Option<&TerminalView> {
        self.terminals.iter().find(|t| t.name == name)
    }
}

/// The name of the crate the kernel of the package in `dir` is in: the
/// binary's when the scan reached the library from it or there is no
/// library, else the library's.
pub(crate) fn crate_name(dir: &Path, scan: &Scan) -> Option<String> {
    let package = Package::at(dir).ok()?;
    match (&package.library, &package.binary) {
        (Some((_, library)), _) if scan.library.is_none() && !library.is_empty() => {
            Some(library.clone())
        }
        _ => package.name,
    }
}

/// A canonical type text of the scan (`crate::msgs::Tick`,
/// `Vec<::lib::A>`) with every path written from outside its crate:
/// `crate::` becomes the crate's name and a leading `::` goes, as
/// `std::any::type_name` spells them. Without a crate name, `crate::` stays:
/// such a type is never equal to a type of another kernel's crate.
pub(crate) fn qualify(canonical: &str, crate_name: Option<&str>) -> String {
    let mut out = String::with_capacity(canonical.len());
    let mut rest = canonical;
    let mut at_boundary = true;
    while let Some(c) = rest.chars().next() {
        if at_boundary {
            if let (Some(name), Some(after)) = (crate_name, rest.strip_prefix("crate::")) {
                out.push_str(name);
                out.push_str("::");
                rest = after;
                at_boundary = false;
                continue;
            }
            if let Some(after) = rest.strip_prefix("::") {
                rest = after;
                at_boundary = false;
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
        at_boundary = matches!(c, '<' | '(' | '[' | ' ' | '&' | ',' | ';');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::qualify;

    #[test]
    fn paths_are_written_from_outside_their_crate() {
        assert_eq!(qualify("u64", Some("north")), "u64");
        assert_eq!(
            qualify("crate::msgs::Tick", Some("north")),
            "north::msgs::Tick"
        );
        assert_eq!(qualify("crate::msgs::Tick", None), "crate::msgs::Tick");
        assert_eq!(qualify("::lib::A", Some("north")), "lib::A");
        assert_eq!(
            qualify("(Vec<crate::A>, &::lib::B, [crate::C; 2])", Some("n")),
            "(Vec<n::A>, &lib::B, [n::C; 2])"
        );
        assert_eq!(
            qualify("std::collections::HashMap<String, ::l::X>", Some("n")),
            "std::collections::HashMap<String, l::X>"
        );
    }
}

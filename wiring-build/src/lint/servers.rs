//! The servers: their types, guest identities and uuids, and the names
//! processes share with them.

use std::collections::BTreeMap;

use wiring_model::identity::{self, GuestIdentity};
use wiring_model::names::closest_path;
use wiring_model::wiring;

use super::{Linter, ServerType};
use crate::diagnostic::{Code, Finding};

impl Linter<'_> {
    pub(super) fn kernel(&mut self) {
        if let Some(fqdn) = &self.wiring.kernel.fqdn
            && let Err(reason) = identity::check_fqdn(&fqdn.value)
        {
            let finding = Finding::new(
                Code::InvalidIdentity,
                fqdn.span.clone(),
                format!("invalid fqdn `{}`", fqdn.value),
            )
            .label(reason)
            .help("use an RFC 1123 host name: dot-separated labels of letters, digits and `-`");
            self.report(finding);
        }
    }

    pub(super) fn server_types(&mut self) {
        let paths = self.scan.server_paths();
        let candidates: Vec<&str> = paths.iter().map(String::as_str).collect();
        for (i, server) in self.wiring.servers.iter().enumerate() {
            let Some(ty) = &server.ty else {
                continue;
            };
            if let Some(found) = self.scan.server(&ty.value) {
                self.types[i] = Some(found);
                self.identity(i, found);
                continue;
            }
            if self.scan.is_broken(&ty.value) {
                // Its derive fails; rustc reports why.
                continue;
            }
            let mut finding = Finding::new(
                Code::UnknownServerType,
                ty.span.clone(),
                format!("cannot find server type `{}`", ty.value),
            );
            let written = ty.value.split('<').next().unwrap_or_default().trim();
            let macro_call = self.scan.macros_near(written).iter().find(|call| {
                let name = call.name.rsplit("::").next().unwrap_or_default();
                !matches!(name, "include_wiring" | "include")
            });
            if ty.value.contains('<') || self.scan.is_generic(written) {
                let name = written.rsplit("::").next().unwrap_or(written);
                finding.message = format!("server type `{}` is generic", ty.value);
                finding = finding
                    .label("generic servers are not supported")
                    .help(format!(
                        "`type` names one concrete server: declare `{name}` without type parameters, one struct per message type"
                    ));
            } else if let Some(call) = macro_call.filter(|_| {
                !self.scan.is_type(written)
                    && closest_path(written, candidates.iter().copied()).is_none()
            }) {
                finding = finding
                    .label("no struct deriving `Manifest` at this path")
                    .note(format!(
                        "`{}!` at {}:{} may write it, but the build step reads the sources as written and does not expand macros",
                        call.name, call.file, call.line
                    ))
                    .help(format!(
                        "write the struct out in the source, with `#[derive(Manifest)]`, instead of in `{}!`",
                        call.name
                    ));
            } else if self.scan.is_type(&ty.value) {
                finding = finding
                    .label("this struct does not derive `Manifest`")
                    .help(format!(
                        "add `#[derive(Manifest)]` and `#[manifest(class = .., owner = \"..\")]` to `{}`",
                        ty.value
                    ));
            } else {
                finding = finding.label("no struct deriving `Manifest` at this path");
                // The first segment named no module and no dependency.
                let foreign = written
                    .split_once("::")
                    .map(|(first, _)| first)
                    .filter(|first| self.scan.not_dependencies.contains(*first));
                if let Some(first) = foreign {
                    finding = finding.note(format!(
                        "`{first}` is neither a module of this crate nor a library in its `[dependencies]`"
                    ));
                }
                finding = match (closest_path(&ty.value, candidates.iter().copied()), foreign) {
                    (Some(near), _) => finding.help(format!("a server type with a similar name exists: `{near}`")),
                    (None, Some(first)) => finding.help(format!(
                        "add the library of servers `{first}` to `[dependencies]` in Cargo.toml"
                    )),
                    (None, None) if candidates.is_empty() => finding.help(
                        "no struct deriving `Manifest` was found in the scanned sources",
                    ),
                    (None, None) => finding.help(
                        "write the path from the crate root, e.g. `servers::Sensor` for `crate::servers::Sensor`",
                    ),
                };
            }
            self.report(finding);
        }
    }

    /// Checks the guest identity the server will have.
    fn identity(&mut self, server: usize, ty: &ServerType) {
        let instance = &self.wiring.servers[server];
        if !wiring::is_instance_name(&instance.name.value) {
            return; // reported as a schema error
        }
        let uuid = wiring_model::Uuid::nil();
        let text = format!(
            "{}:{}:{}:{}:{}:{}:{}",
            self.wiring.kernel.fqdn(),
            instance.name.value,
            identity::class_hex(ty.def.class),
            ty.def.owner,
            ty.def.auth.as_str(),
            ty.def.auth_mechanism,
            uuid.hyphenated()
        );
        if self.wiring.kernel.fqdn.is_some()
            && identity::check_fqdn(self.wiring.kernel.fqdn()).is_err()
        {
            return; // reported on `fqdn` already
        }
        if let Err(e) = GuestIdentity::parse(&text)
            && let Some(span) = instance.ty.as_ref().map(|t| t.span.clone())
        {
            let finding = Finding::new(
                Code::InvalidIdentity,
                span,
                format!(
                    "server `{}` would have an invalid guest identity",
                    instance.name.value
                ),
            )
            .label(format!("invalid {}: {}", e.field.as_str(), e.reason))
            .note(format!("the guest identity is `{text}`"))
            .help("fix the `#[manifest(..)]` of the server type, or the instance name");
            self.report(finding);
        }
    }

    pub(super) fn uuids(&mut self) {
        let kernel = self.wiring.kernel.name.as_ref().map(|n| n.value.clone());
        let mut seen: BTreeMap<uuid::Uuid, usize> = BTreeMap::new();
        for (i, server) in self.wiring.servers.iter().enumerate() {
            let uuid = match &server.uuid {
                Some(text) => match identity::parse_uuid(&text.value) {
                    Ok(uuid) => uuid,
                    Err(reason) => {
                        let finding = Finding::new(
                            Code::InvalidIdentity,
                            text.span.clone(),
                            format!("invalid uuid for server `{}`", server.name.value),
                        )
                        .label(reason)
                        .help("write a hyphenated uuid like `6f1c8b1e-7d2a-4c3b-9e4f-5a6b7c8d9e0f`, or remove `uuid` to derive one from the instance name");
                        self.report(finding);
                        continue;
                    }
                },
                None => match &kernel {
                    Some(kernel) => wiring_model::server_uuid(kernel, &server.name.value),
                    None => continue,
                },
            };
            match seen.get(&uuid) {
                Some(&first) => {
                    let first_server = &self.wiring.servers[first];
                    let at = |s: &wiring::Server| {
                        s.uuid
                            .as_ref()
                            .map_or(s.name.span.clone(), |u| u.span.clone())
                    };
                    let finding = Finding::new(
                        Code::DuplicateUuid,
                        at(server),
                        format!(
                            "servers `{}` and `{}` share the uuid `{}`",
                            first_server.name.value,
                            server.name.value,
                            uuid.hyphenated()
                        ),
                    )
                    .label(format!("uuid of `{}`", server.name.value))
                    .secondary(at(first_server), format!("also the uuid of `{}`", first_server.name.value))
                    .help("give each server its own uuid, or remove `uuid` to derive one from the instance name");
                    self.report(finding);
                }
                None => {
                    seen.insert(uuid, i);
                }
            }
        }
    }

    /// Processes and servers share one namespace: the control surface and
    /// the event log name both.
    pub(super) fn process_names(&mut self) {
        for process in &self.wiring.processes {
            let Some(server) = self.server_index(&process.name.value) else {
                continue;
            };
            let name = &process.name.value;
            let finding = Finding::new(
                Code::DuplicateName,
                process.name.span.clone(),
                format!("process `{name}` has the name of a server"),
            )
            .label("process name")
            .secondary(
                self.wiring.servers[server].name.span.clone(),
                format!("server `{name}`"),
            )
            .help("rename the process or the server: names are unique across both");
            self.report(finding);
        }
    }
}

//! Endpoints resolved to terminals (E0102, E0103, E0104), the direction of
//! each connection (E0201, E0202), its shape (E0303) and the routes.

use manifest_syntax::type_text;
use wiring_model::identity::{self, GuestIdentity, IdentityError};
use wiring_model::mask::GuestMask;
use wiring_model::names::closest;
use wiring_model::wiring::{Side, Span, Spanned, split_endpoint};
use wiring_model::{TerminalKind, check_direction, check_shape};

use super::{Dangling, Ep, Linter, Pipe, Role, article, plural};
use crate::diagnostic::{Code, Finding};

impl Linter<'_> {
    /// Resolves an endpoint, reporting E0104, E0102, E0103.
    fn endpoint(&mut self, text: &Spanned<String>, role: Role) -> Option<Ep> {
        let Some((server_name, terminal_name)) = split_endpoint(&text.value) else {
            let help = match self.server_index(text.value.trim()) {
                Some(found) => {
                    let name = text.value.trim();
                    let index = Some(found);
                    let wanted = |k: TerminalKind| match role {
                        Role::To | Role::Offer => !k.is_producer(),
                        Role::From | Role::RouteFrom => k.is_producer(),
                    };
                    let suggestion = index
                        .and_then(|i| self.types[i])
                        .and_then(|t| t.def.terminals.iter().find(|term| wanted(term.kind)));
                    match suggestion {
                        Some(t) => format!("name a terminal of `{name}`, e.g. `{name}.{}`", t.name),
                        None => format!("name a terminal of `{name}`: `{name}.<terminal>`"),
                    }
                }
                None => "write endpoints as `server.terminal`".to_string(),
            };
            let finding = Finding::new(
                Code::BadEndpoint,
                text.span.clone(),
                format!("`{}` is not an endpoint", text.value),
            )
            .label("expected `server.terminal`")
            .help(help);
            self.report(finding);
            return None;
        };
        let Some(server) = self.server_index(server_name) else {
            let names: Vec<&str> = self
                .wiring
                .servers
                .iter()
                .map(|s| s.name.value.as_str())
                .collect();
            let is_process = self
                .wiring
                .processes
                .iter()
                .any(|p| p.name.value == server_name);
            let near = closest(server_name, names);
            // Its terminals left unconnected are likely the ones meant here.
            if let Some(index) = near.and_then(|n| self.server_index(n)) {
                self.misspelled.insert(index);
            }
            let help = match near {
                _ if is_process => {
                    format!("`{server_name}` is a process; processes have no terminals to connect")
                }
                Some(near) => format!("a server with a similar name exists: `{near}`"),
                None => format!("declare it with `[servers.{server_name}]`"),
            };
            let finding = Finding::new(
                Code::UnknownServer,
                text.span.clone(),
                format!("unknown server `{server_name}` in `{}`", role.key()),
            )
            .label(format!("no `[servers.{server_name}]`"))
            .help(help);
            self.report(finding);
            return None;
        };
        self.used[server] = true;
        let ty = self.types[server]?;
        let Some(terminal) = ty
            .def
            .terminals
            .iter()
            .position(|t| t.name == terminal_name)
        else {
            self.misspelled.insert(server);
            let type_name = self.type_name(server);
            let names: Vec<&str> = ty.def.terminals.iter().map(|t| t.name.as_str()).collect();
            let mut finding = Finding::new(
                Code::UnknownTerminal,
                text.span.clone(),
                format!("server `{server_name}` has no terminal `{terminal_name}`"),
            )
            .label(format!("not a terminal of `{type_name}`"));
            match closest(terminal_name, names.iter().copied()) {
                Some(near) => {
                    finding = finding.help(format!(
                        "a terminal with a similar name exists: `{server_name}.{near}`"
                    ));
                }
                None => {
                    let list: Vec<String> = ty
                        .def
                        .terminals
                        .iter()
                        .map(|t| format!("`{}` ({})", t.name, type_text(&t.ty)))
                        .collect();
                    finding = finding.note(format!(
                        "the terminals of `{type_name}` are {}",
                        list.join(", ")
                    ));
                }
            }
            self.report(finding);
            return None;
        };
        let ep = Ep { server, terminal };
        self.touched.insert(ep);
        Some(ep)
    }

    fn side(&mut self, side: Option<&Side>, role: Role) -> Option<Vec<Option<Ep>>> {
        let side = side?;
        Some(
            side.endpoints
                .iter()
                .map(|e| self.endpoint(e, role))
                .collect(),
        )
    }

    /// The pipes of every connection, and the peers listed for a known
    /// terminal that are not terminals of the right direction.
    pub(super) fn connections(&mut self) -> (Vec<Pipe>, Vec<Dangling>) {
        let mut pipes = Vec::new();
        let mut dangling = Vec::new();
        for connection in &self.wiring.connections {
            let from = self.side(connection.from.as_ref(), Role::From);
            let to = self.side(connection.to.as_ref(), Role::To);
            let (Some(from), Some(to), Some(from_side), Some(to_side)) =
                (from, to, connection.from.as_ref(), connection.to.as_ref())
            else {
                continue;
            };
            let reversed = from.len() == 1
                && to.len() == 1
                && from[0]
                    .and_then(|e| self.kind(e))
                    .is_some_and(|k| !k.is_producer())
                && to[0]
                    .and_then(|e| self.kind(e))
                    .is_some_and(TerminalKind::is_producer);
            let from_ok = self.direction(&from, from_side, Role::From, reversed);
            let to_ok = self.direction(&to, to_side, Role::To, reversed);
            if check_shape(from_side.endpoints.len(), to_side.endpoints.len()).is_err() {
                self.many_to_many(from_side, to_side);
                continue;
            }
            // One known end, the other listed but not usable: still a peer.
            let sides = [
                (&from_ok, &to_ok, to_side, true),
                (&to_ok, &from_ok, from_side, false),
            ];
            for (known, other, other_side, producer) in sides {
                let [Some(known)] = known.as_slice() else {
                    continue;
                };
                for (peer, text) in other.iter().zip(&other_side.endpoints) {
                    if peer.is_none() {
                        dangling.push(Dangling {
                            known: *known,
                            producer,
                            peer: text.clone(),
                        });
                    }
                }
            }
            for (i, f) in from_ok.iter().enumerate() {
                for (j, t) in to_ok.iter().enumerate() {
                    let (Some(f), Some(t)) = (f, t) else {
                        continue;
                    };
                    let from_span = from_side.endpoints[i].span.clone();
                    let to_span = to_side.endpoints[j].span.clone();
                    let span = if from_side.endpoints.len() > 1 {
                        from_span.clone()
                    } else {
                        to_span.clone()
                    };
                    pipes.push(Pipe {
                        from: *f,
                        to: *t,
                        span,
                        from_span,
                        to_span,
                    });
                }
            }
        }
        (pipes, dangling)
    }

    /// Reports E0201 / E0202; keeps the endpoints that point the right way.
    fn direction(
        &mut self,
        eps: &[Option<Ep>],
        side: &Side,
        role: Role,
        reversed: bool,
    ) -> Vec<Option<Ep>> {
        let mut ok = Vec::with_capacity(eps.len());
        for (ep, text) in eps.iter().zip(&side.endpoints) {
            let Some(ep) = *ep else {
                ok.push(None);
                continue;
            };
            let Some((ty, terminal)) = self.terminal(ep) else {
                ok.push(None);
                continue;
            };
            // The rule shared with live connects, with the other side taken as right.
            let kind = terminal.kind;
            let rule = match role {
                Role::From | Role::RouteFrom => check_direction(kind, TerminalKind::Input),
                Role::To | Role::Offer => check_direction(TerminalKind::Output, kind),
            };
            if rule.is_ok() {
                ok.push(Some(ep));
                continue;
            }
            ok.push(None);
            let label = format!(
                "`{}` is {} `{}` in `{}`",
                terminal.name,
                article(terminal.kind),
                type_text(&terminal.ty),
                ty.def.ident
            );
            let finding = match role {
                Role::From | Role::RouteFrom => Finding::new(
                    Code::SourceNotOutput,
                    text.span.clone(),
                    format!("source `{}` is not an output", text.value),
                )
                .label(label),
                Role::To => Finding::new(
                    Code::TargetNotInput,
                    text.span.clone(),
                    format!("target `{}` is not an input", text.value),
                )
                .label(label),
                Role::Offer => Finding::new(
                    Code::TargetNotInput,
                    text.span.clone(),
                    format!("offered terminal `{}` is not an input", text.value),
                )
                .label(label),
            };
            let help = if reversed {
                "the connection runs backwards: swap `from` and `to`".to_string()
            } else if role == Role::To {
                "`to` must name an `Input` or `Combine` terminal".to_string()
            } else if role == Role::Offer {
                "peers route into inputs: `offer` must name an `Input` or `Combine` terminal"
                    .to_string()
            } else {
                format!(
                    "`{}` must name an `Output` or `Multiplex` terminal",
                    role.key()
                )
            };
            self.report(finding.help(help));
        }
        ok
    }

    fn many_to_many(&mut self, from: &Side, to: &Side) {
        let finding = Finding::new(
            Code::ManyToMany,
            from.span.clone(),
            format!(
                "connection from {} to {} is many-to-many",
                plural(from.endpoints.len(), "producer", "producers"),
                plural(to.endpoints.len(), "consumer", "consumers")
            ),
        )
        .label(format!("{} producers", from.endpoints.len()))
        .secondary(to.span.clone(), format!("{} consumers", to.endpoints.len()))
        .help("split it: one `[[connections]]` per producer (fan-out), or per consumer (fan-in)");
        self.report(finding);
    }

    /// Route sources; returns their peers: (producer, span of the route's `to`).
    pub(super) fn routes(&mut self) -> Vec<(Ep, Span)> {
        let mut peers = Vec::new();
        for route in &self.wiring.routes {
            if let Some(guest) = &route.guest
                && let Err(e) = GuestIdentity::parse(&guest.value)
            {
                self.invalid_target(guest, &e, "guest identity");
            }
            if let Some(mask) = &route.mask
                && let Err(e) = GuestMask::parse(&mask.value)
            {
                self.invalid_target(mask, &e, "guest mask");
            }
            let Some(from) = &route.from else {
                continue;
            };
            let Some(ep) = self.endpoint(from, Role::RouteFrom) else {
                continue;
            };
            let side = Side {
                span: from.span.clone(),
                list: false,
                endpoints: vec![from.clone()],
            };
            if let [Some(ep)] = self.direction(&[Some(ep)], &side, Role::RouteFrom, false)[..] {
                peers.push((ep, route.to_span.clone().unwrap_or(route.span.clone())));
            }
        }
        peers
    }

    /// E0503 on a route's `guest` or `mask`, narrowed to the wrong field.
    fn invalid_target(&mut self, text: &Spanned<String>, e: &IdentityError, what: &str) {
        let span = narrow(self.source, &text.span, &text.value, &e.range);
        let finding = Finding::new(
            Code::InvalidIdentity,
            span,
            match e.field {
                identity::Field::Shape => format!("malformed {what}"),
                field => format!("invalid {} in {what}", field.as_str()),
            },
        )
        .label(e.reason.clone())
        .note(format!(
            "a {what} is `fqdn:servername:classHex:owner:authFlag:authMechanism:uuid`{}",
            if what == "guest mask" {
                ", each field a glob (`*`, `?`), the class also `value/mask`"
            } else {
                ""
            }
        ))
        .help(match e.field {
            identity::Field::Class => {
                "write the class as `0x` and up to 8 hex digits, e.g. `0x00000a01`"
            }
            identity::Field::Uuid => {
                "write a hyphenated uuid like `6f1c8b1e-7d2a-4c3b-9e4f-5a6b7c8d9e0f`"
            }
            identity::Field::Fqdn => {
                "use an RFC 1123 host name: dot-separated labels of letters, digits and `-`"
            }
            identity::Field::AuthMechanism => {
                "the mechanism is `none` exactly when the auth flag is `no`"
            }
            _ if what == "guest mask" => {
                "write the field as a glob over valid values, or `*` for any"
            }
            _ => "copy the identity from the remote kernel's guest book",
        });
        self.report(finding);
    }

    /// `[mesh] offer`: each entry an input terminal of this kernel (E0104,
    /// E0102, E0103, E0202), and an `Input` offered has no local producer
    /// (E0809). An offered terminal counts as connected.
    pub(super) fn offers(&mut self, pipes: &[Pipe]) {
        let Some(mesh) = &self.wiring.mesh else {
            return;
        };
        for offer in &mesh.offer {
            let Some(ep) = self.endpoint(offer, Role::Offer) else {
                continue;
            };
            let side = Side {
                span: offer.span.clone(),
                list: false,
                endpoints: vec![offer.clone()],
            };
            let [Some(ep)] = self.direction(&[Some(ep)], &side, Role::Offer, false)[..] else {
                continue;
            };
            let Some((ty, terminal)) = self.terminal(ep) else {
                continue;
            };
            if terminal.kind != TerminalKind::Input {
                continue;
            }
            let Some(pipe) = pipes.iter().find(|p| p.to == ep) else {
                continue;
            };
            let finding = Finding::new(
                Code::OfferedInputHasProducer,
                offer.span.clone(),
                format!("offered `Input` `{}` also has a local producer", offer.value),
            )
            .label("offered to routes from other kernels")
            .secondary(pipe.to_span.clone(), format!("fed by `{}` here", self.name(pipe.from)))
            .note("it would take messages from both, and an `Input` takes one producer")
            .help(format!(
                "declare `{}` as `Combine<{}>` in `{}` to take both, or drop the offer or the connection",
                terminal.name,
                type_text(&terminal.message),
                ty.def.ident
            ));
            self.report(finding);
        }
    }
}

/// The part of a string value's span that holds `range` of its text, when the
/// value is written without escapes; else the whole value.
fn narrow(source: &str, span: &Span, value: &str, range: &std::ops::Range<usize>) -> Span {
    let raw = source.get(span.clone()).unwrap_or_default();
    let quoted = [('"', '"'), ('\'', '\'')].iter().any(|(open, close)| {
        raw.len() == value.len() + 2
            && raw.starts_with(*open)
            && raw.ends_with(*close)
            && raw[1..raw.len() - 1] == *value
    });
    if quoted && range.end <= value.len() && range.start <= range.end && range.start < range.end {
        span.start + 1 + range.start..span.start + 1 + range.end
    } else {
        span.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrows_plain_strings_only() {
        let source = "g = \"a:b\"\nh = \"a\\u003ab\"";
        assert_eq!(narrow(source, &(4..9), "a:b", &(2..3)), 7..8);
        assert_eq!(narrow(source, &(14..24), "a:b", &(2..3)), 14..24);
        assert_eq!(narrow(source, &(4..9), "a:b", &(0..0)), 4..9);
    }
}

//! `[[connections]]` and `[[routes]]`.

use toml::de::{DeTable, DeValue};

use super::{DeSpanned, Walker, entries};
use crate::lint::{Code, Finding};
use crate::names::closest;
use crate::spec::{DEFAULT_CAPACITY, Encoding, MAX_CAPACITY};
use crate::wiring::{Connection, Route, Side, Span, Spanned, is_instance_name};

const CONNECTION_KEYS: &[&str] = &["from", "to", "capacity", "tap"];
const ROUTE_KEYS: &[&str] = &["from", "to", "capacity", "encoding"];
const ROUTE_TO_KEYS: &[&str] = &["guest", "mask", "terminal"];
const ENCODINGS: &[&str] = &["postcard", "json"];

impl Walker<'_> {
    fn side(&mut self, what: &str, value: &DeSpanned<'_>) -> Option<Side> {
        match value.get_ref() {
            DeValue::String(s) => Some(Side {
                span: value.span(),
                list: false,
                endpoints: vec![Spanned::new(s.to_string(), value.span())],
            }),
            DeValue::Array(array) => {
                let mut endpoints = Vec::new();
                let mut bad = false;
                for item in array.iter() {
                    match item.get_ref() {
                        DeValue::String(s) => {
                            endpoints.push(Spanned::new(s.to_string(), item.span()));
                        }
                        _ => {
                            bad = true;
                            self.wrong_type(&format!("an endpoint in {what}"), "a string", item);
                        }
                    }
                }
                if endpoints.is_empty() && !bad {
                    self.report(
                        Finding::new(Code::Schema, value.span(), format!("{what} is empty"))
                            .label("no endpoint")
                            .help("name at least one `server.terminal`"),
                    );
                }
                (!endpoints.is_empty()).then(|| Side {
                    span: value.span(),
                    list: true,
                    endpoints,
                })
            }
            _ => {
                self.wrong_type(what, "a string or an array of strings", value);
                None
            }
        }
    }

    pub(super) fn connection(&mut self, span: Span, table: &DeTable<'_>) {
        let mut connection = Connection {
            span: span.clone(),
            from: None,
            to: None,
            capacity: DEFAULT_CAPACITY,
            tap: false,
        };
        let (mut from_seen, mut to_seen) = (false, false);
        for (k, v) in entries(table) {
            match k.value {
                "from" => {
                    from_seen = true;
                    connection.from = self.side("`from`", v);
                }
                "to" => {
                    to_seen = true;
                    connection.to = self.side("`to`", v);
                }
                "capacity" => {
                    if let Some(capacity) = self.capacity(v) {
                        connection.capacity = capacity;
                    }
                }
                "tap" => match v.get_ref() {
                    DeValue::Boolean(tap) => connection.tap = *tap,
                    _ => self.wrong_type("`tap`", "a boolean", v),
                },
                _ => self.unknown_key(&k, "`[[connections]]`", CONNECTION_KEYS),
            }
        }
        if !from_seen {
            self.missing(
                span.clone(),
                "`from` in `[[connections]]`",
                "add `from = \"server.terminal\"`, the producing terminal",
            );
        }
        if !to_seen {
            self.missing(
                span,
                "`to` in `[[connections]]`",
                "add `to = \"server.terminal\"`, the consuming terminal",
            );
        }
        self.wiring.connections.push(connection);
    }

    fn capacity(&mut self, value: &DeSpanned<'_>) -> Option<usize> {
        let DeValue::Integer(int) = value.get_ref() else {
            self.wrong_type("`capacity`", "an integer", value);
            return None;
        };
        let parsed = i128::from_str_radix(int.as_str(), int.radix()).ok();
        match parsed {
            Some(n) if n < 1 => {
                self.report(
                    Finding::new(Code::Schema, value.span(), "`capacity` must be at least 1")
                        .label(format!("capacity {n}"))
                        .help(format!(
                            "a pipe holds at least one message; the default is {DEFAULT_CAPACITY}"
                        )),
                );
                None
            }
            Some(n) if usize::try_from(n).is_ok_and(|n| n <= MAX_CAPACITY) => {
                usize::try_from(n).ok()
            }
            _ => {
                self.report(
                    Finding::new(Code::Schema, value.span(), "`capacity` is too large")
                        .label(format!("at most {MAX_CAPACITY}"))
                        .help(format!(
                            "a pipe holds at most {MAX_CAPACITY} messages; the default is {DEFAULT_CAPACITY}"
                        )),
                );
                None
            }
        }
    }

    pub(super) fn route(&mut self, span: Span, table: &DeTable<'_>) {
        let mut route = Route {
            span: span.clone(),
            to_span: None,
            from: None,
            guest: None,
            mask: None,
            terminal: None,
            capacity: DEFAULT_CAPACITY,
            encoding: Encoding::default(),
        };
        let (mut from_seen, mut to_seen) = (false, false);
        for (k, v) in entries(table) {
            match k.value {
                "from" => {
                    from_seen = true;
                    route.from = self.string("`from` of a route", v);
                }
                "to" => {
                    to_seen = true;
                    route.to_span = Some(v.span());
                    let Some(to) = self.table("`to` of a route", v) else {
                        continue;
                    };
                    let (mut guest_seen, mut mask_seen, mut terminal_seen) = (false, false, false);
                    for (tk, tv) in entries(to) {
                        match tk.value {
                            "guest" => {
                                guest_seen = true;
                                route.guest = self.string("`guest`", tv);
                            }
                            "mask" => {
                                mask_seen = true;
                                route.mask = self.string("`mask`", tv);
                            }
                            "terminal" => {
                                terminal_seen = true;
                                route.terminal = self.string("`terminal`", tv);
                                if let Some(t) = &route.terminal
                                    && !is_instance_name(&t.value)
                                {
                                    let finding = Finding::new(
                                        Code::Schema,
                                        t.span.clone(),
                                        format!("invalid terminal name `{}`", t.value),
                                    )
                                    .label("terminal names are `[a-z0-9_]+`");
                                    self.report(finding);
                                    route.terminal = None;
                                }
                            }
                            _ => self.unknown_key(&tk, "the `to` of a route", ROUTE_TO_KEYS),
                        }
                    }
                    if !guest_seen && !mask_seen {
                        self.missing(
                            v.span(),
                            "`guest` or `mask` in the `to` of a route",
                            "add `guest = \"fqdn:server:0x00000000:owner:no:none:uuid\"` \
                             (one remote server) or `mask = \"*:server:*:*:*:*:*\"` (any that matches)",
                        );
                    }
                    if let (Some(guest), Some(mask)) = (&route.guest, &route.mask) {
                        let finding = Finding::new(
                            Code::Schema,
                            mask.span.clone(),
                            "a route names both a `guest` and a `mask`",
                        )
                        .label("second target")
                        .secondary(guest.span.clone(), "first target")
                        .help("keep `guest` for one exact server, or `mask` for any that matches");
                        self.report(finding);
                        route.mask = None;
                    }
                    if !terminal_seen {
                        self.missing(
                            v.span(),
                            "`terminal` in the `to` of a route",
                            "add `terminal = \"...\"`, the terminal of the remote server",
                        );
                    }
                }
                "capacity" => {
                    if let Some(capacity) = self.capacity(v) {
                        route.capacity = capacity;
                    }
                }
                "encoding" => {
                    if let Some(encoding) = self.encoding(v) {
                        route.encoding = encoding;
                    }
                }
                _ => self.unknown_key(&k, "`[[routes]]`", ROUTE_KEYS),
            }
        }
        if !from_seen {
            self.missing(
                span.clone(),
                "`from` in `[[routes]]`",
                "add `from = \"server.terminal\"`, the producing terminal",
            );
        }
        if !to_seen {
            self.missing(
                span,
                "`to` in `[[routes]]`",
                "add `to = { guest = \"...\", terminal = \"...\" }`",
            );
        }
        self.wiring.routes.push(route);
    }

    fn encoding(&mut self, value: &DeSpanned<'_>) -> Option<Encoding> {
        let text = self.string("`encoding`", value)?;
        let encoding = Encoding::parse(&text.value);
        if encoding.is_none() {
            let help = match closest(&text.value, ENCODINGS.iter().copied()) {
                Some(near) => format!("did you mean `\"{near}\"`?"),
                None => {
                    "use `\"postcard\"` (compact, the default) or `\"json\"` (readable)".to_string()
                }
            };
            self.report(
                Finding::new(
                    Code::Schema,
                    text.span,
                    format!("unknown encoding `{}`", text.value),
                )
                .label("expected `\"postcard\"` or `\"json\"`")
                .help(help),
            );
        }
        encoding
    }
}

//! Walks the spanned TOML tree of a wiring file by hand, so that every schema
//! problem is found in one pass, each with the span of the offending text.

use serde::Deserialize as _;
use toml::de::{DeArray, DeTable, DeValue};
use wiring_model::Restart;

use super::{
    Connection, Control, Kernel, LintSetting, Process, Route, Server, Side, Span, Spanned, Wiring,
    is_instance_name, is_kernel_name,
};
use crate::diagnostic::{Code, Finding, Level};
use crate::lint::names::closest;

type DeSpanned<'i> = toml::Spanned<DeValue<'i>>;

const TOP_KEYS: &[&str] = &[
    "kernel",
    "control",
    "lints",
    "servers",
    "processes",
    "connections",
    "routes",
];
const KERNEL_KEYS: &[&str] = &["name", "fqdn", "owner"];
const CONTROL_KEYS: &[&str] = &["listen"];
const SERVER_KEYS: &[&str] = &["type", "config", "uuid", "restart"];
const PROCESS_KEYS: &[&str] = &["command", "args", "env", "restart"];
const CONNECTION_KEYS: &[&str] = &["from", "to", "capacity"];
const ROUTE_KEYS: &[&str] = &["from", "to"];
const ROUTE_TO_KEYS: &[&str] = &["guest", "terminal"];
const RESTARTS: &[&str] = &["never", "on-failure", "always"];
const LEVELS: &[&str] = &["allow", "warn", "deny"];

/// Parses `source`; the findings are E0001 (then the wiring is empty) or E0002.
pub fn parse(source: &str) -> (Wiring, Vec<Finding>) {
    let (root, errors) = DeTable::parse_recoverable(source);
    // Only the first: the parser's recovery makes the next ones mostly echoes.
    if let Some(e) = errors.first() {
        let finding = syntax_finding(source, e.span(), e.message());
        return (Wiring::default(), vec![finding]);
    }
    // The same tree through serde, for the `config` tables kept as
    // `toml::Table`: what `toml::from_str` gives, without parsing again.
    let document = match toml::Table::deserialize(toml::de::Deserializer::from(root.clone())) {
        Ok(table) => table,
        Err(e) => {
            let finding = syntax_finding(source, e.span(), e.message());
            return (Wiring::default(), vec![finding]);
        }
    };
    let mut walker = Walker {
        source,
        document,
        findings: Vec::new(),
        wiring: Wiring::default(),
    };
    walker.root(root.get_ref());
    (walker.wiring, walker.findings)
}

fn syntax_finding(source: &str, span: Option<Span>, message: &str) -> Finding {
    let span = span.unwrap_or(source.len()..source.len());
    let message = message.trim();
    let message = message.strip_suffix('.').unwrap_or(message);
    Finding::new(Code::Syntax, span, format!("invalid TOML: {message}")).label(message.to_string())
}

struct Walker<'s> {
    source: &'s str,
    document: toml::Table,
    findings: Vec<Finding>,
    wiring: Wiring,
}

/// `a string`, `an integer`, ...
fn article(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// The entries of a table in the order they were written.
fn entries<'a, 'i>(table: &'a DeTable<'i>) -> Vec<(Spanned<&'a str>, &'a DeSpanned<'i>)> {
    let mut entries: Vec<_> = table
        .iter()
        .map(|(k, v)| (Spanned::new(k.get_ref().as_ref(), k.span()), v))
        .collect();
    entries.sort_by_key(|(k, v)| (k.span.start, v.span().start));
    entries
}

fn one_of(keys: &[&str]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

impl Walker<'_> {
    fn report(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    fn unknown_key(&mut self, key: &Spanned<&str>, context: &str, allowed: &[&str]) {
        let help = match closest(key.value, allowed.iter().copied()) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!("{context} takes {}", one_of(allowed)),
        };
        self.report(
            Finding::new(
                Code::Schema,
                key.span.clone(),
                format!("unknown key `{}` in {context}", key.value),
            )
            .label("unknown key")
            .help(help),
        );
    }

    fn wrong_type(&mut self, what: &str, expected: &str, value: &DeSpanned<'_>) {
        self.report(
            Finding::new(
                Code::Schema,
                value.span(),
                format!("{what} must be {expected}"),
            )
            .label(format!(
                "expected {expected}, found {}",
                article(value.get_ref())
            )),
        );
    }

    fn missing(&mut self, span: Span, what: &str, help: impl Into<String>) {
        self.report(
            Finding::new(Code::Schema, span, format!("missing {what}"))
                .label(format!("missing {what}"))
                .help(help),
        );
    }

    fn string(&mut self, what: &str, value: &DeSpanned<'_>) -> Option<Spanned<String>> {
        match value.get_ref() {
            DeValue::String(s) => Some(Spanned::new(s.to_string(), value.span())),
            _ => {
                self.wrong_type(what, "a string", value);
                None
            }
        }
    }

    fn root(&mut self, root: &DeTable<'_>) {
        let mut kernel_seen = false;
        for (key, value) in entries(root) {
            match key.value {
                "kernel" => {
                    kernel_seen = true;
                    self.kernel(value);
                }
                "control" => self.control(value),
                "lints" => self.lints(value),
                "servers" => self.servers(value),
                "processes" => self.processes(value),
                "connections" => {
                    for (item, table) in self.array_of_tables("`connections`", value) {
                        self.connection(item, table);
                    }
                }
                "routes" => {
                    for (item, table) in self.array_of_tables("`routes`", value) {
                        self.route(item, table);
                    }
                }
                _ => self.unknown_key(&key, "the wiring file", TOP_KEYS),
            }
        }
        if !kernel_seen {
            self.missing(
                0..0,
                "`[kernel]` table",
                "start the file with `[kernel]` and `name = \"...\"`",
            );
        }
    }

    fn table<'a, 'i>(&mut self, what: &str, value: &'a DeSpanned<'i>) -> Option<&'a DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(table) => Some(table),
            _ => {
                self.wrong_type(what, "a table", value);
                None
            }
        }
    }

    fn array_of_tables<'a, 'i>(
        &mut self,
        what: &str,
        value: &'a DeSpanned<'i>,
    ) -> Vec<(Span, &'a DeTable<'i>)> {
        let array: &DeArray<'i> = match value.get_ref() {
            DeValue::Array(array) => array,
            _ => {
                self.wrong_type(what, "an array of tables", value);
                return Vec::new();
            }
        };
        let mut tables = Vec::new();
        for item in array.iter() {
            match item.get_ref() {
                DeValue::Table(table) => tables.push((item.span(), table)),
                _ => self.wrong_type(&format!("an entry of {what}"), "a table", item),
            }
        }
        tables
    }

    fn kernel(&mut self, value: &DeSpanned<'_>) {
        let Some(table) = self.table("`kernel`", value) else {
            return;
        };
        let mut kernel = Kernel::default();
        let mut name_seen = false;
        for (k, v) in entries(table) {
            match k.value {
                "name" => {
                    name_seen = true;
                    if let Some(name) = self.string("`kernel.name`", v) {
                        if is_kernel_name(&name.value) {
                            kernel.name = Some(name);
                        } else {
                            let fixed = name.value.to_ascii_lowercase().replace([' ', '.'], "-");
                            let help = if is_kernel_name(&fixed) {
                                format!("try `name = \"{fixed}\"`")
                            } else {
                                "use lowercase letters, digits, `_` and `-`".to_string()
                            };
                            self.report(
                                Finding::new(
                                    Code::Schema,
                                    name.span.clone(),
                                    format!("invalid kernel name `{}`", name.value),
                                )
                                .label("kernel names are `[a-z0-9_-]+`")
                                .help(help),
                            );
                        }
                    }
                }
                "fqdn" => kernel.fqdn = self.string("`kernel.fqdn`", v),
                "owner" => kernel.owner = self.string("`kernel.owner`", v),
                _ => self.unknown_key(&k, "`[kernel]`", KERNEL_KEYS),
            }
        }
        if !name_seen {
            self.missing(
                value.span(),
                "`name` in `[kernel]`",
                "add `name = \"...\"` ([a-z0-9_-]+) under `[kernel]`",
            );
        }
        self.wiring.kernel = kernel;
    }

    fn control(&mut self, value: &DeSpanned<'_>) {
        let Some(table) = self.table("`control`", value) else {
            return;
        };
        let mut control = Control::default();
        for (k, v) in entries(table) {
            match k.value {
                "listen" => {
                    let Some(listen) = self.string("`control.listen`", v) else {
                        continue;
                    };
                    match listen.value.parse::<std::net::SocketAddr>() {
                        Ok(_) => control.listen = Some(listen),
                        Err(_) => {
                            self.report(
                                Finding::new(
                                    Code::Schema,
                                    listen.span.clone(),
                                    format!("invalid listen address `{}`", listen.value),
                                )
                                .label("expected `ip:port`")
                                .help(
                                    "write an IP address (not a host name) and a port, such as \
                                     `\"127.0.0.1:0\"` (any free port) or `\"[::1]:8080\"`",
                                ),
                            );
                        }
                    }
                }
                _ => self.unknown_key(&k, "`[control]`", CONTROL_KEYS),
            }
        }
        self.wiring.control = control;
    }

    fn lints(&mut self, value: &DeSpanned<'_>) {
        let Some(table) = self.table("`lints`", value) else {
            return;
        };
        let lint_names: Vec<&str> = Code::ALL
            .iter()
            .filter(|c| c.is_lint())
            .map(|c| c.name())
            .collect();
        for (k, v) in entries(table) {
            let code = match Code::from_name(k.value) {
                Some(code) if code.is_lint() && code.name() == k.value => code,
                Some(code) if code.is_lint() => {
                    self.report(
                        Finding::new(
                            Code::Schema,
                            k.span.clone(),
                            format!("lints are set by name, not by code `{}`", k.value),
                        )
                        .label("a lint code")
                        .help(format!("write `{} = ...`", code.name())),
                    );
                    continue;
                }
                Some(code) => {
                    self.report(
                        Finding::new(
                            Code::Schema,
                            k.span.clone(),
                            format!(
                                "`{}` ({}) is an error and cannot be set in `[lints]`",
                                k.value,
                                if code.name() == k.value {
                                    code.as_str()
                                } else {
                                    code.name()
                                }
                            ),
                        )
                        .label("not a lint")
                        .help(format!("only warnings can be set: {}", one_of(&lint_names))),
                    );
                    continue;
                }
                None => {
                    let help = match closest(k.value, lint_names.iter().copied()) {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => format!("the lints are {}", one_of(&lint_names)),
                    };
                    self.report(
                        Finding::new(
                            Code::Schema,
                            k.span.clone(),
                            format!("unknown lint `{}`", k.value),
                        )
                        .label("unknown lint")
                        .help(help),
                    );
                    continue;
                }
            };
            let Some(level) = self.string(&format!("the level of `{}`", k.value), v) else {
                continue;
            };
            let parsed = match level.value.as_str() {
                "allow" => None,
                "warn" => Some(Level::Warning),
                "deny" => Some(Level::Error),
                other => {
                    let help = match closest(other, LEVELS.iter().copied()) {
                        Some(near) => format!("did you mean `\"{near}\"`?"),
                        None => format!("use {}", one_of(LEVELS)),
                    };
                    self.report(
                        Finding::new(
                            Code::Schema,
                            level.span.clone(),
                            format!("unknown lint level `{other}`"),
                        )
                        .label("expected `\"allow\"`, `\"warn\"` or `\"deny\"`")
                        .help(help),
                    );
                    continue;
                }
            };
            let text = self
                .source
                .get(k.span.start..level.span.end)
                .unwrap_or_default()
                .to_string();
            self.wiring.lints.push(LintSetting {
                code,
                level: parsed,
                text,
            });
        }
    }

    fn servers(&mut self, value: &DeSpanned<'_>) {
        let Some(table) = self.table("`servers`", value) else {
            return;
        };
        for (k, v) in entries(table) {
            let name = self.instance_name(&k, "servers", "instance");
            let Some(server_table) = self.table(&format!("`servers.{}`", name.value), v) else {
                continue;
            };
            let context = format!("`[servers.{}]`", name.value);
            let mut server = Server {
                name,
                span: v.span(),
                ty: None,
                config: None,
                uuid: None,
                restart: Restart::Never,
            };
            let mut type_seen = false;
            for (sk, sv) in entries(server_table) {
                match sk.value {
                    "type" => {
                        type_seen = true;
                        server.ty = self.string("`type`", sv).map(|mut t| {
                            let trimmed = t.value.trim();
                            let trimmed = trimmed.strip_prefix("crate::").unwrap_or(trimmed);
                            t.value = trimmed.to_string();
                            t
                        });
                    }
                    "config" => {
                        if self.table("`config`", sv).is_some() {
                            let config = self
                                .document
                                .get("servers")
                                .and_then(|s| s.get(server.name.value.as_str()))
                                .and_then(|s| s.get("config"))
                                .and_then(|c| c.as_table())
                                .cloned()
                                .unwrap_or_default();
                            server.config = Some(Spanned::new(config, sv.span()));
                        }
                    }
                    "uuid" => server.uuid = self.string("`uuid`", sv),
                    "restart" => server.restart = self.restart(sv),
                    _ => self.unknown_key(&sk, &context, SERVER_KEYS),
                }
            }
            if !type_seen {
                self.missing(
                    v.span(),
                    &format!("`type` in {context}"),
                    "add `type = \"module::Struct\"`, the path of a struct deriving `Manifest`",
                );
            }
            self.wiring.servers.push(server);
        }
    }

    /// The name of a `[servers.<name>]` or `[processes.<name>]` table,
    /// reported when it is not `[a-z0-9_]+`.
    fn instance_name(&mut self, key: &Spanned<&str>, section: &str, what: &str) -> Spanned<String> {
        let name = Spanned::new(key.value.to_string(), key.span.clone());
        if !is_instance_name(&name.value) {
            let fixed = name
                .value
                .to_ascii_lowercase()
                .replace(['-', ' ', '.'], "_");
            let help = if is_instance_name(&fixed) {
                format!("try `[{section}.{fixed}]`")
            } else {
                "use lowercase letters, digits and `_`".to_string()
            };
            self.report(
                Finding::new(
                    Code::Schema,
                    key.span.clone(),
                    format!("invalid {what} name `{}`", name.value),
                )
                .label(format!("{what} names are `[a-z0-9_]+`"))
                .help(help),
            );
        }
        name
    }

    /// A `restart` policy; `never` after reporting an unknown one.
    fn restart(&mut self, value: &DeSpanned<'_>) -> Restart {
        let Some(restart) = self.string("`restart`", value) else {
            return Restart::Never;
        };
        match restart.value.as_str() {
            "never" => Restart::Never,
            "on-failure" => Restart::OnFailure,
            "always" => Restart::Always,
            other => {
                let help = match closest(other, RESTARTS.iter().copied()) {
                    Some(near) => format!("did you mean `\"{near}\"`?"),
                    None => format!("use {}", one_of(RESTARTS)),
                };
                self.report(
                    Finding::new(
                        Code::Schema,
                        restart.span.clone(),
                        format!("unknown restart policy `{other}`"),
                    )
                    .label("expected `\"never\"`, `\"on-failure\"` or `\"always\"`")
                    .help(help),
                );
                Restart::Never
            }
        }
    }

    fn processes(&mut self, value: &DeSpanned<'_>) {
        let Some(table) = self.table("`processes`", value) else {
            return;
        };
        for (k, v) in entries(table) {
            let name = self.instance_name(&k, "processes", "process");
            let Some(process_table) = self.table(&format!("`processes.{}`", name.value), v) else {
                continue;
            };
            let context = format!("`[processes.{}]`", name.value);
            let mut process = Process {
                name,
                span: v.span(),
                command: None,
                args: Vec::new(),
                env: Vec::new(),
                restart: Restart::Never,
            };
            let mut command_seen = false;
            for (pk, pv) in entries(process_table) {
                match pk.value {
                    "command" => {
                        command_seen = true;
                        process.command = self.command(pv);
                    }
                    "args" => process.args = self.strings("`args`", pv),
                    "env" => process.env = self.env(pv),
                    "restart" => process.restart = self.restart(pv),
                    _ => self.unknown_key(&pk, &context, PROCESS_KEYS),
                }
            }
            if !command_seen {
                self.missing(
                    v.span(),
                    &format!("`command` in {context}"),
                    "add `command = \"...\"`, a program path or a name on `PATH`",
                );
            }
            self.wiring.processes.push(process);
        }
    }

    fn command(&mut self, value: &DeSpanned<'_>) -> Option<Spanned<String>> {
        let command = self.string("`command`", value)?;
        if command.value.trim().is_empty() || command.value.contains('\0') {
            self.report(
                Finding::new(Code::Schema, command.span.clone(), "invalid `command`")
                    .label("expected a program path or name")
                    .help("put the program in `command` and its arguments in `args = [...]`"),
            );
            return None;
        }
        Some(command)
    }

    /// An array of strings (no NUL bytes: they cannot reach a program).
    fn strings(&mut self, what: &str, value: &DeSpanned<'_>) -> Vec<String> {
        let DeValue::Array(array) = value.get_ref() else {
            self.wrong_type(what, "an array of strings", value);
            return Vec::new();
        };
        let mut strings = Vec::new();
        for item in array.iter() {
            match item.get_ref() {
                DeValue::String(s) if !s.contains('\0') => strings.push(s.to_string()),
                DeValue::String(_) => self.report(
                    Finding::new(
                        Code::Schema,
                        item.span(),
                        format!("an entry of {what} holds a NUL byte"),
                    )
                    .label("NUL byte"),
                ),
                _ => self.wrong_type(&format!("an entry of {what}"), "a string", item),
            }
        }
        strings
    }

    /// `env = { NAME = "value" }`: names without `=` or NUL, string values.
    fn env(&mut self, value: &DeSpanned<'_>) -> Vec<(String, String)> {
        let Some(table) = self.table("`env`", value) else {
            return Vec::new();
        };
        let mut vars = Vec::new();
        for (k, v) in entries(table) {
            if k.value.is_empty() || k.value.contains(['=', '\0']) {
                self.report(
                    Finding::new(
                        Code::Schema,
                        k.span.clone(),
                        format!("invalid environment variable name `{}`", k.value),
                    )
                    .label("names cannot be empty or hold `=` or NUL"),
                );
                continue;
            }
            match v.get_ref() {
                DeValue::String(s) if !s.contains('\0') => {
                    vars.push((k.value.to_string(), s.to_string()));
                }
                DeValue::String(_) => self.report(
                    Finding::new(
                        Code::Schema,
                        v.span(),
                        format!("`env.{}` holds a NUL byte", k.value),
                    )
                    .label("NUL byte"),
                ),
                _ => self.wrong_type(&format!("`env.{}`", k.value), "a string", v),
            }
        }
        vars
    }

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

    fn connection(&mut self, span: Span, table: &DeTable<'_>) {
        let mut connection = Connection {
            span: span.clone(),
            from: None,
            to: None,
            capacity: Connection::DEFAULT_CAPACITY,
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
                        .help("a pipe holds at least one message; the default is 1024"),
                );
                None
            }
            Some(n) => match usize::try_from(n) {
                Ok(n) => Some(n),
                Err(_) => {
                    self.report(
                        Finding::new(Code::Schema, value.span(), "`capacity` is too large")
                            .label(format!("at most {}", usize::MAX)),
                    );
                    None
                }
            },
            None => {
                self.report(
                    Finding::new(Code::Schema, value.span(), "`capacity` is too large")
                        .label(format!("at most {}", usize::MAX)),
                );
                None
            }
        }
    }

    fn route(&mut self, span: Span, table: &DeTable<'_>) {
        let mut route = Route {
            span: span.clone(),
            to_span: None,
            from: None,
            guest: None,
            terminal: None,
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
                    let (mut guest_seen, mut terminal_seen) = (false, false);
                    for (tk, tv) in entries(to) {
                        match tk.value {
                            "guest" => {
                                guest_seen = true;
                                route.guest = self.string("`guest`", tv);
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
                    if !guest_seen {
                        self.missing(
                            v.span(),
                            "`guest` in the `to` of a route",
                            "add `guest = \"fqdn:server:0x00000000:owner:no:none:uuid\"`",
                        );
                    }
                    if !terminal_seen {
                        self.missing(
                            v.span(),
                            "`terminal` in the `to` of a route",
                            "add `terminal = \"...\"`, the terminal of the remote server",
                        );
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_toml_values_cannot_hold_are_syntax_errors_as_with_from_str() {
        for source in [
            "[kernel]\nname = \"k\"\nbig = 18446744073709551615\n",
            "[kernel]\nname = \"k\"\n[servers.a]\ntype = \"A\"\nconfig = { n = 99999999999999999999 }\n",
        ] {
            let (_, findings) = parse(source);
            let expected = toml::from_str::<toml::Table>(source)
                .err()
                .map(|e| (e.message().to_string(), e.span()));
            let got = findings.first().map(|f| (f.code, f.span.clone()));
            assert_eq!(findings.len(), 1, "{source}");
            assert_eq!(got.map(|g| g.0), Some(Code::Syntax));
            let (message, span) = expected.unwrap_or_default();
            assert!(
                findings[0].message.contains(message.trim()),
                "{}",
                findings[0].message
            );
            assert_eq!(Some(findings[0].span.clone()), span);
        }
    }

    fn codes(source: &str) -> Vec<(Code, String)> {
        let (_, findings) = parse(source);
        findings
            .into_iter()
            .map(|f| (f.code, source[f.span].to_string()))
            .collect()
    }

    #[test]
    fn parses_the_contract_example() {
        let source = r#"
[kernel]
name = "refinery"
fqdn = "plant-a.example"

[lints]
unconnected-input = "deny"

[servers.intake]
type = "servers::Sensor"
config = { count = 1000 }
restart = "on-failure"

[[connections]]
from = "intake.readings"
to = ["a.raw", "b.raw"]
capacity = 16

[[routes]]
from = "filter.alerts"
to = { guest = "g", terminal = "lines" }
"#;
        let (wiring, findings) = parse(source);
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(
            wiring.kernel.name.as_ref().map(|n| n.value.as_str()),
            Some("refinery")
        );
        assert_eq!(
            wiring.kernel.fqdn.as_ref().map(|n| n.value.as_str()),
            Some("plant-a.example")
        );
        assert_eq!(wiring.servers.len(), 1);
        let server = &wiring.servers[0];
        assert_eq!(server.restart, Restart::OnFailure);
        assert_eq!(
            server
                .config
                .as_ref()
                .map(|c| toml::to_string(&c.value).unwrap_or_default()),
            Some("count = 1000\n".to_string())
        );
        assert_eq!(wiring.connections[0].capacity, 16);
        let to = wiring.connections[0].to.as_ref().map(|t| t.endpoints.len());
        assert_eq!(to, Some(2));
        assert_eq!(wiring.routes.len(), 1);
        assert_eq!(wiring.level(Code::UnconnectedInput), Some(Level::Error));
        assert_eq!(wiring.level(Code::Cycle), Some(Level::Warning));
    }

    #[test]
    fn collects_every_schema_problem() {
        let found = codes(
            "[kernel]\nname = \"Bad Name\"\ncolour = 1\n[servers.X]\ntpye = \"a\"\n[[connections]]\nfrom = 3\nto = []\ncapacity = 0\n",
        );
        let spans: Vec<&str> = found.iter().map(|(_, s)| s.as_str()).collect();
        assert!(found.iter().all(|(c, _)| *c == Code::Schema), "{found:?}");
        assert_eq!(
            spans,
            [
                "\"Bad Name\"",
                "colour",
                "X",
                "tpye",
                "[servers.X]",
                "3",
                "[]",
                "0"
            ]
        );
    }

    #[test]
    fn control_listen_is_a_socket_address() {
        for listen in ["127.0.0.1:0", "[::1]:8080", "0.0.0.0:9000"] {
            let source = format!("[kernel]\nname = \"k\"\n[control]\nlisten = \"{listen}\"\n");
            let (wiring, findings) = parse(&source);
            assert!(findings.is_empty(), "{findings:?}");
            assert_eq!(
                wiring.control.listen.map(|l| l.value),
                Some(listen.to_string())
            );
        }
        let (wiring, _) = parse("[kernel]\nname = \"k\"\n[control]\n");
        assert!(wiring.control.listen.is_none());
        let found =
            codes("[kernel]\nname = \"k\"\n[control]\nlisten = \"localhost:80\"\nport = 1\n");
        assert_eq!(
            found,
            [
                (Code::Schema, "\"localhost:80\"".to_string()),
                (Code::Schema, "port".to_string())
            ]
        );
        for bad in [
            "listen = 8080",
            "listen = \"127.0.0.1\"",
            "listen = \" 127.0.0.1:1\"",
        ] {
            let found = codes(&format!("[kernel]\nname = \"k\"\n[control]\n{bad}\n"));
            assert_eq!(found.len(), 1, "{bad}: {found:?}");
            assert_eq!(found[0].0, Code::Schema);
        }
        let found = codes("control = 1\n[kernel]\nname = \"k\"\n");
        assert_eq!(found, [(Code::Schema, "1".to_string())]);
    }

    #[test]
    fn syntax_errors_stop_the_walk() {
        let found = codes("[kernel\nname = 3\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, Code::Syntax);
    }

    #[test]
    fn missing_kernel_is_reported_at_the_start() {
        let (_, findings) = parse("");
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].span, 0..0);
    }
}

//! `[servers.<name>]` and `[processes.<name>]`.

use toml::de::DeValue;

use super::{DeSpanned, Walker, entries, one_of};
use crate::lint::{Code, Finding};
use crate::names::closest;
use crate::spec::Restart;
use crate::wiring::{Process, Server, Spanned, is_instance_name};

const SERVER_KEYS: &[&str] = &["type", "config", "uuid", "restart", "fuse"];
const PROCESS_KEYS: &[&str] = &["command", "args", "env", "restart"];
const RESTARTS: &[&str] = &["never", "on-failure", "always"];

impl Walker<'_> {
    pub(super) fn servers(&mut self, value: &DeSpanned<'_>) {
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
                fuse: true,
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
                    "fuse" => match sv.get_ref() {
                        DeValue::Boolean(fuse) => server.fuse = *fuse,
                        _ => self.wrong_type("`fuse`", "a boolean", sv),
                    },
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
        match Restart::parse(&restart.value) {
            Some(policy) => policy,
            None => {
                let other = restart.value.as_str();
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

    pub(super) fn processes(&mut self, value: &DeSpanned<'_>) {
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
}

//! `[kernel]`, `[control]` and `[lints]`.

use super::{DeSpanned, Walker, entries, one_of};
use crate::lint::{Code, Finding, Level};
use crate::names::closest;
use crate::wiring::{Control, Kernel, LintSetting, is_kernel_name};

const KERNEL_KEYS: &[&str] = &["name", "fqdn", "owner"];
const CONTROL_KEYS: &[&str] = &["listen"];
const LEVELS: &[&str] = &["allow", "warn", "deny"];

impl Walker<'_> {
    pub(super) fn kernel(&mut self, value: &DeSpanned<'_>) {
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

    pub(super) fn control(&mut self, value: &DeSpanned<'_>) {
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

    pub(super) fn lints(&mut self, value: &DeSpanned<'_>) {
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
}

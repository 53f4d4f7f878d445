//! Terminals nothing connects (W0701, W0702) and servers nothing uses (W0703).

use manifest_syntax::type_text;

use super::{Ep, Linter};
use crate::diagnostic::{Code, Finding};

impl Linter<'_> {
    pub(super) fn unconnected(&mut self) {
        for (i, server) in self.wiring.servers.iter().enumerate() {
            if !self.used[i] {
                let finding = Finding::new(
                    Code::UnusedServer,
                    server.name.span.clone(),
                    format!("server `{}` is never used", server.name.value),
                )
                .label("takes part in no connection or route")
                .help(format!(
                    "connect its terminals, or remove `[servers.{}]`",
                    server.name.value
                ));
                // Its terminals are reported too: under `deny` an unconnected
                // input is an error whether its server is used or not.
                self.report_lint(finding);
            }
            let Some(ty) = self.types[i] else {
                continue;
            };
            if self.misspelled.contains(&i) {
                continue;
            }
            for (t, terminal) in ty.def.terminals.iter().enumerate() {
                let ep = Ep {
                    server: i,
                    terminal: t,
                };
                if self.touched.contains(&ep) {
                    continue;
                }
                let name = format!("{}.{}", server.name.value, terminal.name);
                let finding = if terminal.kind.is_producer() {
                    Finding::new(
                        Code::UnconnectedOutput,
                        server.name.span.clone(),
                        format!("output `{name}` has no consumer"),
                    )
                    .label(format!(
                        "`{}` ({}) is not connected",
                        terminal.name,
                        type_text(&terminal.ty)
                    ))
                    .help(format!(
                        "connect it with `from = \"{name}\"` in a `[[connections]]` or `[[routes]]`"
                    ))
                } else {
                    Finding::new(
                        Code::UnconnectedInput,
                        server.name.span.clone(),
                        format!("input `{name}` has no producer"),
                    )
                    .label(format!(
                        "`{}` ({}) is not connected",
                        terminal.name,
                        type_text(&terminal.ty)
                    ))
                    .help(format!(
                        "connect it with `to = \"{name}\"` in a `[[connections]]`"
                    ))
                };
                self.report_lint(finding);
            }
        }
    }
}

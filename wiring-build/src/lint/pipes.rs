//! What each pipe carries (E0401) and pipes connected twice (E0501).

use std::collections::{HashMap, HashSet};

use manifest_syntax::type_text;
use wiring_model::wiring::Span;

use super::types::Resolver;
use super::{Ep, Linter, Pipe};
use crate::diagnostic::{Code, Finding};

impl Linter<'_> {
    pub(super) fn type_mismatches(&mut self, pipes: &[Pipe]) {
        let resolver = Resolver::new(self.scan);
        let mut cache: HashMap<Ep, Option<String>> = HashMap::new();
        let mut canonical = |linter: &Self, ep: Ep| -> Option<String> {
            cache
                .entry(ep)
                .or_insert_with(|| {
                    let (ty, terminal) = linter.terminal(ep)?;
                    resolver.canonical(&ty.module, &terminal.message)
                })
                .clone()
        };
        let mut reported: HashSet<(Ep, Ep)> = HashSet::new();
        for pipe in pipes {
            let (Some(sent), Some(received)) =
                (canonical(self, pipe.from), canonical(self, pipe.to))
            else {
                continue;
            };
            if sent == received || !reported.insert((pipe.from, pipe.to)) {
                continue;
            }
            let (Some((_, from_t)), Some((_, to_t))) =
                (self.terminal(pipe.from), self.terminal(pipe.to))
            else {
                continue;
            };
            let written_sent = type_text(&from_t.message);
            let written_received = type_text(&to_t.message);
            let mut finding = Finding::new(
                Code::TypeMismatch,
                pipe.to_span.clone(),
                format!(
                    "mismatched types: `{}` sends `{written_sent}` but `{}` receives `{written_received}`",
                    self.name(pipe.from),
                    self.name(pipe.to)
                ),
            )
            .label(format!("receives `{written_received}`"))
            .secondary(pipe.from_span.clone(), format!("sends `{written_sent}`"));
            for (written, resolved) in [(&written_sent, &sent), (&written_received, &received)] {
                let shown = resolved.strip_prefix("crate::").unwrap_or(resolved);
                if written != shown {
                    finding = finding.note(format!("`{written}` is `{resolved}`"));
                }
            }
            finding = finding.note(format!(
                "`{}` is `{}` in `{}`; `{}` is `{}` in `{}`",
                from_t.name,
                type_text(&from_t.ty),
                self.type_name(pipe.from.server),
                to_t.name,
                type_text(&to_t.ty),
                self.type_name(pipe.to.server)
            ));
            finding = finding.help("connect terminals that carry the same message type");
            self.report(finding);
        }
    }

    /// E0501; returns the pipes without repeats.
    pub(super) fn duplicates(&mut self, pipes: &[Pipe]) -> Vec<Pipe> {
        let mut first: HashMap<(Ep, Ep), Span> = HashMap::new();
        let mut unique = Vec::new();
        for pipe in pipes {
            match first.get(&(pipe.from, pipe.to)) {
                Some(earlier) => {
                    let finding = Finding::new(
                        Code::DuplicateConnection,
                        pipe.span.clone(),
                        format!(
                            "`{}` is connected to `{}` twice",
                            self.name(pipe.from),
                            self.name(pipe.to)
                        ),
                    )
                    .label("connected again here")
                    .secondary(earlier.clone(), "first connected here")
                    .help("remove one of them");
                    self.report(finding);
                }
                None => {
                    first.insert((pipe.from, pipe.to), pipe.span.clone());
                    unique.push(pipe.clone());
                }
            }
        }
        unique
    }
}

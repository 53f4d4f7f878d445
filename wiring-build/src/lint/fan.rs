//! Too many peers on a terminal that takes one (E0301, E0302).

use std::collections::{BTreeMap, HashSet};

use manifest_syntax::type_text;
use wiring_model::check_fan;
use wiring_model::wiring::Span;

use super::{Dangling, Ep, Linter, Pipe};
use crate::diagnostic::{Code, Finding};

impl Linter<'_> {
    /// E0301 and E0302: too many peers on a terminal that takes one.
    pub(super) fn fan(
        &mut self,
        pipes: &[Pipe],
        dangling: &[Dangling],
        route_peers: &[(Ep, Span)],
    ) {
        // terminal -> [where each peer is written]
        let mut consumers: BTreeMap<Ep, Vec<Span>> = BTreeMap::new();
        let mut producers: BTreeMap<Ep, Vec<Span>> = BTreeMap::new();
        // Each pair once, however often it is connected.
        let mut pairs: HashSet<(Ep, Ep)> = HashSet::with_capacity(pipes.len());
        for pipe in pipes {
            if !pairs.insert((pipe.from, pipe.to)) {
                continue;
            }
            consumers
                .entry(pipe.from)
                .or_default()
                .push(pipe.to_span.clone());
            producers
                .entry(pipe.to)
                .or_default()
                .push(pipe.from_span.clone());
        }
        let mut written: HashSet<(Ep, bool, &str)> = HashSet::new();
        for d in dangling {
            if written.insert((d.known, d.producer, d.peer.value.as_str())) {
                let peers = if d.producer {
                    &mut consumers
                } else {
                    &mut producers
                };
                peers.entry(d.known).or_default().push(d.peer.span.clone());
            }
        }
        for (ep, span) in route_peers {
            consumers.entry(*ep).or_default().push(span.clone());
        }
        for (producer, spans) in consumers {
            if self
                .kind(producer)
                .is_none_or(|kind| check_fan(kind, spans.len()).is_ok())
            {
                continue;
            }
            let Some((ty, terminal)) = self.terminal(producer) else {
                continue;
            };
            let finding = self.fan_finding(
                Code::FanOutWithoutMultiplexer,
                format!(
                    "output `{}` has {} consumers but is not a multiplexer",
                    self.name(producer),
                    spans.len()
                ),
                &spans,
                format!("{} consumers", spans.len()),
                "also consumed here",
                format!(
                    "declare `{}` as `Multiplex<{}>` in `{}`, or keep one consumer",
                    terminal.name,
                    type_text(&terminal.message),
                    ty.def.ident
                ),
            );
            self.report(finding);
        }
        for (consumer, spans) in producers {
            if self
                .kind(consumer)
                .is_none_or(|kind| check_fan(kind, spans.len()).is_ok())
            {
                continue;
            }
            let Some((ty, terminal)) = self.terminal(consumer) else {
                continue;
            };
            let finding = self.fan_finding(
                Code::FanInWithoutCombiner,
                format!(
                    "input `{}` has {} producers but is not a combiner",
                    self.name(consumer),
                    spans.len()
                ),
                &spans,
                format!("{} producers", spans.len()),
                "also produced here",
                format!(
                    "declare `{}` as `Combine<{}>` in `{}`, or keep one producer",
                    terminal.name,
                    type_text(&terminal.message),
                    ty.def.ident
                ),
            );
            self.report(finding);
        }
    }

    /// A fan finding: the peers' spans, merged into their lists where they share one.
    fn fan_finding(
        &self,
        code: Code,
        message: String,
        spans: &[Span],
        label: String,
        also: &str,
        help: String,
    ) -> Finding {
        // Endpoints written in one list are shown as that list.
        let mut groups: Vec<Span> = Vec::new();
        for span in spans {
            let list = self.list_around(span).unwrap_or_else(|| span.clone());
            if !groups.contains(&list) {
                groups.push(list);
            }
        }
        let Some((primary, rest)) = groups.split_last() else {
            return Finding::new(code, 0..0, message);
        };
        let mut finding = Finding::new(code, primary.clone(), message).label(label);
        for span in rest {
            finding = finding.secondary(span.clone(), also);
        }
        finding.help(help)
    }

    /// The span of the `from`/`to` list (or route) that holds the endpoint at `span`.
    fn list_around(&self, span: &Span) -> Option<Span> {
        for connection in &self.wiring.connections {
            for side in [&connection.from, &connection.to].into_iter().flatten() {
                if side.endpoints.iter().any(|e| &e.span == span) {
                    return Some(side.span.clone());
                }
            }
        }
        None
    }
}

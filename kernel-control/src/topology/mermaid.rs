//! The topology as a Mermaid flowchart.

use std::fmt::Write as _;

use kernel_core::ServerState;
use kernel_core::control::state::Machine as _;

use super::{EdgeKind, NodeKind, Topology, edge_label, route_label, state_colour};

impl Topology {
    /// A Mermaid flowchart of the same graph (routes as thick arrows to or
    /// from a rounded node for the other kernel's end, dotted while they
    /// are not connected).
    pub fn to_mermaid(&self) -> String {
        let g = self.graph();
        let mid = |id: &str| -> String {
            id.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect()
        };
        let text = |s: &str| s.replace('"', "#quot;");
        let mut out = String::from("flowchart LR\n");
        for node in &g.nodes {
            match &node.kind {
                NodeKind::Server { state, type_path } => {
                    let _ = writeln!(
                        out,
                        "  {}[\"{}<br/>{}<br/>[{}]\"]:::{}",
                        mid(&node.id),
                        text(&node.label),
                        text(type_path),
                        state,
                        state
                    );
                }
                NodeKind::FanOut => {
                    let _ = writeln!(
                        out,
                        "  {}{{{{\"fan-out {}\"}}}}",
                        mid(&node.id),
                        text(&node.label)
                    );
                }
                NodeKind::FanIn => {
                    let _ = writeln!(
                        out,
                        "  {}{{{{\"fan-in {}\"}}}}",
                        mid(&node.id),
                        text(&node.label)
                    );
                }
                NodeKind::Remote => {
                    let _ = writeln!(
                        out,
                        "  {}([\"another kernel<br/>{}\"])",
                        mid(&node.id),
                        text(&node.label)
                    );
                }
            }
        }
        for edge in &g.edges {
            match &edge.kind {
                EdgeKind::Pipe(c) if c.state == "closed" || c.state == "failed" => {}
                EdgeKind::Pipe(c) => {
                    let arrow = if c.state == "paused" { "-.->" } else { "-->" };
                    let _ = writeln!(
                        out,
                        "  {} {}|\"{}\"| {}",
                        mid(&edge.from),
                        arrow,
                        text(&edge_label(c).replace('\n', " · ")),
                        mid(&edge.to)
                    );
                }
                EdgeKind::Stub => {
                    let _ = writeln!(out, "  {} --- {}", mid(&edge.from), mid(&edge.to));
                }
                EdgeKind::Route(r) => {
                    let arrow = if r.state == "connected" || r.state == "draining" {
                        "==>"
                    } else {
                        "-.->"
                    };
                    let _ = writeln!(
                        out,
                        "  {} {}|\"{}\"| {}",
                        mid(&edge.from),
                        arrow,
                        text(&route_label(r).replace('\n', " · ")),
                        mid(&edge.to)
                    );
                }
            }
        }
        for state in ServerState::ALL {
            let _ = writeln!(
                out,
                "  classDef {} fill:{},stroke:#333",
                state.as_str(),
                state_colour(state.as_str())
            );
        }
        out
    }
}

//! The topology as a Mermaid flowchart.

use std::fmt::Write as _;

use kernel_core::ServerState;
use kernel_core::control::state::Machine as _;

use super::{NodeKind, Topology, edge_label, state_colour};

impl Topology {
    /// A Mermaid flowchart of the same graph.
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
            }
        }
        for edge in &g.edges {
            match &edge.pipe {
                Some(c) if c.state == "closed" || c.state == "failed" => {}
                Some(c) => {
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
                None => {
                    let _ = writeln!(out, "  {} --- {}", mid(&edge.from), mid(&edge.to));
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

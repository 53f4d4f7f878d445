//! The topology in Graphviz DOT.

use std::fmt::Write as _;

use super::{
    EdgeKind, NodeKind, Topology, edge_label, fill_colour, route_colour, route_label, state_colour,
};

impl Topology {
    /// Graphviz DOT: servers as boxes coloured by state, fan-out and fan-in
    /// as junction nodes, every pipe labelled with state, rate and queue,
    /// every route to or from another kernel as a dashed edge to a dashed
    /// box for the other end, labelled with its state and counters.
    pub fn to_dot(&self) -> String {
        let g = self.graph();
        let mut out = String::new();
        let _ = writeln!(out, "digraph {} {{", dot_id(&self.kernel.name));
        let _ = writeln!(
            out,
            "  graph [rankdir=LR, fontname=\"Helvetica\", label={}, labelloc=t];",
            dot_id(&format!(
                "kernel {} ({}), uptime {:.0} s",
                self.kernel.name, self.kernel.fqdn, self.kernel.uptime_s
            ))
        );
        out.push_str("  node [fontname=\"Helvetica\", fontsize=11];\n");
        out.push_str("  edge [fontname=\"Helvetica\", fontsize=9];\n");
        for node in &g.nodes {
            match &node.kind {
                NodeKind::Server { state, type_path } => {
                    let _ = writeln!(
                        out,
                        "  {} [shape=box, style=\"rounded,filled\", fillcolor={}, label={}];",
                        dot_id(&node.id),
                        dot_id(state_colour(state)),
                        dot_id(&format!("{}\n{}\n[{}]", node.label, type_path, state))
                    );
                }
                NodeKind::FanOut => {
                    let _ = writeln!(
                        out,
                        "  {} [shape=triangle, orientation=270, style=filled, fillcolor=\"#dddddd\", width=0.3, height=0.3, fixedsize=true, label=\"\", xlabel={}];",
                        dot_id(&node.id),
                        dot_id(&format!("fan-out {}", node.label))
                    );
                }
                NodeKind::FanIn => {
                    let _ = writeln!(
                        out,
                        "  {} [shape=invtriangle, orientation=90, style=filled, fillcolor=\"#dddddd\", width=0.3, height=0.3, fixedsize=true, label=\"\", xlabel={}];",
                        dot_id(&node.id),
                        dot_id(&format!("fan-in {}", node.label))
                    );
                }
                NodeKind::Remote => {
                    let _ = writeln!(
                        out,
                        "  {} [shape=box, style=\"rounded,dashed\", label={}];",
                        dot_id(&node.id),
                        dot_id(&format!("another kernel\n{}", node.label))
                    );
                }
            }
        }
        for edge in &g.edges {
            match &edge.kind {
                EdgeKind::Pipe(c) => {
                    let style = match c.state.as_str() {
                        "paused" => "dashed",
                        "draining" => "dotted",
                        "closed" | "failed" => "invis",
                        _ => "solid",
                    };
                    let _ = writeln!(
                        out,
                        "  {} -> {} [id={}, color={}, style={}, penwidth=2, label={}];",
                        dot_id(&edge.from),
                        dot_id(&edge.to),
                        dot_id(&format!("conn-{}", c.id)),
                        dot_id(fill_colour(c.fill, &c.state)),
                        style,
                        dot_id(&edge_label(c))
                    );
                }
                EdgeKind::Stub => {
                    let _ = writeln!(
                        out,
                        "  {} -> {} [color=\"#555555\", penwidth=2, arrowhead=none];",
                        dot_id(&edge.from),
                        dot_id(&edge.to)
                    );
                }
                EdgeKind::Route(r) => {
                    let _ = writeln!(
                        out,
                        "  {} -> {} [id={}, color={}, style=dashed, penwidth=2, label={}];",
                        dot_id(&edge.from),
                        dot_id(&edge.to),
                        dot_id(&format!("route-{}", r.id)),
                        dot_id(route_colour(r)),
                        dot_id(&route_label(r))
                    );
                }
            }
        }
        out.push_str("}\n");
        out
    }
}

/// A DOT quoted id.
fn dot_id(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

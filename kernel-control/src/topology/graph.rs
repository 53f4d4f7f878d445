//! The graph every drawing of a topology uses: servers, fan junctions and
//! the edges between them.

use super::{ConnectionView, Topology};

/// What a node of the drawn graph is.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A server instance.
    Server {
        /// Its state (`running`, `finished`, ...).
        state: String,
        /// Its `type` as written in `wiring.toml`.
        type_path: String,
    },
    /// The junction of a `Multiplex` with several consumers.
    FanOut,
    /// The junction of a `Combine` with several producers.
    FanIn,
}

/// A node of the drawn graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Server name, or `fan-out:server.terminal` / `fan-in:server.terminal`.
    pub id: String,
    /// What the drawing writes on the node.
    pub label: String,
    /// A server or a fan junction.
    pub kind: NodeKind,
}

/// An edge of the drawn graph: a pipe, or the stub between a server and
/// its fan junction.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// The id of the node it starts at.
    pub from: String,
    /// The id of the node it ends at.
    pub to: String,
    /// The pipe it stands for; `None` for a server-to-junction stub.
    pub pipe: Option<ConnectionView>,
}

/// Servers, fan junctions and edges, as every drawing shows them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Graph {
    /// Servers and fan junctions.
    pub nodes: Vec<Node>,
    /// Pipes and junction stubs.
    pub edges: Vec<Edge>,
}

impl Graph {
    pub(super) fn of(t: &Topology) -> Self {
        let mut g = Graph::default();
        for s in &t.servers {
            g.nodes.push(Node {
                id: s.name.clone(),
                label: s.name.clone(),
                kind: NodeKind::Server {
                    state: s.state.clone(),
                    type_path: s.type_path.clone(),
                },
            });
        }
        let server_of = |endpoint: &str| {
            endpoint
                .split_once('.')
                .map(|(s, _)| s.to_owned())
                .unwrap_or_default()
        };
        for c in &t.connections {
            let from = if c.fan_out {
                let id = format!("fan-out:{}", c.from);
                if !g.nodes.iter().any(|n| n.id == id) {
                    g.nodes.push(Node {
                        id: id.clone(),
                        label: c.from.clone(),
                        kind: NodeKind::FanOut,
                    });
                    g.edges.push(Edge {
                        from: server_of(&c.from),
                        to: id.clone(),
                        pipe: None,
                    });
                }
                id
            } else {
                server_of(&c.from)
            };
            let to = if c.fan_in {
                let id = format!("fan-in:{}", c.to);
                if !g.nodes.iter().any(|n| n.id == id) {
                    g.nodes.push(Node {
                        id: id.clone(),
                        label: c.to.clone(),
                        kind: NodeKind::FanIn,
                    });
                    g.edges.push(Edge {
                        from: id.clone(),
                        to: server_of(&c.to),
                        pipe: None,
                    });
                }
                id
            } else {
                server_of(&c.to)
            };
            g.edges.push(Edge {
                from,
                to,
                pipe: Some(c.clone()),
            });
        }
        g
    }
}

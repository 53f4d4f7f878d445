//! The graph every drawing of a topology uses: servers, fan junctions, the
//! other kernels' ends of routes and the edges between them.

use super::{ConnectionView, RouteView, Topology};

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
    /// The other kernel's end of a route: the guest and terminal it goes
    /// to, or the `kernel/server.terminal` it comes from.
    Remote,
}

/// A node of the drawn graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Server name, `fan-out:server.terminal` / `fan-in:server.terminal`,
    /// or `remote:` and the other kernel's end of a route.
    pub id: String,
    /// What the drawing writes on the node.
    pub label: String,
    /// A server or a fan junction.
    pub kind: NodeKind,
}

/// What an edge of the drawn graph stands for.
#[derive(Debug, Clone, PartialEq)]
pub enum EdgeKind {
    /// A pipe between two servers of this kernel.
    Pipe(ConnectionView),
    /// The stub between a server and its fan junction.
    Stub,
    /// A route to or from another kernel.
    Route(RouteView),
}

/// An edge of the drawn graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// The id of the node it starts at.
    pub from: String,
    /// The id of the node it ends at.
    pub to: String,
    /// A pipe, a junction stub or a route.
    pub kind: EdgeKind,
}

/// Servers, fan junctions and edges, as every drawing shows them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Graph {
    /// Servers, fan junctions and the other kernels' ends of routes.
    pub nodes: Vec<Node>,
    /// Pipes, junction stubs and routes.
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
                        kind: EdgeKind::Stub,
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
                        kind: EdgeKind::Stub,
                    });
                }
                id
            } else {
                server_of(&c.to)
            };
            g.edges.push(Edge {
                from,
                to,
                kind: EdgeKind::Pipe(c.clone()),
            });
        }
        for r in &t.routes {
            let outbound = r.direction == "outbound";
            let (here, there) = if outbound {
                (&r.from, &r.to)
            } else {
                (&r.to, &r.from)
            };
            let remote = format!("remote:{there}");
            if !g.nodes.iter().any(|n| n.id == remote) {
                g.nodes.push(Node {
                    id: remote.clone(),
                    label: there.clone(),
                    kind: NodeKind::Remote,
                });
            }
            let (from, to) = if outbound {
                (server_of(here), remote)
            } else {
                (remote, server_of(here))
            };
            g.edges.push(Edge {
                from,
                to,
                kind: EdgeKind::Route(r.clone()),
            });
        }
        g
    }
}

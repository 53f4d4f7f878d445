//! The topology of a linted wiring file as Graphviz, Mermaid or JSON.

use petgraph::dot::Dot;
use petgraph::graph::{Graph, NodeIndex};
use std::collections::HashMap;
use wiring_build::{Plan, RoutePlan};

/// The other kernel's end of a route: its guest (or mask) and terminal.
fn remote(route: &RoutePlan) -> String {
    format!("another kernel: {}.{}", route.to.text(), route.terminal)
}

/// One node per server (`name: type`), one edge per pipe
/// (`from terminal → to terminal`); a route is an edge to a node for the
/// other kernel's end (`route from terminal`).
fn graph(plan: &Plan) -> Graph<String, String> {
    let mut graph = Graph::new();
    let nodes: HashMap<&str, NodeIndex> = plan
        .servers
        .iter()
        .map(|s| {
            let node = graph.add_node(format!("{}: {}", s.name, s.type_path));
            (s.name.as_str(), node)
        })
        .collect();
    for pipe in &plan.pipes {
        if let (Some(&from), Some(&to)) = (
            nodes.get(pipe.from.server.as_str()),
            nodes.get(pipe.to.server.as_str()),
        ) {
            graph.add_edge(
                from,
                to,
                format!("{} → {}", pipe.from.terminal, pipe.to.terminal),
            );
        }
    }
    let mut remotes: HashMap<String, NodeIndex> = HashMap::new();
    for route in &plan.routes {
        let Some(&from) = nodes.get(route.from.server.as_str()) else {
            continue;
        };
        let to = *remotes
            .entry(remote(route))
            .or_insert_with_key(|label| graph.add_node(label.clone()));
        graph.add_edge(from, to, format!("route from {}", route.from.terminal));
    }
    graph
}

pub fn dot(plan: &Plan) -> String {
    let graph = graph(plan);
    format!("{}", Dot::new(&graph))
}

pub fn mermaid(plan: &Plan) -> String {
    let quote = |text: &str| text.replace('"', "#quot;");
    let mut lines = vec!["flowchart LR".to_string()];
    for server in &plan.servers {
        lines.push(format!(
            "    {}[\"{}: {}\"]",
            server.name,
            quote(&server.name),
            quote(&server.type_path)
        ));
    }
    for pipe in &plan.pipes {
        lines.push(format!(
            "    {} -- \"{} → {}\" --> {}",
            pipe.from.server,
            quote(&pipe.from.terminal),
            quote(&pipe.to.terminal),
            pipe.to.server
        ));
    }
    // Routes: a dotted arrow to a rounded node per remote end.
    let mut remotes: Vec<String> = Vec::new();
    for route in &plan.routes {
        let label = remote(route);
        let index = remotes.iter().position(|r| *r == label).unwrap_or_else(|| {
            lines.push(format!(
                "    remote{}([\"{}\"])",
                remotes.len(),
                quote(&label)
            ));
            remotes.push(label);
            remotes.len() - 1
        });
        lines.push(format!(
            "    {} -. \"route from {}\" .-> remote{index}",
            route.from.server,
            quote(&route.from.terminal)
        ));
    }
    lines.join("\n")
}

pub fn json(plan: &Plan) -> serde_json::Value {
    serde_json::json!({
        "kernel": plan.kernel.name,
        "servers": plan.servers.iter().map(|s| serde_json::json!({
            "name": s.name,
            "type": s.type_path,
            "uuid": s.uuid.to_string(),
        })).collect::<Vec<_>>(),
        "pipes": plan.pipes.iter().map(|p| serde_json::json!({
            "id": p.id.to_string(),
            "from": p.from.to_string(),
            "to": p.to.to_string(),
            "capacity": p.capacity,
        })).collect::<Vec<_>>(),
        "routes": plan.routes.iter().map(|r| serde_json::json!({
            "id": r.id.to_string(),
            "from": r.from.to_string(),
            "to": r.to.text(),
            "terminal": r.terminal,
            "capacity": r.capacity,
        })).collect::<Vec<_>>(),
    })
}

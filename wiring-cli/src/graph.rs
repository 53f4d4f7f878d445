//! The topology of a linted wiring file as Graphviz, Mermaid or JSON.

use petgraph::dot::Dot;
use petgraph::graph::{Graph, NodeIndex};
use std::collections::HashMap;
use wiring_build::Plan;

/// One node per server (`name: type`), one edge per pipe
/// (`from terminal → to terminal`).
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
    })
}

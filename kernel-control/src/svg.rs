//! The live topology as an SVG drawing with a layered layout: sources on
//! the left, sinks on the right, fan-out and fan-in as junctions, every
//! pipe labelled with its rate and coloured by queue fill, every server
//! with its state. The HMI page shows it; any tool can fetch it. The
//! snapshot drawn is embedded as JSON (`<metadata id="snapshot">`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::topology::{
    EdgeKind, NodeKind, Topology, fill_colour, rate_text, route_colour, route_label, state_colour,
};

const SERVER_W: f64 = 176.0;
const SERVER_H: f64 = 66.0;
const FAN_R: f64 = 11.0;
const COLUMN: f64 = 380.0;
/// Distance of a fan junction from its server's side.
const JUNCTION: f64 = 48.0;
const ROW: f64 = 118.0;
const MARGIN: f64 = 40.0;
/// Colour of what stalls: a stalled pipe, a producer blocked on it.
const STALLED: &str = "#c62828";

/// Escapes text for XML content and attributes.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Layer of every node: longest path from the sources (cycles broken at
/// the node with the fewest pending inputs); nodes without outputs go to
/// the last layer.
fn layers(n: usize, edges: &[(usize, usize)]) -> Vec<usize> {
    let mut indegree = vec![0usize; n];
    for &(_, b) in edges {
        indegree[b] += 1;
    }
    let mut layer = vec![0usize; n];
    let mut done = vec![false; n];
    for _ in 0..n {
        let next = (0..n)
            .filter(|&i| !done[i])
            .min_by_key(|&i| (indegree[i], i));
        let Some(v) = next else { break };
        done[v] = true;
        for &(a, b) in edges {
            if a == v && !done[b] {
                indegree[b] = indegree[b].saturating_sub(1);
                layer[b] = layer[b].max(layer[v] + 1);
            }
        }
    }
    let last = layer.iter().copied().max().unwrap_or(0);
    for (v, l) in layer.iter_mut().enumerate() {
        let has_out = edges.iter().any(|&(a, b)| a == v && b != v);
        let has_in = edges.iter().any(|&(a, b)| b == v && a != v);
        if !has_out && has_in {
            *l = last;
        }
    }
    layer
}

/// The drawing.
pub fn render(t: &Topology) -> String {
    let mut g = t.graph();
    g.edges.retain(|e| match &e.kind {
        EdgeKind::Pipe(c) => c.state != "closed" && c.state != "failed",
        EdgeKind::Stub | EdgeKind::Route(_) => true,
    });
    let index: BTreeMap<&str, usize> = g
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let n = g.nodes.len();
    // Layers and rows are computed over the servers and the other kernels'
    // ends of routes; a fan junction sits right next to its server.
    let owner: Vec<usize> = g
        .nodes
        .iter()
        .enumerate()
        .map(|(v, node)| match node.kind {
            NodeKind::Server { .. } | NodeKind::Remote => v,
            NodeKind::FanOut | NodeKind::FanIn => node
                .label
                .split_once('.')
                .and_then(|(server, _)| index.get(server).copied())
                .unwrap_or(v),
        })
        .collect();
    let servers: Vec<usize> = (0..n).filter(|&v| owner[v] == v).collect();
    let slot: BTreeMap<usize, usize> = servers.iter().enumerate().map(|(k, &v)| (v, k)).collect();
    let edges: Vec<(usize, usize)> = g
        .edges
        .iter()
        .filter(|e| !matches!(e.kind, EdgeKind::Stub))
        .filter_map(|e| {
            let a = owner[*index.get(e.from.as_str())?];
            let b = owner[*index.get(e.to.as_str())?];
            Some((*slot.get(&a)?, *slot.get(&b)?))
        })
        .collect();
    let m = servers.len();
    let layer = layers(m, &edges);
    let columns = layer.iter().copied().max().map_or(0, |x| x + 1);
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); columns];
    for v in 0..m {
        rows[layer[v]].push(v);
    }
    // Barycenter ordering, two sweeps left to right.
    for _ in 0..2 {
        let mut pos = vec![0.0f64; m];
        for row in &rows {
            for (k, &v) in row.iter().enumerate() {
                pos[v] = k as f64;
            }
        }
        for row in rows.iter_mut().skip(1) {
            let mut keyed: Vec<(f64, usize)> = row
                .iter()
                .enumerate()
                .map(|(k, &v)| {
                    let preds: Vec<f64> = edges
                        .iter()
                        .filter(|&&(a, b)| b == v && layer[a] < layer[v])
                        .map(|&(a, _)| pos[a])
                        .collect();
                    let key = if preds.is_empty() {
                        k as f64
                    } else {
                        preds.iter().sum::<f64>() / preds.len() as f64
                    };
                    (key, v)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
            *row = keyed.into_iter().map(|(_, v)| v).collect();
            for (k, &v) in row.iter().enumerate() {
                pos[v] = k as f64;
            }
        }
    }
    let tallest = rows.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let width = MARGIN * 2.0 + (columns.max(1) - 1) as f64 * COLUMN + SERVER_W;
    let top = 56.0;
    let height = top + tallest as f64 * ROW + 70.0;
    // Centre of every node: servers on the grid, junctions beside them.
    let mut centre = vec![(0.0f64, 0.0f64); n];
    for (l, row) in rows.iter().enumerate() {
        let offset = (tallest - row.len()) as f64 * ROW / 2.0;
        for (k, &v) in row.iter().enumerate() {
            centre[servers[v]] = (
                MARGIN + SERVER_W / 2.0 + l as f64 * COLUMN,
                top + offset + k as f64 * ROW + ROW / 2.0,
            );
        }
    }
    for v in 0..n {
        let (x, y) = centre[owner[v]];
        match g.nodes[v].kind {
            NodeKind::FanOut => centre[v] = (x + SERVER_W / 2.0 + JUNCTION, y),
            NodeKind::FanIn => centre[v] = (x - SERVER_W / 2.0 - JUNCTION, y),
            NodeKind::Server { .. } | NodeKind::Remote => {}
        }
    }
    let half_w = |v: usize| match g.nodes[v].kind {
        NodeKind::Server { .. } | NodeKind::Remote => SERVER_W / 2.0,
        NodeKind::FanOut | NodeKind::FanIn => FAN_R,
    };

    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" id="topology" viewBox="0 0 {width:.0} {height:.0}" width="{width:.0}" height="{height:.0}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" data-kernel="{}">"#,
        xml(&t.kernel.name)
    );
    // The snapshot drawn, for pages that show tables next to the drawing:
    // one snapshot, so the same states and rates in both.
    let _ = writeln!(
        out,
        r#"<metadata id="snapshot">{}</metadata>"#,
        xml(&serde_json::to_string(t).unwrap_or_default())
    );
    out.push_str(
        r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="12" markerHeight="12" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>"##,
    );
    out.push('\n');
    let _ = writeln!(
        out,
        r##"<text x="{MARGIN}" y="28" font-size="16" font-weight="bold" fill="#222">kernel {} · {} · {} servers · {} connections{} · up {:.0} s</text>"##,
        xml(&t.kernel.name),
        xml(&t.kernel.fqdn),
        t.servers.len(),
        t.active().count(),
        match t.routes.len() {
            0 => String::new(),
            1 => " · 1 route".to_owned(),
            n => format!(" · {n} routes"),
        },
        t.kernel.uptime_s
    );
    // Edges under nodes.
    for e in &g.edges {
        let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str())) else {
            continue;
        };
        let (ax, ay) = centre[a];
        let (bx, by) = centre[b];
        let (x1, y1) = (ax + half_w(a), ay);
        let (x2, y2) = (bx - half_w(b), by);
        let backwards = x2 <= x1;
        let path = if backwards {
            let drop = height - 40.0;
            format!(
                "M{x1:.1},{y1:.1} C{:.1},{drop:.1} {:.1},{drop:.1} {x2:.1},{y2:.1}",
                x1 + 60.0,
                x2 - 60.0
            )
        } else {
            let dx = (x2 - x1) / 2.0;
            format!(
                "M{x1:.1},{y1:.1} C{:.1},{y1:.1} {:.1},{y2:.1} {x2:.1},{y2:.1}",
                x1 + dx,
                x2 - dx
            )
        };
        match &e.kind {
            EdgeKind::Stub => {
                let _ = writeln!(
                    out,
                    r##"<path class="stub" d="{path}" stroke="#555" stroke-width="3" fill="none"/>"##
                );
            }
            EdgeKind::Route(r) => {
                let colour = route_colour(r);
                let (mx, my) = ((x1 + x2) / 2.0, (y1 + y2) / 2.0);
                let _ = writeln!(
                    out,
                    r##"<g class="route" id="route-{id}" data-id="{id}" data-from="{from}" data-to="{to}" data-direction="{direction}" data-state="{state}" data-sent="{sent}" data-received="{received}" data-lost="{lost}"><title>{from} → {to}
{label}</title><path d="{path}" stroke="{colour}" stroke-width="4" fill="none" stroke-dasharray="12 5" marker-end="url(#arrow)"/><rect x="{rx:.1}" y="{ry:.1}" width="150" height="30" rx="4" fill="#ffffff" fill-opacity="0.9" stroke="{colour}"/><text x="{mx:.1}" y="{ty1:.1}" font-size="11" text-anchor="middle" fill="#111">route {state}</text><text x="{mx:.1}" y="{ty2:.1}" font-size="9" text-anchor="middle" fill="#444">sent {sent} · recv {received} · lost {lost}</text></g>"##,
                    id = xml(&r.id),
                    from = xml(&r.from),
                    to = xml(&r.to),
                    direction = xml(&r.direction),
                    state = xml(&r.state),
                    sent = r.sent,
                    received = r.received,
                    lost = r.lost,
                    label = xml(&route_label(r)),
                    rx = mx - 75.0,
                    ry = my - 15.0,
                    ty1 = my - 2.0,
                    ty2 = my + 11.0,
                );
            }
            EdgeKind::Pipe(c) => {
                let colour = if c.stalled {
                    STALLED
                } else {
                    fill_colour(c.fill, &c.state)
                };
                let (class, width, flow_text) = if c.stalled {
                    (
                        "conn stalled",
                        7,
                        format!("STALLED {:.1} s", c.since_taken_ns as f64 / 1e9),
                    )
                } else {
                    ("conn", 4, rate_text(c.rate))
                };
                let dash = match c.state.as_str() {
                    "paused" => r#" stroke-dasharray="8 5""#,
                    "draining" => r#" stroke-dasharray="2 4""#,
                    _ => "",
                };
                let (mx, my) = if backwards {
                    ((x1 + x2) / 2.0, height - 40.0)
                } else {
                    ((x1 + x2) / 2.0, (y1 + y2) / 2.0)
                };
                let _ = writeln!(
                    out,
                    r##"<g class="{class}" id="conn-{id}" data-id="{id}" data-from="{from}" data-to="{to}" data-state="{state}" data-stalled="{stalled}" data-rate="{rate:.3}" data-fill="{fill:.4}" data-queue="{q}"><title>{from} → {to}
{state} · {rate_text} · queue {q}/{cap} · in {min} out {mout} · drops {drops}</title><path d="{path}" stroke="{colour}" stroke-width="{width}" fill="none"{dash} marker-end="url(#arrow)"/><rect x="{rx:.1}" y="{ry:.1}" width="108" height="30" rx="4" fill="#ffffff" fill-opacity="0.9" stroke="{colour}"/><text x="{mx:.1}" y="{ty1:.1}" font-size="11" text-anchor="middle" fill="{text_colour}" font-weight="{weight}" class="rate">{flow_text}</text><text x="{mx:.1}" y="{ty2:.1}" font-size="9" text-anchor="middle" fill="#444" class="queue">{state} · q {q}/{cap}</text></g>"##,
                    stalled = c.stalled,
                    flow_text = xml(&flow_text),
                    text_colour = if c.stalled { STALLED } else { "#111" },
                    weight = if c.stalled { "bold" } else { "normal" },
                    id = xml(&c.id),
                    from = xml(&c.from),
                    to = xml(&c.to),
                    state = xml(&c.state),
                    rate = c.rate,
                    fill = c.fill,
                    q = c.queue_depth,
                    cap = c.capacity,
                    min = c.messages_in,
                    mout = c.messages_out,
                    drops = c.drops,
                    rate_text = xml(&rate_text(c.rate)),
                    rx = mx - 54.0,
                    ry = my - 15.0,
                    ty1 = my - 2.0,
                    ty2 = my + 11.0,
                );
            }
        }
    }
    for (v, node) in g.nodes.iter().enumerate() {
        let (cx, cy) = centre[v];
        match &node.kind {
            NodeKind::Server { state, type_path } => {
                let restarts = t.server(&node.id).map(|s| s.restarts).unwrap_or_default();
                let x = cx - SERVER_W / 2.0;
                let y = cy - SERVER_H / 2.0;
                let _ = writeln!(
                    out,
                    r##"<g class="server" id="server-{name}" data-name="{name}" data-state="{state}"><title>{name}: {type_path} ({state}, {restarts} restarts)</title><rect x="{x:.1}" y="{y:.1}" width="{SERVER_W}" height="{SERVER_H}" rx="9" fill="{fill}" stroke="#333" stroke-width="1.5"/><text x="{cx:.1}" y="{t1:.1}" font-size="14" font-weight="bold" text-anchor="middle" fill="#111">{name}</text><text x="{cx:.1}" y="{t2:.1}" font-size="10" text-anchor="middle" fill="#444">{short}</text><text x="{cx:.1}" y="{t3:.1}" font-size="11" text-anchor="middle" fill="#111" class="state">{state}{restart_note}</text></g>"##,
                    name = xml(&node.id),
                    state = xml(state),
                    type_path = xml(type_path),
                    fill = state_colour(state),
                    short = xml(type_path.rsplit("::").next().unwrap_or(type_path)),
                    restart_note = if restarts > 0 {
                        format!(" · {restarts} restarts")
                    } else {
                        String::new()
                    },
                    t1 = cy - 9.0,
                    t2 = cy + 7.0,
                    t3 = cy + 23.0,
                );
            }
            NodeKind::Remote => {
                // A guest identity is long: the box shows its start, the
                // title all of it.
                let short: String = node.label.chars().take(26).collect();
                let ellipsis = if short.len() < node.label.len() {
                    "…"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    r##"<g class="remote" data-name="{label}"><title>another kernel: {label}</title><rect x="{x:.1}" y="{y:.1}" width="{SERVER_W}" height="{SERVER_H}" rx="9" fill="#ffffff" stroke="#555" stroke-width="1.5" stroke-dasharray="6 4"/><text x="{cx:.1}" y="{t1:.1}" font-size="11" text-anchor="middle" fill="#444">another kernel</text><text x="{cx:.1}" y="{t2:.1}" font-size="10" text-anchor="middle" fill="#111">{short}{ellipsis}</text></g>"##,
                    label = xml(&node.label),
                    short = xml(&short),
                    x = cx - SERVER_W / 2.0,
                    y = cy - SERVER_H / 2.0,
                    t1 = cy - 4.0,
                    t2 = cy + 12.0,
                );
            }
            NodeKind::FanOut | NodeKind::FanIn => {
                let (what, points) = if node.kind == NodeKind::FanOut {
                    (
                        "fan-out",
                        format!(
                            "{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
                            cx - FAN_R,
                            cy - FAN_R,
                            cx + FAN_R,
                            cy,
                            cx - FAN_R,
                            cy + FAN_R
                        ),
                    )
                } else {
                    (
                        "fan-in",
                        format!(
                            "{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
                            cx - FAN_R,
                            cy,
                            cx + FAN_R,
                            cy - FAN_R,
                            cx + FAN_R,
                            cy + FAN_R
                        ),
                    )
                };
                let _ = writeln!(
                    out,
                    r##"<g class="fan {what}" data-terminal="{label}"><title>{what} at {label}</title><polygon points="{points}" fill="#666"/><text x="{cx:.1}" y="{ty:.1}" font-size="10" text-anchor="middle" fill="#333">{what}</text><text x="{cx:.1}" y="{ty2:.1}" font-size="9" text-anchor="middle" fill="#666">{label}</text></g>"##,
                    label = xml(&node.label),
                    ty = cy - FAN_R - 16.0,
                    ty2 = cy - FAN_R - 5.0,
                );
            }
        }
    }
    // Legend.
    let ly = height - 16.0;
    let mut lx = MARGIN;
    for (text, colour) in [
        ("queue < 50 %", "#2e7d32"),
        ("50-90 %", "#f9a825"),
        ("> 90 %", "#c62828"),
        ("paused", "#1e88e5"),
        ("draining", "#8e24aa"),
        ("STALLED", STALLED),
        ("route", "#1565c0"),
    ]
    .into_iter()
    .filter(|(text, _)| *text != "route" || !t.routes.is_empty())
    {
        let _ = writeln!(
            out,
            r##"<line x1="{lx:.0}" y1="{ly:.0}" x2="{:.0}" y2="{ly:.0}" stroke="{colour}" stroke-width="4"/><text x="{:.0}" y="{:.0}" font-size="11" fill="#333">{text}</text>"##,
            lx + 26.0,
            lx + 32.0,
            ly + 4.0,
            text = xml(text)
        );
        lx += 130.0;
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_put_sources_left_and_sinks_right_even_in_cycles() {
        // 0 -> 1 -> 2, 0 -> 3 (sink), 1 <-> 4
        let l = layers(5, &[(0, 1), (1, 2), (0, 3), (1, 4), (4, 1)]);
        assert_eq!(l[0], 0);
        assert!(l[1] > l[0]);
        assert_eq!(l[3], l.iter().copied().max().unwrap());
        assert_eq!(l[2], l[3]);
        assert_eq!(xml("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}

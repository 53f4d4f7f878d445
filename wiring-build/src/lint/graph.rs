//! The wiring graph: servers as nodes, pipes as edges; its loops (W0601).

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{HashMap, VecDeque};

use super::{Linter, Pipe, quoted_list};
use crate::diagnostic::{Code, Finding};

/// One loop: the pipe indices in order, the last one ending where the first began.
pub type Loop = Vec<usize>;

/// Every strongly connected group of servers that holds a loop gives one loop,
/// the shortest one through its first server (in file order).
///
/// `edges[i]` is pipe `i` as (producer server, consumer server).
fn loops(servers: usize, edges: &[(usize, usize)]) -> Vec<Loop> {
    let mut graph = DiGraph::<usize, usize>::with_capacity(servers, edges.len());
    for server in 0..servers {
        graph.add_node(server);
    }
    for (pipe, (from, to)) in edges.iter().enumerate() {
        if *from < servers && *to < servers {
            graph.add_edge(NodeIndex::new(*from), NodeIndex::new(*to), pipe);
        }
    }
    let mut self_loop = vec![false; servers];
    // Pipes leaving each server, in file order.
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); servers];
    for (pipe, &(from, to)) in edges.iter().enumerate() {
        if from < servers && to < servers {
            out[from].push(pipe);
            if from == to {
                self_loop[from] = true;
            }
        }
    }
    let mut member = vec![false; servers];
    let mut loops = Vec::new();
    for component in tarjan_scc(&graph) {
        let members: Vec<usize> = component.iter().map(|n| n.index()).collect();
        let Some(&start) = members.iter().min() else {
            continue;
        };
        if members.len() < 2 && !self_loop[start] {
            continue;
        }
        for &m in &members {
            member[m] = true;
        }
        if let Some(found) = shortest_loop(start, &member, &out, edges) {
            loops.push(found);
        }
        for &m in &members {
            member[m] = false;
        }
    }
    loops.sort_by_key(|l| l.iter().copied().min());
    loops
}

/// The shortest loop through `start` among the servers marked in `member`,
/// preferring earlier pipes; `out[s]` lists the pipes leaving server `s` in
/// file order.
fn shortest_loop(
    start: usize,
    member: &[bool],
    out: &[Vec<usize>],
    edges: &[(usize, usize)],
) -> Option<Loop> {
    // Breadth first over servers; `via[s]` is the pipe that first reached `s`.
    let mut via: HashMap<usize, usize> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(server) = queue.pop_front() {
        for &pipe in out.get(server)? {
            let to = edges[pipe].1;
            if !member.get(to).copied().unwrap_or(false) {
                continue;
            }
            if to == start {
                // Walk back from `server` to `start`.
                let mut path = vec![pipe];
                let mut at = server;
                while at != start {
                    let back = *via.get(&at)?;
                    path.push(back);
                    at = edges[back].0;
                }
                path.reverse();
                return Some(path);
            }
            if let std::collections::hash_map::Entry::Vacant(e) = via.entry(to) {
                e.insert(pipe);
                queue.push_back(to);
            }
        }
    }
    None
}

impl Linter<'_> {
    pub(super) fn cycles(&mut self, pipes: &[Pipe]) {
        let edges: Vec<(usize, usize)> =
            pipes.iter().map(|p| (p.from.server, p.to.server)).collect();
        for found in loops(self.wiring.servers.len(), &edges) {
            let Some(&closing) = found.last() else {
                continue;
            };
            let steps: Vec<String> = found
                .iter()
                .map(|&i| {
                    let pipe = &pipes[i];
                    format!(
                        "{} -> {}  (line {})",
                        self.name(pipe.from),
                        self.name(pipe.to),
                        self.line_of(pipe.span.start)
                    )
                })
                .collect();
            let servers: Vec<String> = found
                .iter()
                .map(|&i| self.wiring.servers[pipes[i].from.server].name.value.clone())
                .collect();
            let closing_pipe = &pipes[closing];
            let finding = Finding::new(
                Code::Cycle,
                closing_pipe.span.clone(),
                format!(
                    "pipes form a cycle through {}",
                    quoted_list(&servers)
                ),
            )
            .label("this pipe closes the loop")
            .note(format!("the loop, one pipe per line:\n{}", steps.join("\n")))
            .help("bounded pipes in a loop can deadlock once they are full; break the loop, or make sure a server in it never blocks");
            self.report_lint(finding);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_loop_once() {
        // 0 -> 1 -> 2 -> 0, 2 -> 3, 3 -> 3, 4 -> 5
        let edges = [(0, 1), (1, 2), (2, 0), (2, 3), (3, 3), (4, 5)];
        assert_eq!(loops(6, &edges), vec![vec![0, 1, 2], vec![4]]);
    }

    #[test]
    fn no_loop_no_finding() {
        assert!(loops(3, &[(0, 1), (1, 2), (0, 2)]).is_empty());
        assert!(loops(0, &[]).is_empty());
    }

    #[test]
    fn picks_the_shortest_loop() {
        // 0 -> 1 -> 2 -> 0 and 0 -> 2 -> 0
        let edges = [(0, 1), (1, 2), (2, 0), (0, 2)];
        assert_eq!(loops(3, &edges), vec![vec![3, 2]]);
    }
}

//! The wiring graph: servers as nodes, pipes as edges; finds the loops.

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::VecDeque;

/// One loop: the pipe indices in order, the last one ending where the first began.
pub type Loop = Vec<usize>;

/// Every strongly connected group of servers that holds a loop gives one loop,
/// the shortest one through its first server (in file order).
///
/// `edges[i]` is pipe `i` as (producer server, consumer server).
pub fn loops(servers: usize, edges: &[(usize, usize)]) -> Vec<Loop> {
    let mut graph = DiGraph::<usize, usize>::with_capacity(servers, edges.len());
    for server in 0..servers {
        graph.add_node(server);
    }
    for (pipe, (from, to)) in edges.iter().enumerate() {
        if *from < servers && *to < servers {
            graph.add_edge(NodeIndex::new(*from), NodeIndex::new(*to), pipe);
        }
    }
    let mut loops = Vec::new();
    for component in tarjan_scc(&graph) {
        let members: Vec<usize> = component.iter().map(|n| n.index()).collect();
        let Some(&start) = members.iter().min() else {
            continue;
        };
        let self_loop = edges.iter().any(|(f, t)| *f == start && *t == start);
        if members.len() < 2 && !self_loop {
            continue;
        }
        if let Some(found) = shortest_loop(start, &members, edges) {
            loops.push(found);
        }
    }
    loops.sort_by_key(|l| l.iter().copied().min());
    loops
}

/// The shortest loop through `start` inside `members`, preferring earlier pipes.
fn shortest_loop(start: usize, members: &[usize], edges: &[(usize, usize)]) -> Option<Loop> {
    // Breadth first over servers; `via[s]` is the pipe that first reached `s`.
    let mut via: Vec<Option<usize>> = vec![None; edges.iter().map(|(f, t)| f.max(t) + 1).max()?];
    let mut queue = VecDeque::from([start]);
    while let Some(server) = queue.pop_front() {
        for (pipe, (from, to)) in edges.iter().enumerate() {
            if *from != server || !members.contains(to) {
                continue;
            }
            if *to == start {
                // Walk back from `server` to `start`.
                let mut path = vec![pipe];
                let mut at = server;
                while at != start {
                    let back = via[at]?;
                    path.push(back);
                    at = edges[back].0;
                }
                path.reverse();
                return Some(path);
            }
            if via[*to].is_none() {
                via[*to] = Some(pipe);
                queue.push_back(*to);
            }
        }
    }
    None
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

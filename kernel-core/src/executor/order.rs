//! Boot order: consumers before producers.
//!
//! The rule: of the servers still to boot, the first in wiring order whose
//! consumers have all booted boots next. When none is ready the rest sit on
//! cycles; then the first in wiring order whose waiting consumers all lead
//! back to it (all lie in its strongly connected component of the servers
//! still waiting) boots next, and the rule applies again.
//!
//! Servers ready to boot wait in a min-heap, so an acyclic wiring costs
//! O((n + pipes) log n) and no components are computed. Strongly connected
//! components are computed when the order first gets stuck on a cycle, and
//! after that only for the components that lost a server since the last
//! time. Booting one server of a ring frees the rest as a chain, so a ring
//! is walked twice; only a dense component, which stays strongly connected
//! as its servers boot one by one, is walked once per server it loses.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use crate::connectome::Spec;

/// The order in which to boot the servers of `spec` (indices into
/// `spec.servers`). A server with `present[i] == false` was never added: it
/// does not boot and counts as booted for its producers.
pub(super) fn boot_order(spec: &Spec, present: &[bool]) -> Vec<usize> {
    let index: HashMap<&str, usize> = spec
        .servers
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name, i))
        .collect();
    let pipes = spec
        .pipes
        .iter()
        .filter_map(|p| Some((*index.get(p.from.server)?, *index.get(p.to.server)?)));
    order(spec.servers.len(), pipes, present)
}

/// [`boot_order`] on servers `0..n` and pipes given as (producer, consumer).
fn order(
    n: usize,
    pipes: impl IntoIterator<Item = (usize, usize)>,
    present: &[bool],
) -> Vec<usize> {
    let mut consumers: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, j) in pipes {
        if i != j {
            consumers[i].push(j);
        }
    }
    for c in &mut consumers {
        c.sort_unstable();
        c.dedup();
    }
    let mut producers: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, c) in consumers.iter().enumerate() {
        for &j in c {
            producers[j].push(i);
        }
    }
    Order::new(consumers, producers, present).run()
}

struct Order {
    consumers: Vec<Vec<usize>>,
    producers: Vec<Vec<usize>>,
    waiting: Vec<bool>,
    /// Consumers still waiting, per server.
    blocking: Vec<usize>,
    /// Servers whose consumers have all booted.
    ready: BinaryHeap<Reverse<usize>>,
    /// Component of each server; stale for components in `stale`.
    component: Vec<usize>,
    members: Vec<Vec<usize>>,
    stale: Vec<usize>,
    is_stale: Vec<bool>,
    /// Waiting consumers outside the server's own component, per server.
    outside: Vec<usize>,
    /// Servers whose waiting consumers all lie in their component.
    breakers: BinaryHeap<Reverse<usize>>,
    tarjan: Tarjan,
}

impl Order {
    fn new(consumers: Vec<Vec<usize>>, producers: Vec<Vec<usize>>, present: &[bool]) -> Self {
        let n = consumers.len();
        // A server past the end of `present` was not marked absent: it boots.
        let waiting: Vec<bool> = (0..n)
            .map(|i| present.get(i).copied().unwrap_or(true))
            .collect();
        let blocking: Vec<usize> = consumers
            .iter()
            .map(|c| c.iter().filter(|&&j| waiting[j]).count())
            .collect();
        let ready = (0..n)
            .filter(|&i| waiting[i] && blocking[i] == 0)
            .map(Reverse)
            .collect();
        // Until the first cycle is met, all waiting servers count as one
        // stale component: nothing is computed for acyclic kernels.
        Self {
            consumers,
            producers,
            blocking,
            ready,
            component: vec![0; n],
            members: vec![(0..n).filter(|&i| waiting[i]).collect()],
            stale: vec![0],
            is_stale: vec![true],
            outside: vec![0; n],
            breakers: BinaryHeap::new(),
            tarjan: Tarjan::new(n),
            waiting,
        }
    }

    fn run(mut self) -> Vec<usize> {
        let mut left = self.waiting.iter().filter(|w| **w).count();
        let mut order = Vec::with_capacity(left);
        while left > 0 {
            let next = match pop_while(&mut self.ready, |i| !self.waiting[i]) {
                Some(i) => Some(i),
                None => {
                    self.refresh();
                    let (waiting, outside) = (&self.waiting, &self.outside);
                    pop_while(&mut self.breakers, |i| !waiting[i] || outside[i] > 0)
                }
            };
            // Stuck servers always include a component no pipe leaves, whose
            // servers are all breakers: `None` cannot happen.
            let Some(i) = next else { break };
            self.boot(i);
            order.push(i);
            left -= 1;
        }
        order
    }

    fn boot(&mut self, i: usize) {
        self.waiting[i] = false;
        let c = self.component[i];
        if !std::mem::replace(&mut self.is_stale[c], true) {
            self.stale.push(c);
        }
        for &p in &self.producers[i] {
            if !self.waiting[p] {
                continue;
            }
            self.blocking[p] -= 1;
            if self.blocking[p] == 0 {
                self.ready.push(Reverse(p));
            }
            // Components only split as servers boot, so servers of distinct
            // components stay apart; within a stale one, `refresh` recounts.
            if self.component[p] != c {
                self.outside[p] -= 1;
                if self.outside[p] == 0 {
                    self.breakers.push(Reverse(p));
                }
            }
        }
    }

    /// Recomputes the components that lost a server, and the breakers in them.
    fn refresh(&mut self) {
        for old in std::mem::take(&mut self.stale) {
            let nodes: Vec<usize> = std::mem::take(&mut self.members[old])
                .into_iter()
                .filter(|&i| self.waiting[i])
                .collect();
            let first = self.members.len();
            self.tarjan.run(
                &nodes,
                &self.consumers,
                |j| self.waiting[j] && self.component[j] == old,
                &mut self.members,
            );
            for c in first..self.members.len() {
                self.is_stale.push(false);
                for &i in &self.members[c] {
                    self.component[i] = c;
                }
            }
            for &i in &nodes {
                let c = self.component[i];
                self.outside[i] = self.consumers[i]
                    .iter()
                    .filter(|&&j| self.waiting[j] && self.component[j] != c)
                    .count();
                if self.outside[i] == 0 {
                    self.breakers.push(Reverse(i));
                }
            }
        }
    }
}

/// Pops the smallest entry that `skip` does not reject.
fn pop_while(heap: &mut BinaryHeap<Reverse<usize>>, skip: impl Fn(usize) -> bool) -> Option<usize> {
    while let Some(Reverse(i)) = heap.pop() {
        if !skip(i) {
            return Some(i);
        }
    }
    None
}

/// Tarjan's strongly connected components, iterative (wirings can hold
/// chains deeper than a thread's stack), reusing its buffers between runs.
struct Tarjan {
    /// Visit number + 1 of each server in the current run; 0: not visited.
    number: Vec<usize>,
    low: Vec<usize>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    /// Depth-first path: server and position in its consumer list.
    path: Vec<(usize, usize)>,
}

impl Tarjan {
    fn new(n: usize) -> Self {
        Self {
            number: vec![0; n],
            low: vec![0; n],
            on_stack: vec![false; n],
            stack: Vec::new(),
            path: Vec::new(),
        }
    }

    /// Appends the components of the subgraph on `nodes` (edges to servers
    /// that `inside` accepts) to `out`.
    fn run(
        &mut self,
        nodes: &[usize],
        consumers: &[Vec<usize>],
        inside: impl Fn(usize) -> bool,
        out: &mut Vec<Vec<usize>>,
    ) {
        for &i in nodes {
            self.number[i] = 0;
        }
        let mut count = 0;
        for &root in nodes {
            if self.number[root] != 0 {
                continue;
            }
            count += 1;
            self.enter(root, count);
            while let Some(&(i, next)) = self.path.last() {
                if let Some(&j) = consumers[i].get(next) {
                    if let Some(top) = self.path.last_mut() {
                        top.1 += 1;
                    }
                    if !inside(j) {
                        continue;
                    }
                    if self.number[j] == 0 {
                        count += 1;
                        self.enter(j, count);
                    } else if self.on_stack[j] {
                        self.low[i] = self.low[i].min(self.number[j]);
                    }
                    continue;
                }
                self.path.pop();
                if let Some(&(parent, _)) = self.path.last() {
                    self.low[parent] = self.low[parent].min(self.low[i]);
                }
                if self.low[i] == self.number[i] {
                    let mut component = Vec::new();
                    while let Some(j) = self.stack.pop() {
                        self.on_stack[j] = false;
                        component.push(j);
                        if j == i {
                            break;
                        }
                    }
                    out.push(component);
                }
            }
        }
    }

    fn enter(&mut self, i: usize, number: usize) {
        self.number[i] = number;
        self.low[i] = number;
        self.on_stack[i] = true;
        self.stack.push(i);
        self.path.push((i, 0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The selection loop this module replaces, kept as the reference.
    fn reference(n: usize, pipes: &[(usize, usize)], present: &[bool]) -> Vec<usize> {
        let mut downstream = vec![std::collections::BTreeSet::new(); n];
        for &(i, j) in pipes {
            if i != j {
                downstream[i].insert(j);
            }
        }
        let reaches = |done: &[bool], from: usize, to: usize| {
            let mut seen = vec![false; n];
            let mut stack = vec![from];
            while let Some(i) = stack.pop() {
                if i == to {
                    return true;
                }
                if !std::mem::replace(&mut seen[i], true) {
                    stack.extend(downstream[i].iter().filter(|&&j| !done[j] || j == to));
                }
            }
            false
        };
        let mut done: Vec<bool> = (0..n)
            .map(|i| !present.get(i).copied().unwrap_or(true))
            .collect();
        let mut order = Vec::new();
        while let Some(i) = (0..n)
            .find(|&i| !done[i] && downstream[i].iter().all(|&j| done[j]))
            .or_else(|| {
                (0..n).find(|&i| {
                    !done[i]
                        && downstream[i]
                            .iter()
                            .all(|&j| done[j] || reaches(&done, j, i))
                })
            })
        {
            done[i] = true;
            order.push(i);
        }
        order
    }

    #[test]
    fn chain_boots_from_the_sink() {
        assert_eq!(order(4, [(0, 1), (1, 2), (2, 3)], &[true; 4]), [3, 2, 1, 0]);
    }

    #[test]
    fn fan_out_boots_every_consumer_first() {
        assert_eq!(order(4, [(0, 1), (0, 2), (0, 3)], &[true; 4]), [1, 2, 3, 0]);
    }

    #[test]
    fn fan_in_boots_the_consumer_then_producers_in_wiring_order() {
        assert_eq!(order(4, [(1, 0), (3, 0), (2, 0)], &[true; 4]), [0, 1, 2, 3]);
    }

    #[test]
    fn cycle_boots_first_server_whose_consumers_lead_back() {
        // 0 -> 1 -> 2 -> 1, and 2 -> 3: 3 first; then 1 and 2 are stuck on
        // their cycle and 1, whose only consumer 2 leads back, breaks it;
        // then 0 and 2 are ready, 0 first in wiring order.
        assert_eq!(
            order(4, [(0, 1), (1, 2), (2, 1), (2, 3)], &[true; 4]),
            [3, 1, 0, 2]
        );
        // A lone cycle, and a self loop that is no cycle.
        assert_eq!(order(3, [(0, 1), (1, 2), (2, 0)], &[true; 3]), [0, 2, 1]);
        assert_eq!(order(2, [(0, 0), (0, 1)], &[true; 2]), [1, 0]);
    }

    #[test]
    fn absent_servers_do_not_boot_and_do_not_hold_producers() {
        assert_eq!(order(3, [(0, 1), (1, 2)], &[true, false, true]), [0, 2]);
        assert_eq!(
            order(3, [(0, 1), (1, 0), (2, 0)], &[false, true, true]),
            [1, 2]
        );
        // Past the end of `present`: not marked absent, so it boots.
        assert_eq!(order(3, [(0, 1), (1, 2)], &[true]), [2, 1, 0]);
    }

    #[test]
    fn deep_ring_and_many_cycles_stay_fast() {
        // One ring of 100,000: no stack overflow in the component search.
        let n = 100_000;
        let ring = (0..n).map(|i| (i, (i + 1) % n));
        let got = order(n, ring, &vec![true; n]);
        assert_eq!(got.len(), n);
        assert_eq!(got[..3], [0, n - 1, n - 2]);
        // 50,000 pairs feeding each other, each pair fed by the next: a
        // selection loop takes quadratic time here.
        let pairs = (0..n / 2).flat_map(|k| {
            let (a, b) = (2 * k, 2 * k + 1);
            [(a, b), (b, a)]
                .into_iter()
                .chain((k > 0).then(|| (a, a - 2)))
        });
        let got = order(n, pairs, &vec![true; n]);
        assert_eq!(got[..4], [0, 1, 2, 3]);
        assert_eq!(got.len(), n);
    }

    #[test]
    fn matches_the_selection_loop_on_random_wirings() {
        // A small xorshift: deterministic, no dependency.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |bound: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % bound as u64) as usize
        };
        for _ in 0..2000 {
            let n = 1 + next(12);
            let pipes: Vec<(usize, usize)> = (0..next(3 * n)).map(|_| (next(n), next(n))).collect();
            let present: Vec<bool> = (0..n).map(|_| next(5) > 0).collect();
            assert_eq!(
                order(n, pipes.iter().copied(), &present),
                reference(n, &pipes, &present),
                "{n} servers, pipes {pipes:?}, present {present:?}"
            );
        }
    }

    /// Times the order against the selection loop it replaced on the
    /// benchmarks' synthetic wiring (units of 10 servers as in
    /// `benches/src/synth.rs`), without and with a pipe from each unit's sink
    /// back to its source. A measurement, not a check:
    /// `cargo test -p kernel --release --lib boot_order_timing -- --ignored --nocapture`
    #[test]
    #[ignore = "a measurement: run on its own, in release"]
    fn boot_order_timing() {
        // src s1 split a b c merge s2 s3 sink
        const UNIT: [(usize, usize); 11] = [
            (0, 1),
            (1, 2),
            (2, 3),
            (2, 4),
            (2, 5),
            (3, 6),
            (4, 6),
            (5, 6),
            (6, 7),
            (7, 8),
            (8, 9),
        ];
        for feedback in [false, true] {
            for units in [100, 1_000, 10_000] {
                let n = 10 * units;
                let pipes: Vec<(usize, usize)> = (0..units)
                    .flat_map(|u| {
                        let unit = UNIT.iter().map(move |&(a, b)| (10 * u + a, 10 * u + b));
                        unit.chain(feedback.then_some((10 * u + 9, 10 * u)))
                    })
                    .collect();
                let present = vec![true; n];
                let start = std::time::Instant::now();
                let new = order(n, pipes.iter().copied(), &present);
                let new_time = start.elapsed();
                // The selection loop is quadratic: 100,000 servers take it
                // seconds without cycles and much longer with them.
                let old_time = (!feedback || n <= 10_000).then(|| {
                    let start = std::time::Instant::now();
                    let old = reference(n, &pipes, &present);
                    let old_time = start.elapsed();
                    assert_eq!(old, new);
                    old_time
                });
                eprintln!(
                    "servers {n:>6} feedback {feedback:<5}  order {new_time:>10.2?}  selection loop {}",
                    old_time.map_or("-".to_string(), |t| format!("{t:.2?}"))
                );
            }
        }
    }
}

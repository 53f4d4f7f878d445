//! Property tests: fan-in and fan-out keep every message exactly once and in
//! per-producer order, whatever the counts and pipe capacities.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::*;
use kernel::{
    Combine, Input, KernelBuilder, Multiplex, Output, PipeSpec, Restart, ServerSpec, Spec,
};
use proptest::prelude::*;

static CASE: AtomicUsize = AtomicUsize::new(0);

fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

fn name(prefix: &str) -> &'static str {
    let n = CASE.fetch_add(1, Ordering::Relaxed);
    Box::leak(format!("{prefix}_{n}").into_boxed_str())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn fan_in_keeps_the_union_and_per_producer_order(
        counts in prop::collection::vec(0u64..300, 1..5),
        capacity in 1usize..8,
    ) {
        let kernel_name = name("fan_in_prop");
        let mut servers: Vec<ServerSpec> = counts
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let config: &'static str =
                    Box::leak(format!("count = {c}\ntag = {k}").into_boxed_str());
                server(name("p"), "Source", Restart::Never, Some(config))
            })
            .collect();
        servers.push(server("merge", "Merge", Restart::Never, None));
        let pipes: Vec<PipeSpec> = servers[..counts.len()]
            .iter()
            .enumerate()
            .map(|(k, s)| pipe(k as u128, (s.name, "out"), ("merge", "inputs"), capacity))
            .collect();
        let spec: &'static Spec = leak(Spec {
            kernel: kernel(kernel_name),
            servers: Box::leak(servers.into_boxed_slice()),
            pipes: Box::leak(pipes.into_boxed_slice()),
            ..PLAIN
        });

        let mut b = KernelBuilder::new(spec);
        b.server_default::<Merge>("merge").unwrap();
        for s in &spec.servers[..counts.len()] {
            b.server::<Source>(s.name).unwrap();
            b.connect_named::<Output<u64>, Combine<u64>>(&format!("{}.out", s.name), "merge.inputs")
                .unwrap();
        }
        b.build().unwrap().with_signal_handlers(false).run().unwrap();

        let mut next = vec![0u64; counts.len()];
        for v in received(kernel_name, "merge") {
            let (tag, i) = ((v >> 32) as usize, v & 0xffff_ffff);
            prop_assert_eq!(i, next[tag]);
            next[tag] += 1;
        }
        prop_assert_eq!(next, counts);
    }

    #[test]
    fn fan_out_gives_every_consumer_everything_in_order(
        consumers in 1usize..5,
        count in 0u64..500,
        capacity in 1usize..8,
    ) {
        let kernel_name = name("fan_out_prop");
        let config: &'static str = Box::leak(format!("count = {count}").into_boxed_str());
        let mut servers = vec![server("src", "FanSource", Restart::Never, Some(config))];
        servers.extend((0..consumers).map(|_| server(name("c"), "Sink", Restart::Never, None)));
        let pipes: Vec<PipeSpec> = servers[1..]
            .iter()
            .enumerate()
            .map(|(k, s)| pipe(k as u128, ("src", "out"), (s.name, "input"), capacity))
            .collect();
        let spec: &'static Spec = leak(Spec {
            kernel: kernel(kernel_name),
            servers: Box::leak(servers.into_boxed_slice()),
            pipes: Box::leak(pipes.into_boxed_slice()),
            ..PLAIN
        });

        let mut b = KernelBuilder::new(spec);
        b.server::<FanSource>("src").unwrap();
        for s in &spec.servers[1..] {
            b.server_default::<Sink>(s.name).unwrap();
            b.connect_named::<Multiplex<u64>, Input<u64>>("src.out", &format!("{}.input", s.name))
                .unwrap();
        }
        b.build().unwrap().with_signal_handlers(false).run().unwrap();

        for s in &spec.servers[1..] {
            prop_assert_eq!(received(kernel_name, s.name), (0..count).collect::<Vec<_>>());
        }
    }
}

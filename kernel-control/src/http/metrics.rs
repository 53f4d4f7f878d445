//! Metrics: `/metrics` in the Prometheus (OpenMetrics) text format through
//! `prometheus-client`, and `/api/v1/metrics` as JSON.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use serde_json::{Value, json};

use crate::topology::{Snapshot, Topology};
use kernel_core::Control;
use kernel_core::control::state::{ConnectionState, Machine, ServerState};

/// Reads a fresh topology on every scrape.
#[derive(Debug)]
struct KernelCollector {
    control: Control,
}

type Labels = Vec<(&'static str, String)>;

fn family<M: EncodeMetric>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    kind: MetricType,
    rows: Vec<(Labels, M)>,
) -> Result<(), std::fmt::Error> {
    let mut metric = encoder.encode_descriptor(name, help, None, kind)?;
    for (labels, value) in rows {
        let row = metric.encode_family(&labels)?;
        value.encode(row)?;
    }
    Ok(())
}

impl Collector for KernelCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let t = self.control.topology();
        let kernel = t.kernel.name.clone();
        let pipe_labels = |c: &crate::topology::ConnectionView| -> Labels {
            vec![
                ("kernel", kernel.clone()),
                ("pipe", c.id.clone()),
                ("from", c.from.clone()),
                ("to", c.to.clone()),
            ]
        };
        let per_pipe_counter = |f: &dyn Fn(&crate::topology::ConnectionView) -> u64| {
            t.connections
                .iter()
                .map(|c| (pipe_labels(c), ConstCounter::new(f(c))))
                .collect::<Vec<_>>()
        };
        family(
            &mut encoder,
            "pipe_messages_in",
            "Messages producers put into the pipe",
            MetricType::Counter,
            per_pipe_counter(&|c| c.messages_in),
        )?;
        family(
            &mut encoder,
            "pipe_messages_out",
            "Messages the consumer took out of the pipe",
            MetricType::Counter,
            per_pipe_counter(&|c| c.messages_out),
        )?;
        family(
            &mut encoder,
            "pipe_drops",
            "Messages the pipe never delivered (disconnect in drop mode, consumer ended)",
            MetricType::Counter,
            per_pipe_counter(&|c| c.drops),
        )?;
        family(
            &mut encoder,
            "pipe_blocked_seconds",
            "Time producers spent blocked on the full pipe",
            MetricType::Counter,
            t.connections
                .iter()
                .map(|c| (pipe_labels(c), ConstCounter::new(c.blocked_ns as f64 / 1e9)))
                .collect(),
        )?;
        family(
            &mut encoder,
            "pipe_queue_depth",
            "Messages waiting in the pipe",
            MetricType::Gauge,
            t.connections
                .iter()
                .map(|c| (pipe_labels(c), ConstGauge::new(c.queue_depth as i64)))
                .collect(),
        )?;
        family(
            &mut encoder,
            "pipe_capacity",
            "Capacity of the pipe in messages",
            MetricType::Gauge,
            t.connections
                .iter()
                .map(|c| (pipe_labels(c), ConstGauge::new(c.capacity as i64)))
                .collect(),
        )?;
        family(
            &mut encoder,
            "pipe_rate",
            "Messages per second out of the pipe over about the last second",
            MetricType::Gauge,
            t.connections
                .iter()
                .map(|c| (pipe_labels(c), ConstGauge::new(c.rate)))
                .collect(),
        )?;
        family(
            &mut encoder,
            "pipe_since_taken_seconds",
            "Time since the consumer last took a message out of the pipe",
            MetricType::Gauge,
            t.connections
                .iter()
                .map(|c| {
                    (
                        pipe_labels(c),
                        ConstGauge::new(c.since_taken_ns as f64 / 1e9),
                    )
                })
                .collect(),
        )?;
        family(
            &mut encoder,
            "pipe_stalled",
            "1 while messages are queued in the pipe but do not move (paused, or not taken for half a second)",
            MetricType::Gauge,
            t.connections
                .iter()
                .map(|c| (pipe_labels(c), ConstGauge::new(i64::from(c.stalled))))
                .collect(),
        )?;
        let mut states = Vec::new();
        for c in &t.connections {
            for s in ConnectionState::ALL {
                let mut labels = pipe_labels(c);
                labels.push(("state", s.as_str().to_owned()));
                states.push((labels, ConstGauge::new(i64::from(c.state == s.as_str()))));
            }
        }
        family(
            &mut encoder,
            "connection_state",
            "1 for the state the connection is in",
            MetricType::Gauge,
            states,
        )?;
        let mut states = Vec::new();
        for s in &t.servers {
            for state in ServerState::ALL {
                states.push((
                    vec![
                        ("kernel", kernel.clone()),
                        ("server", s.name.clone()),
                        ("state", state.as_str().to_owned()),
                    ],
                    ConstGauge::new(i64::from(s.state == state.as_str())),
                ));
            }
        }
        family(
            &mut encoder,
            "server_state",
            "1 for the state the server is in",
            MetricType::Gauge,
            states,
        )?;
        family(
            &mut encoder,
            "server_restarts",
            "Restarts of the server instance",
            MetricType::Counter,
            t.servers
                .iter()
                .map(|s| {
                    (
                        vec![("kernel", kernel.clone()), ("server", s.name.clone())],
                        ConstCounter::new(u64::from(s.restarts)),
                    )
                })
                .collect(),
        )?;
        let connectome = self.control.connectome();
        family(
            &mut encoder,
            "uptime_seconds",
            "Time since the kernel started running",
            MetricType::Gauge,
            vec![(
                vec![("kernel", kernel.clone())],
                ConstGauge::new(t.kernel.uptime_s),
            )],
        )?;
        family(
            &mut encoder,
            "transitions",
            "State transitions logged",
            MetricType::Counter,
            vec![(
                vec![("kernel", kernel.clone())],
                ConstCounter::new(connectome.events().last_seq()),
            )],
        )?;
        family(
            &mut encoder,
            "refused_transitions",
            "State transitions the tables refused",
            MetricType::Counter,
            vec![(
                vec![("kernel", kernel.clone())],
                ConstCounter::new(connectome.refused_transitions()),
            )],
        )?;
        Ok(())
    }
}

/// The Prometheus text of `control`'s kernel.
pub(crate) fn prometheus(control: &Control) -> Result<String, String> {
    let mut registry = Registry::with_prefix("kernel");
    registry.register_collector(Box::new(KernelCollector {
        control: control.clone(),
    }));
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &registry)
        .map_err(|e| format!("cannot encode the metrics: {e}"))?;
    Ok(out)
}

/// The same figures as JSON.
pub(crate) fn json(control: &Control) -> Value {
    let t: Topology = control.topology();
    let connectome = control.connectome();
    json!({
        "kernel": t.kernel.name,
        "uptime_s": t.kernel.uptime_s,
        "stopping": t.kernel.stopping,
        "servers": t.servers.iter().map(|s| json!({
            "name": s.name, "state": s.state, "restarts": s.restarts,
        })).collect::<Vec<_>>(),
        "connections": t.connections.iter().map(|c| json!({
            "id": c.id, "from": c.from, "to": c.to, "state": c.state,
            "messages_in": c.messages_in, "messages_out": c.messages_out,
            "queue_depth": c.queue_depth, "capacity": c.capacity, "fill": c.fill,
            "rate": c.rate, "blocked_ns": c.blocked_ns, "drops": c.drops,
            "since_taken_ns": c.since_taken_ns, "stalled": c.stalled,
        })).collect::<Vec<_>>(),
        "totals": {
            "messages_out": t.connections.iter().map(|c| c.messages_out).sum::<u64>(),
            "drops": t.connections.iter().map(|c| c.drops).sum::<u64>(),
        },
        "events": {
            "last_seq": connectome.events().last_seq(),
            "capacity": connectome.events().capacity(),
            "refused_transitions": connectome.refused_transitions(),
        },
    })
}

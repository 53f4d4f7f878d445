//! The live topology written back as `wiring.toml`, through the one model
//! and writer of the format ([`wiring_model::wiring`]).
//!
//! The export starts from the wiring file the kernel was built from (the
//! spec carries its text) and changes in it only what changed live: so
//! `[lints]`, `[[routes]]`, comments, layout and anything else the live
//! topology does not know stay as written, and an unchanged kernel exports
//! its wiring file byte for byte.

use std::collections::HashMap;

use wiring_model::wiring::{self, Connection, Kernel, Process, Server, Spanned};
use wiring_model::{Restart, server_uuid};

use super::{ConnectionView, Topology};

impl Topology {
    /// The live topology as a `wiring.toml` that builds the same kernel:
    /// `[control] listen`, every server with its type, config, restart
    /// policy (and uuid when it is not the default), every process with its
    /// command, arguments and restart policy (its `env` only as the wiring
    /// file had it: the live view leaves it out, it may hold secrets), every
    /// connection that still holds its terminals, fan-out and fan-in written
    /// as lists. Edits the wiring file the kernel was built from, if known.
    pub fn to_wiring_toml(&self) -> String {
        let original = self.wiring_source;
        let mut model = original
            .map(|text| wiring::parse(text).0)
            .unwrap_or_default();
        self.kernel_into(&mut model.kernel);
        let listen = model.control.listen.as_ref().map(|l| l.value.as_str());
        if listen != self.kernel.control_listen.as_deref() {
            model.control.listen = self.kernel.control_listen.clone().map(Spanned::unplaced);
        }
        model.servers = self.servers_into(std::mem::take(&mut model.servers));
        model.processes = self.processes_into(std::mem::take(&mut model.processes));
        model.connections = self.connections_into(std::mem::take(&mut model.connections));
        let text = wiring::write(&model, original);
        match original {
            Some(_) => text,
            None => format!(
                "# Exported from the live kernel `{}`.\n{text}",
                self.kernel.name
            ),
        }
    }

    fn kernel_into(&self, kernel: &mut Kernel) {
        keep_or_set(&mut kernel.name, &self.kernel.name, None);
        keep_or_set(
            &mut kernel.fqdn,
            &self.kernel.fqdn,
            Some(Kernel::DEFAULT_FQDN),
        );
        keep_or_set(
            &mut kernel.owner,
            &self.kernel.owner,
            Some(Kernel::DEFAULT_OWNER),
        );
    }

    /// The live servers, in the kernel's order, each from its entry in the
    /// wiring file where there is one.
    fn servers_into(&self, written: Vec<Server>) -> Vec<Server> {
        let mut written: HashMap<String, Server> = written
            .into_iter()
            .map(|s| (s.name.value.clone(), s))
            .collect();
        self.servers
            .iter()
            .map(|live| {
                let mut server = written.remove(&live.name).unwrap_or_else(|| Server {
                    name: Spanned::unplaced(live.name.clone()),
                    span: 0..0,
                    ty: None,
                    config: None,
                    uuid: None,
                    restart: Restart::Never,
                    fuse: true,
                });
                keep_or_set(&mut server.ty, &live.type_path, None);
                let config = live
                    .config
                    .as_deref()
                    .and_then(|text| toml::from_str::<toml::Table>(text).ok());
                if server.config.as_ref().map(|c| &c.value) != config.as_ref() {
                    server.config = config.map(Spanned::unplaced);
                }
                server.restart = Restart::parse(&live.restart).unwrap_or_default();
                let default_uuid = server_uuid(&self.kernel.name, &live.name).to_string();
                let written_uuid = server
                    .uuid
                    .as_ref()
                    .and_then(|u| wiring_model::Uuid::parse_str(&u.value).ok())
                    .map(|u| u.to_string());
                if written_uuid.as_deref() != Some(live.uuid.as_str()) {
                    server.uuid =
                        (live.uuid != default_uuid).then(|| Spanned::unplaced(live.uuid.clone()));
                }
                server
            })
            .collect()
    }

    /// The live processes, each with the `env` its entry in the wiring file had.
    fn processes_into(&self, written: Vec<Process>) -> Vec<Process> {
        let mut written: HashMap<String, Process> = written
            .into_iter()
            .map(|p| (p.name.value.clone(), p))
            .collect();
        self.processes
            .iter()
            .map(|live| {
                let mut process = written.remove(&live.name).unwrap_or_else(|| Process {
                    name: Spanned::unplaced(live.name.clone()),
                    span: 0..0,
                    command: None,
                    args: Vec::new(),
                    env: Vec::new(),
                    restart: Restart::Never,
                });
                keep_or_set(&mut process.command, &live.command, None);
                process.args.clone_from(&live.args);
                process.restart = Restart::parse(&live.restart).unwrap_or_default();
                process
            })
            .collect()
    }

    /// The connections holding their terminals: each entry of the wiring
    /// file keeps the endpoints still connected (with the same capacity),
    /// and the pipes made live follow, fan-outs and fan-ins as lists.
    fn connections_into(&self, written: Vec<Connection>) -> Vec<Connection> {
        let active: Vec<&ConnectionView> = self.active().collect();
        let mut used = vec![false; active.len()];
        let mut take = |from: &str, to: &str, capacity: usize| {
            let found = active.iter().enumerate().position(|(i, c)| {
                !used[i] && c.from == from && c.to == to && c.capacity == capacity
            });
            if let Some(i) = found {
                used[i] = true;
            }
            found.is_some()
        };
        let mut connections = Vec::new();
        for mut connection in written {
            let (Some(from), Some(to)) = (&mut connection.from, &mut connection.to) else {
                continue;
            };
            let capacity = connection.capacity;
            if let [producer] = from.endpoints.as_slice() {
                let producer = producer.value.clone();
                to.endpoints.retain(|t| take(&producer, &t.value, capacity));
            } else if let [consumer] = to.endpoints.as_slice() {
                let consumer = consumer.value.clone();
                from.endpoints
                    .retain(|f| take(&f.value, &consumer, capacity));
            } else {
                continue;
            }
            if !from.endpoints.is_empty() && !to.endpoints.is_empty() {
                connections.push(connection);
            }
        }
        let rest: Vec<&ConnectionView> = active
            .iter()
            .zip(&used)
            .filter(|(_, used)| !**used)
            .map(|(c, _)| *c)
            .collect();
        connections.extend(grouped(&rest));
        connections
    }
}

/// Pipes as `[[connections]]` entries: fan-outs first, then fan-ins, then
/// single pipes, in the order of each group's first pipe.
fn grouped(pipes: &[&ConnectionView]) -> Vec<Connection> {
    let mut done = vec![false; pipes.len()];
    let mut groups: Vec<(usize, Connection)> = Vec::new();
    for fan_out in [true, false] {
        for i in 0..pipes.len() {
            if done[i] {
                continue;
            }
            let c = pipes[i];
            let member = |d: &ConnectionView| {
                d.capacity == c.capacity
                    && d.tappable == c.tappable
                    && if fan_out {
                        d.from_kind == "multiplex" && d.from == c.from
                    } else {
                        d.to_kind == "combine" && d.to == c.to
                    }
            };
            let members: Vec<usize> = (0..pipes.len())
                .filter(|&j| !done[j] && member(pipes[j]))
                .collect();
            if members.len() < 2 {
                continue;
            }
            let ends: Vec<&str> = members
                .iter()
                .map(|&j| {
                    done[j] = true;
                    if fan_out {
                        pipes[j].to.as_str()
                    } else {
                        pipes[j].from.as_str()
                    }
                })
                .collect();
            let mut connection = if fan_out {
                Connection::new(&[c.from.as_str()], &ends, c.capacity)
            } else {
                Connection::new(&ends, &[c.to.as_str()], c.capacity)
            };
            connection.tap = c.tappable;
            groups.push((i, connection));
        }
    }
    for (i, c) in pipes.iter().enumerate() {
        if !done[i] {
            let mut connection = Connection::new(&[c.from.as_str()], &[c.to.as_str()], c.capacity);
            connection.tap = c.tappable;
            groups.push((i, connection));
        }
    }
    groups.sort_by_key(|(i, _)| *i);
    groups.into_iter().map(|(_, c)| c).collect()
}

/// Keeps `field` when it says `live` already, or says nothing and `live`
/// is the default; sets it to `live` otherwise.
fn keep_or_set(field: &mut Option<Spanned<String>>, live: &str, default: Option<&str>) {
    let unchanged = match field {
        Some(written) => written.value == live,
        None => default == Some(live),
    };
    if !unchanged {
        *field = Some(Spanned::unplaced(live.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::{KernelView, ProcessView, ServerView};

    const WIRING: &str = r#"[kernel]
name = "plant"

[lints]
unused-server = "deny"

# The source.
[servers.src]
type = "Src"
config = { count = 3 }

[servers.a]
type = "Sink"

[servers.b]
type = "Sink"

[processes.helper]
command = "helper"
env = { TOKEN = "secret" }

# src feeds a.
[[connections]]
from = "src.out"
to = "a.input"
"#;

    fn server(name: &str, ty: &str, config: Option<&str>) -> ServerView {
        ServerView {
            name: name.into(),
            type_path: ty.into(),
            uuid: server_uuid("plant", name).to_string(),
            identity: String::new(),
            guest: None,
            state: "running".into(),
            restart: "never".into(),
            restarts: 0,
            last_error: None,
            terminals: Vec::new(),
            config: config.map(str::to_owned),
        }
    }

    fn pipe(from: &str, to: &str, from_kind: &str, capacity: usize) -> ConnectionView {
        ConnectionView {
            id: format!("{from}->{to}"),
            from: from.into(),
            to: to.into(),
            from_kind: from_kind.into(),
            to_kind: "input".into(),
            message_type: "u64".into(),
            state: "connected".into(),
            capacity,
            messages_in: 0,
            messages_out: 0,
            queue_depth: 0,
            fill: 0.0,
            rate: 0.0,
            blocked_ns: 0,
            since_taken_ns: 0,
            stalled: false,
            drops: 0,
            live: false,
            fan_out: false,
            fan_in: false,
            fused: false,
            tappable: false,
        }
    }

    fn plant(connections: Vec<ConnectionView>, source: Option<&'static str>) -> Topology {
        Topology {
            kernel: KernelView {
                name: "plant".into(),
                fqdn: "localhost".into(),
                owner: "unknown".into(),
                control_listen: None,
                uptime_s: 0.0,
                stopping: false,
            },
            servers: vec![
                server("src", "Src", Some("count = 3\n")),
                server("a", "Sink", None),
                server("b", "Sink", None),
            ],
            connections,
            processes: vec![ProcessView {
                name: "helper".into(),
                command: "helper".into(),
                args: Vec::new(),
                restart: "never".into(),
                state: "running".into(),
                pid: None,
                restarts: 0,
                last_exit: None,
            }],
            routes: Vec::new(),
            wiring_source: source,
        }
    }

    #[test]
    fn an_unchanged_kernel_exports_its_wiring_file() {
        let topology = plant(
            vec![pipe("src.out", "a.input", "output", 1024)],
            Some(WIRING),
        );
        assert_eq!(topology.to_wiring_toml(), WIRING);
    }

    #[test]
    fn live_pipes_are_added_and_gone_ones_removed() {
        // The pipe to `a` was disconnected; `src` (a multiplexer) feeds `b`
        // and `a` again, live, with another capacity: the entry with the same
        // producer is edited where it was.
        let topology = plant(
            vec![
                pipe("src.out", "b.input", "multiplex", 8),
                pipe("src.out", "a.input", "multiplex", 8),
            ],
            Some(WIRING),
        );
        let text = topology.to_wiring_toml();
        let expected = WIRING.replace(
            "to = \"a.input\"\n",
            "to = [\"b.input\", \"a.input\"]\ncapacity = 8\n",
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn without_a_wiring_file_the_export_is_written_afresh() {
        let topology = plant(vec![pipe("src.out", "a.input", "output", 16)], None);
        let text = topology.to_wiring_toml();
        assert!(text.starts_with("# Exported from the live kernel `plant`.\n[kernel]\nname = \"plant\"\n\n[servers.src]\n"), "{text}");
        for needle in [
            "config = { count = 3 }",
            "[processes.helper]\ncommand = \"helper\"\n",
            "[[connections]]\nfrom = \"src.out\"\nto = \"a.input\"\ncapacity = 16\n",
        ] {
            assert!(text.contains(needle), "no `{needle}` in:\n{text}");
        }
        assert!(
            !text.contains("fqdn") && !text.contains("owner") && !text.contains("uuid"),
            "{text}"
        );
    }

    #[test]
    fn keeps_what_is_written_and_defaults_left_out() {
        let mut field = None;
        keep_or_set(&mut field, "localhost", Some("localhost"));
        assert!(field.is_none());
        keep_or_set(&mut field, "plant", Some("localhost"));
        assert_eq!(field.map(|f| f.value), Some("plant".to_owned()));
        let mut written = Some(Spanned::new("plant".to_owned(), 3..8));
        keep_or_set(&mut written, "plant", None);
        assert_eq!(written.map(|f| f.span), Some(3..8));
    }
}

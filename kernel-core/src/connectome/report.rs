//! A printable snapshot of a kernel: servers and pipes as tables.

use std::fmt;
use std::time::Duration;

use super::{PipeStatus, ProcessStatus, ServerStatus};

/// A snapshot of every server and pipe of a kernel, from
/// [`Connectome::report`](super::Connectome::report).
///
/// `Display` prints two aligned tables: servers (name, type, state,
/// restarts, last error) and pipes (id, from -> to, state, messages in and
/// out, drops, queue depth, time producers were blocked, throughput =
/// messages / elapsed run time).
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The kernel's name (`[kernel] name`).
    pub kernel: &'static str,
    /// Run time of the kernel when the snapshot was taken.
    pub elapsed: Duration,
    /// Every server instance, in wiring order.
    pub servers: Vec<ServerStatus>,
    /// Every pipe, in wiring order.
    pub pipes: Vec<PipeStatus>,
    /// External processes; printed as a third table when there are any.
    pub processes: Vec<ProcessStatus>,
}

impl Report {
    pub(crate) fn new(
        kernel: &'static str,
        elapsed: Duration,
        servers: Vec<ServerStatus>,
        pipes: Vec<PipeStatus>,
        processes: Vec<ProcessStatus>,
    ) -> Self {
        Report {
            kernel,
            elapsed,
            servers,
            pipes,
            processes,
        }
    }

    /// Messages per second through `pipe` over the elapsed run time.
    pub fn throughput(&self, pipe: &PipeStatus) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            pipe.messages_out as f64 / secs
        } else {
            0.0
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "kernel `{}`: {}, {}, ran {}",
            self.kernel,
            count(self.servers.len(), "server"),
            count(self.pipes.len(), "pipe"),
            duration(self.elapsed)
        )?;
        writeln!(f)?;
        let mut servers = Table::new(&["server", "type", "state", "restarts", "last error"]);
        servers.right_align(3);
        for s in &self.servers {
            servers.row(vec![
                s.name.to_owned(),
                s.type_path.to_owned(),
                s.state.to_string(),
                s.restarts.to_string(),
                s.last_error
                    .as_deref()
                    .map(|e| e.lines().next().unwrap_or_default().to_owned())
                    .unwrap_or_default(),
            ]);
        }
        servers.fmt(f)?;
        writeln!(f)?;
        let mut pipes = Table::new(&[
            "pipe",
            "from -> to",
            "state",
            "in",
            "out",
            "drops",
            "queue",
            "blocked",
            "throughput",
        ]);
        for col in 3..=8 {
            pipes.right_align(col);
        }
        for p in &self.pipes {
            pipes.row(vec![
                p.id.to_string(),
                format!("{} -> {}", p.from, p.to),
                p.state.to_string(),
                p.messages_in.to_string(),
                p.messages_out.to_string(),
                p.drops.to_string(),
                format!("{}/{}", p.queue_depth, p.capacity),
                duration(p.blocked),
                rate(self.throughput(p)),
            ]);
        }
        pipes.fmt(f)?;
        if self.processes.is_empty() {
            return Ok(());
        }
        writeln!(f)?;
        let mut processes = Table::new(&["process", "command", "state", "restarts", "last exit"]);
        processes.right_align(3);
        for p in &self.processes {
            processes.row(vec![
                p.name.clone(),
                p.command.clone(),
                p.state.to_string(),
                p.restarts.to_string(),
                p.last_exit.clone().unwrap_or_default(),
            ]);
        }
        processes.fmt(f)
    }
}

/// A plain-text table with aligned columns.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    right: Vec<bool>,
}

impl Table {
    fn new(header: &[&str]) -> Self {
        Table {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
            right: vec![false; header.len()],
        }
    }

    fn right_align(&mut self, col: usize) {
        if let Some(r) = self.right.get_mut(col) {
            *r = true;
        }
    }

    fn row(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                let width = widths.get(i).copied().unwrap_or(0);
                if i > 0 {
                    line.push_str("  ");
                }
                if self.right.get(i).copied().unwrap_or(false) {
                    line.push_str(&format!("{cell:>width$}"));
                } else {
                    line.push_str(&format!("{cell:<width$}"));
                }
            }
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `850ns`, `12.3µs`, `4.56ms`, `1.23s`.
fn duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos < 1_000 {
        format!("{nanos}ns")
    } else if nanos < 1_000_000 {
        format!("{:.1}µs", nanos as f64 / 1e3)
    } else if nanos < 1_000_000_000 {
        format!("{:.2}ms", nanos as f64 / 1e6)
    } else {
        format!("{:.2}s", d.as_secs_f64())
    }
}

/// `12.0 msg/s`, `3.4k msg/s`, `1.2M msg/s`.
fn rate(per_sec: f64) -> String {
    if per_sec >= 1e6 {
        format!("{:.1}M msg/s", per_sec / 1e6)
    } else if per_sec >= 1e3 {
        format!("{:.1}k msg/s", per_sec / 1e3)
    } else {
        format!("{per_sec:.1} msg/s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_rates_are_human() {
        assert_eq!(duration(Duration::from_nanos(850)), "850ns");
        assert_eq!(duration(Duration::from_micros(12)), "12.0µs");
        assert_eq!(duration(Duration::from_millis(4)), "4.00ms");
        assert_eq!(duration(Duration::from_millis(1230)), "1.23s");
        assert_eq!(rate(12.0), "12.0 msg/s");
        assert_eq!(rate(3400.0), "3.4k msg/s");
        assert_eq!(rate(1_200_000.0), "1.2M msg/s");
    }
}

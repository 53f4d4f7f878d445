//! A terminal view of the live topology: a table of connections with rate,
//! queue fill and state, refreshed in place. Any kernel can use it:
//!
//! ```no_run
//! # fn demo(kernel: &kernel_core::Kernel) {
//! let control = kernel.control();
//! let stop = kernel.stop_handle();
//! std::thread::spawn(move || {
//!     let _ = kernel_control::watch::watch(
//!         &control,
//!         std::time::Duration::from_millis(500),
//!         &mut std::io::stdout(),
//!         || stop.is_stopping(),
//!     );
//! });
//! # }
//! ```

use std::fmt::Write as _;
use std::io::{self, Write};
use std::time::Duration;

use crate::topology::{Snapshot, Topology, rate_text};
use kernel_core::Control;

/// Width of the queue fill bar.
const BAR: usize = 12;

fn bar(fill: f64) -> String {
    let full = ((fill.clamp(0.0, 1.0) * BAR as f64).round() as usize).min(BAR);
    format!("[{}{}]", "#".repeat(full), ".".repeat(BAR - full))
}

/// One frame: servers with their states, then every connection with its
/// state, rate, queue fill and drops.
pub fn frame(t: &Topology) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "kernel {} ({}) · up {:.0} s{}",
        t.kernel.name,
        t.kernel.fqdn,
        t.kernel.uptime_s,
        if t.kernel.stopping {
            " · stopping"
        } else {
            ""
        }
    );
    let _ = writeln!(out);
    let servers: Vec<String> = t
        .servers
        .iter()
        .map(|s| {
            if s.restarts > 0 {
                format!("{} {} ({} restarts)", s.name, s.state, s.restarts)
            } else {
                format!("{} {}", s.name, s.state)
            }
        })
        .collect();
    let _ = writeln!(out, "servers: {}", servers.join(" · "));
    let _ = writeln!(out);
    let pipes: Vec<String> = t
        .connections
        .iter()
        .map(|c| format!("{} -> {}", c.from, c.to))
        .collect();
    let width = pipes
        .iter()
        .map(|p| p.chars().count())
        .max()
        .unwrap_or(0)
        .max(10);
    let _ = writeln!(
        out,
        "{:<width$}  {:<9}  {:>14}  {:<14}  {:>11}  {:>6}",
        "connection", "state", "rate", "queue", "", "drops"
    );
    for (c, label) in t.connections.iter().zip(&pipes) {
        let _ = writeln!(
            out,
            "{label:<width$}  {:<9}  {:>14}  {}  {:>11}  {:>6}",
            c.state,
            rate_text(c.rate),
            bar(c.fill),
            format!("{}/{}", c.queue_depth, c.capacity),
            c.drops
        );
    }
    out
}

/// Redraws [`frame`] every `interval` on `out` (cursor home, clear screen)
/// until `done()` is true or the kernel ended; then draws a last frame.
pub fn watch(
    control: &Control,
    interval: Duration,
    out: &mut impl Write,
    done: impl Fn() -> bool,
) -> io::Result<()> {
    loop {
        let t = control.topology();
        write!(out, "\x1b[H\x1b[2J{}", frame(&t))?;
        out.flush()?;
        let ended =
            control.connectome().elapsed() > Duration::ZERO && !control.connectome().is_running();
        if done() || ended {
            return Ok(());
        }
        std::thread::sleep(interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_fill_from_the_left() {
        assert_eq!(bar(0.0), "[............]");
        assert_eq!(bar(0.5), "[######......]");
        assert_eq!(bar(2.0), "[############]");
    }
}

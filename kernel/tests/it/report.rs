//! The end-of-run report shows each pipe's state and drops.

use crate::control_common::*;
use kernel::control::DisconnectMode;

#[test]
fn the_report_shows_each_pipes_state_and_drops() {
    let running = Running::start(build(spec("report")));
    running.pause_when_flowing_until_full(SRC_A);
    running
        .control
        .disconnect(SRC_A, DisconnectMode::Drop)
        .expect("disconnect");
    running.wait_until("the pipe closed", |c| {
        c.connectome()
            .pipe(SRC_A)
            .is_some_and(|p| p.state == kernel::ConnectionState::Closed)
    });
    let report = running.control.connectome().report().to_string();
    let mut lines = report.lines().skip_while(|l| !l.starts_with("pipe "));
    let header: Vec<&str> = lines
        .next()
        .expect("pipe table")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        [
            "pipe",
            "from",
            "->",
            "to",
            "state",
            "in",
            "out",
            "drops",
            "queue",
            "blocked",
            "throughput"
        ],
        "{report}"
    );
    let row = |id: kernel::Uuid| -> Vec<String> {
        report
            .lines()
            .find(|l| l.starts_with(&id.to_string()))
            .unwrap_or_else(|| panic!("no row for {id}:\n{report}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    // id, src.out, ->, a.input, state, in, out, drops, ...
    let cut = row(SRC_A);
    assert_eq!(cut[4], "closed", "{report}");
    assert_eq!(
        cut[7], "64",
        "the 64 queued messages were dropped:\n{report}"
    );
    let flowing = row(FAN_B);
    assert_eq!(
        (flowing[4].as_str(), flowing[7].as_str()),
        ("connected", "0")
    );
    running.finish().ok();
}

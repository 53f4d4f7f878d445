//! The refinery as a command: what its output does when nobody reads it.

use std::process::{Command, Stdio};

#[test]
fn a_closed_stdout_does_not_kill_the_plant() {
    let mut plant = Command::new(env!("CARGO_BIN_EXE_refinery"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the refinery");
    // The reader goes away before the plant prints its report, as `| head -0`.
    drop(plant.stdout.take());
    let output = plant.wait_with_output().expect("wait for the refinery");
    assert!(
        output.status.success(),
        "{:?}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

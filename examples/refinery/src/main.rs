//! A refinery kernel: wells -> manifold -> column -> tank farm, alarm, historian.
//!
//! `cargo run -p refinery` runs the plant to completion and prints a summary
//! of every server and pipe.

mod servers;

kernel::include_wiring!();

fn main() -> Result<(), kernel::Error> {
    tracing_subscriber::fmt()
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    let kernel = wiring::kernel()?;
    let connectome = kernel.connectome();
    let outcome = kernel.run();
    println!("{}", connectome.report());
    outcome
}

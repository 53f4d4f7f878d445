//! South: a kernel that offers its checker to the mesh and checks the
//! stream north routes to it. Start it first (`cargo run -p south`); it
//! serves its control surface and stays up after north's stream until ctrl-c.

mod servers;

kernel::include_wiring!();

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    match wiring::kernel().and_then(|kernel| kernel.run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("south: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

//! `probe`: scans for a kernel's beacon listeners, verifies them and reports
//! to the beacon; see `probe --help`.

fn main() -> std::process::ExitCode {
    probe::cli(std::env::args_os().skip(1))
}

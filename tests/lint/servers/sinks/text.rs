use kernel::prelude::*;

/// Stores text lines.
#[derive(Manifest)]
#[manifest(class = 0x0b03, owner = "ops")]
pub struct Store {
    pub lines: Input<String>,
}

/// Logs text lines from many producers.
#[derive(Manifest)]
#[manifest(class = 0x0b04, owner = "ops")]
pub struct Logger {
    pub lines: Combine<String>,
}

//! Shared fixtures for the acceptance tests: servers that check what they
//! receive, and the kernels `build.rs` generates from `wiring/*.toml`.

pub mod chaos;
pub mod servers;

kernel::include_wiring!(fan_out);
kernel::include_wiring!(fan_in);
kernel::include_wiring!(supervision);
kernel::include_wiring!(chaos_kernel);

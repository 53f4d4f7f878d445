//! Generates one kernel per benchmark shape and payload from `wiring/*.toml`;
//! `src/lib.rs` includes them with `kernel::include_wiring!(name)`.
//!
//! Only these small kernels are generated here. The large synthetic wirings
//! of the scaling benchmarks are generated at bench time under `target/`.

const KERNELS: [&str; 13] = [
    "chain_1_u64",
    "chain_1_kib",
    "chain_1_frame",
    "chain_3_u64",
    "chain_3_kib",
    "chain_3_frame",
    "fanout_2_u64",
    "fanout_2_kib",
    "fanout_2_frame",
    "fanin_2_u64",
    "fanin_2_kib",
    "fanin_2_frame",
    "latency_u64",
];

fn main() {
    for name in KERNELS {
        wiring_build::Config::new()
            .out_file(format!("{name}.rs"))
            .compile(format!("wiring/{name}.toml"))
            .unwrap_or_else(|e| e.exit());
    }
}

//! Generates the kernels of the runtime tests, one module per wiring file.

fn main() {
    for name in ["fan_out", "fan_in", "supervision", "chaos_kernel"] {
        wiring_build::Config::new()
            .out_file(format!("{name}.rs"))
            .compile(format!("wiring/{name}.toml"))
            .unwrap_or_else(|e| e.exit());
    }
}

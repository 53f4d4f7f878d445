fn main() {
    wiring_build::compile("wiring.toml").unwrap_or_else(|e| e.exit());
}

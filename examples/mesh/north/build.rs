fn main() {
    // North's routes end at south's checker: the build checks them against
    // south's crate (the guest, an offered input, the same message type).
    wiring_build::Config::new()
        .peer("../south")
        .compile("wiring.toml")
        .unwrap_or_else(|e| e.exit());
}

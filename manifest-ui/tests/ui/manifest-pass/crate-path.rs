// A crate that re-exports the kernel names it with `#[manifest(crate = "..")]`.
mod framework {
    pub use kernel as runtime;
}

use framework::runtime::prelude::{Input, Manifest, Output};

#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops", crate = "crate::framework::runtime")]
pub struct Relay {
    pub input: Input<u64>,
    pub output: Output<u64>,
}

fn main() {
    let manifest = <Relay as framework::runtime::Manifest>::MANIFEST;
    assert_eq!(manifest.name, "relay");
    assert_eq!(manifest.terminals.len(), 2);
    let _: framework::runtime::__private::Port<Output<u64>> = Relay::__wiring_port_output();
}

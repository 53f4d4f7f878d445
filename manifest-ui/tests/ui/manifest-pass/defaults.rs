//! Defaults: name from the struct name in snake_case, `auth = "no"`,
//! `auth_mechanism = "none"`, terminal names from field names; a private
//! message type and a server in a module.
use kernel::{Auth, Manifest as _};

mod servers {
    use kernel::prelude::*;

    #[derive(Clone)]
    pub(crate) struct Reading;

    #[derive(Manifest)]
    #[manifest(class = 7, owner = "lab.north_1")]
    pub struct HTTPGateway {
        pub(crate) requests: Multiplex<Reading>,
        r#type: Input<u8>,
    }
}

fn main() {
    let m = servers::HTTPGateway::MANIFEST;
    assert_eq!(m.name, "http_gateway");
    assert_eq!(m.class, 7);
    assert_eq!(m.owner, "lab.north_1");
    assert_eq!(m.auth, Auth::No);
    assert_eq!(m.auth_mechanism, "none");
    assert_eq!(m.terminals[0].name, "requests");
    assert_eq!(m.terminals[0].message_type, "Reading");
    assert_eq!(m.terminals[1].name, "type");
    let _ = servers::HTTPGateway::__wiring_port_type();
}

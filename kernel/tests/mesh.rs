//! Routes between kernel processes over Zenoh on loopback: order, back
//! pressure, fan-in, a receiver killed and restarted, a link cut and
//! restored, passphrases, refusals. See `mesh_common` for the kernels.
#![cfg(feature = "mesh")]

mod mesh_common;

use std::time::Duration;

use mesh_common::*;

/// The entry point of the child kernels; does nothing in a normal run.
#[test]
fn role() {
    if std::env::var(ROLE).is_ok() {
        child();
    }
}

const LONG: Duration = Duration::from_secs(60);

#[test]
fn a_route_to_an_absent_kernel_waits_then_carries_everything_in_order() {
    let south_port = free_port();
    let count = 20_000u64;
    let north = Kernel::start(
        "north-mask",
        &[
            ("KERNEL_MESH_PEERS", endpoint(south_port)),
            ("MESH_COUNT", count.to_string()),
        ],
    );
    // South is not there: the route waits, planned, saying why.
    north.wait_route(LONG, |r| {
        s(r, "state") == "planned" && s(r, "reason").contains("no guest in the mesh")
    });
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(s(&north.wait_route(LONG, |_| true), "state"), "planned");

    let mut south = Kernel::start(
        "south-sink",
        &[("KERNEL_MESH_LISTEN", endpoint(south_port))],
    );
    let mut north = north;
    south.wait_exit(LONG);
    north.wait_exit(LONG);
    let sink = south.last("MESH-SINK").unwrap_or_default();
    assert_eq!(u(&sink, "count"), count, "{sink}");
    assert_eq!(u(&sink, "disorder"), 0, "{sink}");
    let route = routes(&north.last("MESH-ROUTES").unwrap_or_default())
        .pop()
        .unwrap_or_default();
    assert_eq!(s(&route, "state"), "closed", "{route}");
    assert_eq!(
        (u(&route, "sent"), u(&route, "received"), u(&route, "lost")),
        (count, count, 0),
        "{route}"
    );
    // The mask chose south's sink and says so.
    assert!(s(&route, "to").contains(SINK_ID), "{route}");
    let events = north.last("MESH-EVENTS").unwrap_or_default();
    assert!(events.to_string().contains("the mask chose"), "{events}");
    assert_eq!(
        south.last("MESH-DONE").unwrap_or_default()["ok"],
        true,
        "{:?}",
        south.last("MESH-DONE")
    );
}

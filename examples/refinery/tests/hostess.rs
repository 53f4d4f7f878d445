//! The refinery's servers are Hostess guests, and booking the generated
//! kernel books every terminal its pipes use, under the pipes' ids: both
//! by hand (`book_spec`) and at boot (`Kernel::run`).

#[path = "../src/servers/mod.rs"]
#[allow(dead_code)]
mod servers;

kernel::include_wiring!();

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kernel::Uuid;
use kernel::control::Snapshot as _;
use kernel::hostess::{Hostess, HostessExt as _, TerminalUse};

/// `server.terminal` -> the ids of the pipes that use it, from the spec.
fn expected(spec: &kernel::Spec) -> BTreeMap<(String, String), Vec<Uuid>> {
    let mut map: BTreeMap<(String, String), Vec<Uuid>> = BTreeMap::new();
    for pipe in spec.pipes {
        for end in [pipe.from, pipe.to] {
            map.entry((end.server.to_owned(), end.terminal.to_owned()))
                .or_default()
                .push(pipe.id);
        }
    }
    for ids in map.values_mut() {
        ids.sort();
    }
    map
}

/// Every terminal of `expected` is in use under exactly its pipe ids.
fn assert_booked(hostess: &Hostess, spec: &kernel::Spec) {
    let expected = expected(spec);
    assert!(!expected.is_empty());
    for ((server, terminal), ids) in &expected {
        let uuid = spec.server(server).expect("server").uuid;
        let guest = hostess.guest(uuid).expect("a registered guest");
        let usage = &guest.terminal(terminal).expect("terminal").usage;
        assert!(
            matches!(usage, TerminalUse::InUse { holder, .. } if holder == "control"),
            "{server}.{terminal}: {usage:?}"
        );
        let mut got = usage.connectome().to_vec();
        got.sort();
        assert_eq!(&got, ids, "{server}.{terminal}");
    }
}

#[test]
fn every_server_is_a_guest_with_its_identity() {
    let kernel = wiring::kernel().expect("refinery boots");
    let connectome = kernel.connectome();
    let hostess = connectome.hostess();
    let spec = connectome.spec();
    assert_eq!(hostess.len(), spec.servers.len());
    for server in spec.servers {
        let guest = hostess.guest(server.uuid).expect("registered");
        assert_eq!(guest.identity.to_string(), server.identity);
        assert_eq!(guest.terminals.len(), server.manifest.terminals.len());
    }
}

#[test]
fn book_spec_books_every_terminal_of_the_generated_kernel() {
    let kernel = wiring::kernel().expect("refinery boots");
    let connectome = kernel.connectome();
    let spec = connectome.spec();
    let booking =
        kernel::hostess::book_spec(&connectome.hostess(), spec, "control").expect("booked");
    assert_eq!(booking.terminals.len(), expected(spec).len());
    let grant = booking.grant.as_ref().expect("a reservation");
    assert_eq!(grant.holder, "control");
    assert_eq!(grant.ttl, None);
    assert_booked(&connectome.hostess(), spec);
    for ((server, terminal), ids) in expected(spec) {
        let mut got = booking.connectome_ids(&server, &terminal).to_vec();
        got.sort();
        assert_eq!(got, ids);
    }
}

#[test]
fn run_books_every_terminal_at_boot() {
    let kernel = wiring::kernel()
        .expect("refinery boots")
        .with_signal_handlers(false);
    let connectome = kernel.connectome();
    let stop = kernel.stop_handle();
    let thread = std::thread::spawn(move || kernel.run());
    let start = Instant::now();
    while !connectome.is_running() && !thread.is_finished() {
        assert!(start.elapsed() < Duration::from_secs(20), "never ran");
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_booked(&connectome.hostess(), connectome.spec());
    assert_eq!(connectome.hostess().reservations().len(), 1);
    // The topology shows them too.
    let topology = connectome.control().topology();
    for server in &topology.servers {
        assert_eq!(server.guest.as_deref(), Some(server.identity.as_str()));
    }
    stop.stop();
    thread.join().expect("kernel thread").expect("clean end");
}

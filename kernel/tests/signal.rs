//! Ctrl-c raises the stop signal (alone in its test binary: a signal
//! reaches every kernel running in the process).

mod common;

use std::time::Duration;

use common::*;
use kernel::{Input, KernelBuilder, Output, Restart, ServerState, Spec};

static SIGINT: Spec = Spec {
    kernel: kernel("sigint"),
    servers: &[
        server("forever", "Forever", Restart::Always, None),
        server("sink", "Sink", Restart::Never, None),
    ],
    pipes: &[pipe(1, ("forever", "out"), ("sink", "input"), 16)],
    ..PLAIN
};

#[test]
fn ctrl_c_stops_the_kernel_cleanly() {
    let mut b = KernelBuilder::new(&SIGINT);
    b.server_default::<Forever>("forever").unwrap();
    b.server_default::<Sink>("sink").unwrap();
    b.connect_named::<Output<u64>, Input<u64>>("forever.out", "sink.input")
        .unwrap();
    let kernel = b.build().unwrap();
    let connectome = kernel.connectome();
    let watch = connectome.clone();
    let raiser = std::thread::spawn(move || {
        // Handlers are installed before servers boot: once messages flow,
        // the kernel is listening.
        while watch.pipes()[0].messages_in == 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
        signal_hook::low_level::raise(signal_hook::consts::SIGINT).unwrap();
    });
    kernel.run().unwrap();
    raiser.join().unwrap();
    for s in connectome.servers() {
        assert_eq!(s.state, ServerState::Stopped, "{}", s.name);
    }
    let p = &connectome.pipes()[0];
    assert!(p.messages_in > 0);
    assert_eq!(p.messages_in, p.messages_out);
}

//! Routes between kernel processes over Zenoh on loopback: order, back
//! pressure, fan-in, a receiver killed and restarted, a link cut and
//! restored, passphrases, refusals. See `mesh_common` for the kernels.
#![cfg(feature = "mesh")]

use crate::mesh_common;
use std::time::Duration;

use crate::mesh_common::*;

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

fn route0(k: &Kernel) -> serde_json::Value {
    routes(&k.last("MESH-ROUTES").unwrap_or_default())
        .into_iter()
        .next()
        .unwrap_or_default()
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("mesh-test-{}-{name}", std::process::id()))
}

fn read_log(path: &std::path::Path) -> Vec<u64> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.parse().ok())
        .collect()
}

#[test]
fn a_stalled_consumer_blocks_the_remote_producer_and_nothing_is_lost() {
    let port = free_port();
    let count = 3000u64;
    let mut south = Kernel::start(
        "south-sink",
        &[
            ("KERNEL_MESH_LISTEN", endpoint(port)),
            ("MESH_STALL_AT", "100".into()),
            ("MESH_STALL_MS", "10000".into()),
        ],
    );
    let mut north = Kernel::start(
        "north-exact",
        &[
            ("KERNEL_MESH_PEERS", endpoint(port)),
            ("MESH_COUNT", count.to_string()),
        ],
    );
    south.wait_for("MESH-STALL", LONG, |_| true);
    std::thread::sleep(Duration::from_secs(2));
    let before = north.last("MESH-ROUTES").unwrap_or_default();
    std::thread::sleep(Duration::from_secs(5));
    let after = north.last("MESH-ROUTES").unwrap_or_default();
    let (a, b) = (&routes(&before)[0], &routes(&after)[0]);
    // The producer is blocked: nothing more left north while south stalls,
    // and no more than south's pipe has room for is in flight.
    assert_eq!(u(a, "sent"), u(b, "sent"), "{a} / {b}");
    assert!(u(b, "sent") <= 100 + 64, "{b}");
    assert_eq!(s(b, "state"), "connected", "the transport stays open: {b}");
    // Memory stays bounded while the producer waits.
    let rss_growth = u(&after, "rss_kb").saturating_sub(u(&before, "rss_kb"));
    assert!(
        rss_growth < 4096,
        "north grew {rss_growth} KiB while blocked"
    );

    south.wait_for("MESH-STALL-END", LONG, |_| true);
    south.wait_exit(LONG);
    north.wait_exit(LONG);
    let sink = south.last("MESH-SINK").unwrap_or_default();
    assert_eq!(
        (u(&sink, "count"), u(&sink, "disorder")),
        (count, 0),
        "{sink}"
    );
    let route = route0(&north);
    assert_eq!(
        (u(&route, "sent"), u(&route, "received"), u(&route, "lost")),
        (count, count, 0),
        "{route}"
    );
    let source = north.last("MESH-SOURCE").unwrap_or_default();
    assert!(u(&source, "longest_send_ms") >= 5000, "{source}");
    // Never cut off while it waited.
    let events = north.last("MESH-EVENTS").unwrap_or_default();
    let planned_again = events
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| s(e, "to") == "planned")
        .count();
    assert_eq!(planned_again, 0, "{events}");
}

#[test]
fn fan_in_from_two_kernels_keeps_each_kernels_order() {
    let port = free_port();
    let count = 5000u64;
    let go = temp("fan-in-go");
    let _ = std::fs::remove_file(&go);
    let mut south = Kernel::start("south-merge", &[("KERNEL_MESH_LISTEN", endpoint(port))]);
    let mut north = Vec::new();
    for (spec, tag) in [("north-a", 1), ("north-b", 2)] {
        north.push(Kernel::start(
            spec,
            &[
                ("KERNEL_MESH_PEERS", endpoint(port)),
                ("MESH_COUNT", count.to_string()),
                ("MESH_TAG", tag.to_string()),
                ("MESH_GO", go.display().to_string()),
            ],
        ));
    }
    for k in &north {
        k.wait_route(LONG, |r| s(r, "state") == "connected");
    }
    // Both are booked on the `Combine` at once.
    let inbound = south.wait_for("MESH-ROUTES", LONG, |v| {
        routes(v)
            .iter()
            .filter(|r| s(r, "direction") == "inbound" && s(r, "state") == "connected")
            .count()
            == 2
    });
    assert_eq!(routes(&inbound).len(), 2, "{inbound}");
    std::fs::write(&go, b"go").unwrap_or_else(|e| panic!("{e}"));
    south.wait_exit(LONG);
    for k in &mut north {
        k.wait_exit(LONG);
        let route = route0(k);
        assert_eq!(
            (u(&route, "sent"), u(&route, "received"), u(&route, "lost")),
            (count, count, 0),
            "{}: {route}",
            k.name
        );
    }
    let _ = std::fs::remove_file(&go);
    let sink = south.last("MESH-SINK").unwrap_or_default();
    assert_eq!(
        (u(&sink, "count"), u(&sink, "disorder")),
        (2 * count, 0),
        "{sink}"
    );
    assert_eq!(
        sink["last"],
        serde_json::json!([[1, count - 1], [2, count - 1]]),
        "{sink}"
    );
}

#[test]
fn a_killed_receiver_comes_back_and_the_route_counts_what_it_lost() {
    let port = free_port();
    let count = 3000u64;
    let (log1, log2) = (temp("killed-1"), temp("killed-2"));
    let _ = std::fs::remove_file(&log1);
    let _ = std::fs::remove_file(&log2);
    let mut south = Kernel::start(
        "south-sink",
        &[
            ("KERNEL_MESH_LISTEN", endpoint(port)),
            ("MESH_LOG", log1.display().to_string()),
            ("MESH_DELAY_MS", "1".into()),
        ],
    );
    let mut north = Kernel::start(
        "north-exact",
        &[
            ("KERNEL_MESH_PEERS", endpoint(port)),
            ("MESH_COUNT", count.to_string()),
        ],
    );
    let started = std::time::Instant::now();
    while read_log(&log1).len() < 500 {
        assert!(started.elapsed() < LONG, "south never took 500 messages");
        std::thread::sleep(Duration::from_millis(10));
    }
    south.kill();
    north.wait_route(LONG, |r| s(r, "state") == "planned");
    let restarted = std::time::Instant::now();
    let mut south = Kernel::start(
        "south-sink",
        &[
            ("KERNEL_MESH_LISTEN", endpoint(port)),
            ("MESH_LOG", log2.display().to_string()),
        ],
    );
    north.wait_route(LONG, |r| s(r, "state") != "planned");
    eprintln!(
        "the route reopened {:?} after south restarted",
        restarted.elapsed()
    );
    south.wait_exit(LONG);
    north.wait_exit(LONG);
    let (got1, got2) = (read_log(&log1), read_log(&log2));
    let _ = std::fs::remove_file(&log1);
    let _ = std::fs::remove_file(&log2);
    // Each run of south took its part in order, the second to the end.
    assert!(got1.iter().copied().eq(0..got1.len() as u64), "first run");
    let first2 = got2.first().copied().unwrap_or(count);
    assert!(
        got2.iter().copied().eq(first2..count),
        "second run from {first2}"
    );
    let taken: std::collections::BTreeSet<u64> = got1.iter().chain(&got2).copied().collect();
    let missing = count - taken.len() as u64;
    let route = route0(&north);
    assert_eq!(s(&route, "state"), "closed", "{route}");
    assert_eq!(u(&route, "sent"), count, "{route}");
    assert_eq!(u(&route, "received") + u(&route, "lost"), count, "{route}");
    // Honest: every message no south took is counted lost (at most the
    // last acknowledgement's worth more: taken by the dying south after
    // it last reported).
    let lost = u(&route, "lost");
    assert!(
        lost >= missing && lost <= missing + 8,
        "lost {lost}, missing {missing}: {route}"
    );
    let events = north.last("MESH-EVENTS").unwrap_or_default().to_string();
    assert!(events.contains("restarted"), "{events}");
}

#[test]
fn a_cut_link_loses_nothing() {
    let port = free_port();
    let count = 4000u64;
    let log = temp("cut");
    let _ = std::fs::remove_file(&log);
    let mut south = Kernel::start(
        "south-sink",
        &[
            ("KERNEL_MESH_LISTEN", endpoint(port)),
            ("MESH_LOG", log.display().to_string()),
            ("MESH_DELAY_MS", "1".into()),
        ],
    );
    let mut proxy = Proxy::start(port);
    let mut north = Kernel::start(
        "north-exact",
        &[
            ("KERNEL_MESH_PEERS", endpoint(proxy.port)),
            ("MESH_COUNT", count.to_string()),
        ],
    );
    let started = std::time::Instant::now();
    while read_log(&log).len() < 1000 {
        assert!(started.elapsed() < LONG, "south never took 1000 messages");
        std::thread::sleep(Duration::from_millis(10));
    }
    proxy.cut();
    north.wait_route(LONG, |r| s(r, "state") == "planned");
    south.wait_for("MESH-ROUTES", LONG, |v| {
        routes(v)
            .iter()
            .any(|r| s(r, "reason").contains("left the mesh"))
    });
    std::thread::sleep(Duration::from_secs(2));
    proxy.restore();
    south.wait_exit(LONG);
    north.wait_exit(LONG);
    let got = read_log(&log);
    let _ = std::fs::remove_file(&log);
    assert!(
        got.iter().copied().eq(0..count),
        "{} values, not 0..{count} in order",
        got.len()
    );
    let route = route0(&north);
    assert_eq!(
        (u(&route, "sent"), u(&route, "received"), u(&route, "lost")),
        (count, count, 0),
        "{route}"
    );
}

#[test]
fn the_mesh_admits_only_kernels_with_its_passphrase() {
    use kernel::net::{MeshOptions, mesh::MeshKey};
    use zenoh::Wait;

    let port = free_port();
    let right = "correct horse battery staple";
    let mut south = Kernel::start(
        "south-sink",
        &[
            ("KERNEL_MESH_LISTEN", endpoint(port)),
            ("WIRING_PASSPHRASE", right.into()),
        ],
    );
    south.wait_for("MESH-ROUTES", LONG, |_| true);
    // A session of our own asks for south's menu: only with the passphrase.
    // `attempts`: the session may take a moment to connect, longer on a
    // loaded machine; a refused one never does.
    let ask = |passphrase: Option<&str>, attempts: usize| -> usize {
        let options = MeshOptions {
            listen: Vec::new(),
            peers: vec![endpoint(port)],
            scouting: false,
            passphrase: passphrase.map(str::to_owned),
        };
        let key = passphrase.map(MeshKey::derive);
        let session = options.open(key.as_ref()).unwrap_or_else(|e| panic!("{e}"));
        let mut menus = 0;
        for _ in 0..attempts {
            std::thread::sleep(Duration::from_millis(500));
            let replies = session
                .get("wiring/hostess/south/menu")
                .timeout(Duration::from_secs(2))
                .wait()
                .unwrap_or_else(|e| panic!("{e}"));
            while let Ok(reply) = replies.recv() {
                if let Ok(sample) = reply.result() {
                    let body = sample.payload().to_bytes();
                    let menu: kernel::hostess::http::MenuJson =
                        serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{e}"));
                    assert!(!menu.entries.is_empty());
                    menus += 1;
                }
            }
            if menus > 0 {
                break;
            }
        }
        let _ = session.close().wait();
        menus
    };
    assert_eq!(ask(Some(right), 24), 1, "with the passphrase");
    // The two refused sessions side by side: each waits out its attempts.
    std::thread::scope(|scope| {
        let wrong = scope.spawn(|| ask(Some("wrong horse"), 4));
        let none = scope.spawn(|| ask(None, 4));
        assert_eq!(wrong.join().ok(), Some(0), "with another passphrase");
        assert_eq!(none.join().ok(), Some(0), "without one");
    });

    // A kernel with another passphrase cannot reach south's sink: its
    // route waits and says why once it could not open in time.
    let mut wrong = Kernel::start(
        "north-exact",
        &[
            ("KERNEL_MESH_PEERS", endpoint(port)),
            ("WIRING_PASSPHRASE", "wrong horse".into()),
            ("MESH_COUNT", "100".into()),
        ],
    );
    let route = wrong.wait_route(LONG, |r| s(r, "reason").contains("cannot open within"));
    assert_eq!(s(&route, "state"), "planned", "{route}");
    assert!(s(&route, "reason").contains("unreachable"), "{route}");
    wrong.terminate();
    wrong.wait_exit(LONG);
    let events = wrong.last("MESH-EVENTS").unwrap_or_default().to_string();
    assert!(events.contains("cannot open within"), "{events}");
    // Stopped with nothing delivered: what its source sent is lost.
    let route = route0(&wrong);
    assert!(u(&route, "sent") >= 64, "{route}");
    assert_eq!(u(&route, "lost"), u(&route, "sent"), "{route}");
    assert_eq!(u(&route, "received"), 0, "{route}");

    // With the passphrase, the route opens and delivers.
    let mut north = Kernel::start(
        "north-exact",
        &[
            ("KERNEL_MESH_PEERS", endpoint(port)),
            ("WIRING_PASSPHRASE", right.into()),
            ("MESH_COUNT", "100".into()),
        ],
    );
    south.wait_exit(LONG);
    north.wait_exit(LONG);
    let sink = south.last("MESH-SINK").unwrap_or_default();
    assert_eq!(u(&sink, "count"), 100, "{sink}");
}

#[test]
fn refusals_name_their_reason_and_an_input_takes_one_kernel() {
    let port = free_port();
    let never = temp("never");
    let mut south = Kernel::start("south-all", &[("KERNEL_MESH_LISTEN", endpoint(port))]);
    let holder = Kernel::start(
        "north-exact",
        &[
            ("KERNEL_MESH_PEERS", endpoint(port)),
            ("MESH_COUNT", "10".into()),
            ("MESH_GO", never.display().to_string()),
        ],
    );
    holder.wait_route(LONG, |r| s(r, "state") == "connected");
    let mut refused = Kernel::start(
        "north-refused",
        &[
            ("KERNEL_MESH_PEERS", endpoint(port)),
            ("MESH_COUNT", "10".into()),
            ("MESH_GO", never.display().to_string()),
        ],
    );
    let all_failed = refused.wait_for("MESH-ROUTES", LONG, |v| {
        routes(v).iter().all(|r| s(r, "state") == "failed")
    });
    let reason = |id: u128| {
        routes(&all_failed)
            .into_iter()
            .find(|r| s(r, "id") == mesh_common::uuid_text(id))
            .map(|r| s(&r, "reason").to_owned())
            .unwrap_or_default()
    };
    let booked = reason(0x106);
    assert!(
        booked.starts_with("refused:") && booked.contains("takes one producer"),
        "{booked}"
    );
    let mismatch = reason(0x107);
    assert!(
        mismatch.starts_with("type mismatch:")
            && mismatch.contains("north-c/words.out")
            && mismatch.contains("alloc::string::String")
            && mismatch.contains("south/merge.inputs")
            && mismatch.contains("`u64`"),
        "{mismatch}"
    );
    let hidden = reason(0x108);
    assert!(hidden.starts_with("not offered:"), "{hidden}");
    refused.terminate();
    refused.wait_exit(LONG);
    let events = refused.last("MESH-EVENTS").unwrap_or_default().to_string();
    for word in ["takes one producer", "type mismatch", "not offered"] {
        assert!(events.contains(word), "{word}: {events}");
    }
    // The holder still holds south's sink.
    assert_eq!(s(&route0(&holder), "state"), "connected");
    south.terminate();
    south.wait_exit(LONG);
}

/// Python's `eclipse-zenoh`, when installed (`.ci/run` installs it; on CI
/// its absence fails the test).
fn python_zenoh() -> bool {
    let found = std::process::Command::new("python3")
        .args(["-c", "import zenoh"])
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have python3 with eclipse-zenoh (pip install eclipse-zenoh)"
        );
        eprintln!("skipped: python3 with eclipse-zenoh is not installed");
    }
    found
}

#[test]
fn a_python_zenoh_client_sees_guests_the_menu_and_a_json_route() {
    use std::io::BufRead;

    if !python_zenoh() {
        return;
    }
    let (south_port, north_port) = (free_port(), free_port());
    let count = 20;
    let mut south = Kernel::start(
        "south-sink",
        &[("KERNEL_MESH_LISTEN", endpoint(south_port))],
    );
    south.wait_for("MESH-ROUTES", LONG, |_| true);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mesh_client.py");
    let mut python = std::process::Command::new("python3")
        .arg(&script)
        .arg(count.to_string())
        .arg(endpoint(south_port))
        .arg(endpoint(north_port))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    let mut lines =
        std::io::BufReader::new(python.stdout.take().unwrap_or_else(|| panic!())).lines();
    let ready = lines.next().and_then(Result::ok).unwrap_or_default();
    assert_eq!(ready, "READY");
    let go = temp("python-go");
    let _ = std::fs::remove_file(&go);
    let mut north = Kernel::start(
        "north-json",
        &[
            ("KERNEL_MESH_LISTEN", endpoint(north_port)),
            ("KERNEL_MESH_PEERS", endpoint(south_port)),
            ("MESH_COUNT", count.to_string()),
            ("MESH_GO", go.display().to_string()),
        ],
    );
    // North sends once the client hears it (so it reads the whole route).
    let seen = lines.next().and_then(Result::ok).unwrap_or_default();
    assert_eq!(seen, "SEES north");
    std::fs::write(&go, b"go").unwrap_or_else(|e| panic!("{e}"));
    north.wait_exit(LONG);
    let _ = std::fs::remove_file(&go);
    south.wait_exit(LONG);
    let report = lines
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("REPORT ").map(str::to_owned))
        .unwrap_or_default();
    let _ = python.wait();
    let report: serde_json::Value =
        serde_json::from_str(&report).unwrap_or_else(|e| panic!("{e}: {report}"));
    // South's guest as a liveliness token, its menu as the Hostess's JSON.
    let tokens = report["tokens"].to_string();
    assert!(
        tokens.contains("wiring/hostess/south/guests/00000000-0000-0000-0000-000000000011"),
        "{tokens}"
    );
    let menu = &report["menus"][0];
    assert_eq!(menu["key"], "wiring/hostess/south/menu", "{report}");
    assert_eq!(menu["menu"]["entries"][0]["class"], "0x00000001", "{menu}");
    // North's guest appeared, south's went when south stopped.
    let changes = report["changes"].to_string();
    assert!(
        changes.contains("SampleKind.PUT\",\"wiring/hostess/north/guests/"),
        "{changes}"
    );
    assert!(
        changes.contains("SampleKind.DELETE\",\"wiring/hostess/south/guests/"),
        "{changes}"
    );
    // The JSON route, read as it went by.
    let values: Vec<u64> = report["values"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_u64())
        .collect();
    assert_eq!(values, (0..count).collect::<Vec<u64>>(), "{report}");
}

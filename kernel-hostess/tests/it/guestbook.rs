//! The guest book: registration (walk-ins), queries by mask and count, the
//! menu, and booking with the control surface (plan, booking, connectome ids).

use std::time::Duration;

use crate::common::*;
use kernel_hostess::{
    Ended, GuestMask, Hostess, HostessError, HostessEvent, ManualClock, Plan, Registration,
    ReserveRequest, TerminalRef, TerminalUse, Want, book_spec, plan_for_spec,
};
use wiring_model::{
    Auth, Endpoint, KernelSpec, PipeSpec, Restart, ServerManifest, ServerSpec, Spec, TerminalKind,
    TerminalManifest, Uuid,
};

fn mask(text: &str) -> GuestMask {
    match text.parse() {
        Ok(m) => m,
        Err(e) => panic!("{text}: {e}"),
    }
}

fn ok<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn registering_the_same_guest_again_changes_nothing() {
    let hostess = Hostess::new();
    assert_eq!(
        ok(hostess.register(guest(1, 0xa01, "ops", &["in"]))),
        Registration::Added
    );
    assert_eq!(
        ok(hostess.register(guest(1, 0xa01, "ops", &["in"]))),
        Registration::Unchanged
    );
    assert_eq!(hostess.len(), 1);
    // Another identity under the same uuid is refused, and says which.
    let e = hostess.register(guest(1, 0xa02, "ops", &["in"]));
    let Err(HostessError::RegistrationConflict { uuid: u, .. }) = &e else {
        panic!("{e:?}");
    };
    assert_eq!(*u, uuid(1));
    let msg = e.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        msg.contains("0x00000a01") && msg.contains("0x00000a02"),
        "{msg}"
    );
    // Terminal use survives a repeated registration.
    ok(hostess.reserve(ReserveRequest {
        holder: "t".into(),
        terminals: vec![terminal(1, "in")],
        ttl: None,
    }));
    ok(hostess.register(guest(1, 0xa01, "ops", &["in"])));
    let g = hostess.guest(uuid(1)).map(|g| g.is_free());
    assert_eq!(g, Some(false));
}

#[test]
fn queries_return_matches_in_a_stable_order() {
    let a = Hostess::new();
    let b = Hostess::new();
    populate(&a, 60, 4);
    // Same guests, registered in the reverse order.
    for i in (0..60usize).rev() {
        let class = 0x0a00 + (i as u32 % 4);
        let owner = if i.is_multiple_of(2) { "ops" } else { "lab" };
        ok(b.register(guest(i, class, owner, &["in", "out"])));
    }
    let m = mask("*:*:0x00000a01:*:*:*:*");
    let ids = |h: &Hostess| -> Vec<String> {
        ok(h.query(&m, None))
            .iter()
            .map(|g| g.identity.to_string())
            .collect()
    };
    assert_eq!(ids(&a).len(), 15);
    assert_eq!(ids(&a), ids(&b));
    assert_eq!(ids(&a), ids(&a));
    // Sorted by host name, then server name.
    let mut sorted = ids(&a);
    sorted.sort();
    assert_eq!(ids(&a), sorted);
}

#[test]
fn four_servers_of_a_class_are_exactly_four_or_an_error_saying_how_many() {
    let hostess = Hostess::new();
    populate(&hostess, 30, 10); // three guests of each class
    let m = mask("*:*:0x00000a00/0x0000ff00:*:*:*:*");
    assert_eq!(ok(hostess.query(&m, Some(4))).len(), 4);
    assert_eq!(ok(hostess.query(&m, None)).len(), 30);
    let one_class = mask("*:*:0xa07:*:*:*:*");
    let four = hostess.query(&one_class, Some(4));
    let Err(HostessError::NotEnough { wanted, found, .. }) = &four else {
        panic!("{four:?}");
    };
    assert_eq!((*wanted, *found), (4, 3));
    let msg = four.err().map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(
        msg,
        "wanted 4 but only 3 guests match `*:*:0x00000a07:*:*:*:*`"
    );
    assert_eq!(ok(hostess.query(&one_class, Some(3))).len(), 3);
    assert_eq!(ok(hostess.query(&one_class, Some(0))).len(), 0);
    assert_eq!(hostess.count(&one_class), 3);
    // The first ones in the stable order.
    let all = ok(hostess.query(&m, None));
    let first = ok(hostess.query(&m, Some(4)));
    assert_eq!(all[..4], first[..]);
    // A mask naming one uuid.
    let by_uuid = mask(&format!("*:*:*:*:*:*:{}", uuid(7)));
    let hit = ok(hostess.query(&by_uuid, Some(1)));
    assert_eq!(hit[0].identity.uuid(), uuid(7));
    let miss = mask(&format!("*:*:0xbeef:*:*:*:{}", uuid(7)));
    assert_eq!(hostess.count(&miss), 0);
}

#[test]
fn the_menu_counts_availability_by_class_and_owner() {
    let hostess = Hostess::new();
    populate(&hostess, 8, 2);
    ok(hostess.reserve(ReserveRequest {
        holder: "t".into(),
        terminals: vec![terminal(0, "in"), terminal(2, "out")],
        ttl: None,
    }));
    let menu = hostess.menu();
    let rows: Vec<(u32, &str, usize, usize, usize, usize)> = menu
        .entries
        .iter()
        .map(|e| {
            (
                e.class,
                e.owner.as_str(),
                e.guests,
                e.free_guests,
                e.terminals,
                e.free_terminals,
            )
        })
        .collect();
    // Guests 0, 2, 4, 6: class 0xa00, owner ops; 1, 3, 5, 7: class 0xa01, owner lab.
    assert_eq!(
        rows,
        vec![(0xa00, "ops", 4, 2, 8, 6), (0xa01, "lab", 4, 4, 8, 8)]
    );
}

static MANIFEST: ServerManifest = ServerManifest {
    name: "stage",
    class: 0x0a01,
    owner: "ops",
    auth: Auth::No,
    auth_mechanism: "none",
    terminals: &[
        TerminalManifest {
            name: "input",
            kind: TerminalKind::Combine,
            message_type: "u64",
            doc: "",
        },
        TerminalManifest {
            name: "output",
            kind: TerminalKind::Multiplex,
            message_type: "u64",
            doc: "",
        },
    ],
};

fn stage(name: &'static str, n: u128) -> ServerSpec {
    let uuid = Uuid::from_u128(n);
    ServerSpec {
        name,
        type_path: "Stage",
        manifest: &MANIFEST,
        uuid,
        identity: Box::leak(
            format!("plant-a.example:{name}:0x00000a01:ops:no:none:{uuid}").into_boxed_str(),
        ),
        restart: Restart::Never,
        config: None,
    }
}

/// A pipe of capacity 4.
fn pipe(
    id: u128,
    from: (&'static str, &'static str),
    to: (&'static str, &'static str),
) -> PipeSpec {
    PipeSpec {
        id: Uuid::from_u128(id),
        from: Endpoint {
            server: from.0,
            terminal: from.1,
        },
        to: Endpoint {
            server: to.0,
            terminal: to.1,
        },
        capacity: 4,
    }
}

/// a.output fans out to b.input and c.input; b.output and c.output fan in to d.input.
fn diamond() -> &'static Spec {
    Box::leak(Box::new(Spec {
        kernel: KernelSpec {
            name: "diamond",
            fqdn: "plant-a.example",
            owner: "ops",
        },
        servers: Box::leak(Box::new([
            stage("a", 1),
            stage("b", 2),
            stage("c", 3),
            stage("d", 4),
            stage("idle", 5),
        ])),
        pipes: Box::leak(Box::new([
            pipe(101, ("a", "output"), ("b", "input")),
            pipe(102, ("a", "output"), ("c", "input")),
            pipe(103, ("b", "output"), ("d", "input")),
            pipe(104, ("c", "output"), ("d", "input")),
        ])),
        control: None,
        processes: &[],
        mesh: None,
        routes: &[],
        source: None,
    }))
}

#[test]
fn walk_ins_are_registered_from_the_spec() {
    let spec = diamond();
    let hostess = Hostess::for_spec(spec);
    assert_eq!(hostess.len(), 5);
    let b = hostess.guest(Uuid::from_u128(2));
    let Some(b) = b else {
        panic!("b is not registered")
    };
    assert_eq!(b.identity.server(), "b");
    assert_eq!(b.identity.class(), 0x0a01);
    let names: Vec<&str> = b.terminals.iter().map(|t| t.info.name.as_str()).collect();
    assert_eq!(names, ["input", "output"]);
    assert_eq!(b.terminals[0].info.kind, TerminalKind::Combine);
    assert!(b.is_free());
    // Booting twice registers nothing new.
    assert!(hostess.register_spec(spec).is_empty());
    assert_eq!(hostess.len(), 5);
}

#[test]
fn a_bad_identity_in_a_spec_is_reported_and_the_rest_registered() {
    let mut servers = vec![stage("a", 1), stage("b", 2)];
    servers[1].identity = "plant-a.example:B:0x1:ops:no:none:00000000-0000-0000-0000-000000000002";
    let spec: &'static Spec = Box::leak(Box::new(Spec {
        kernel: KernelSpec {
            name: "k",
            fqdn: "plant-a.example",
            owner: "ops",
        },
        servers: Box::leak(servers.into_boxed_slice()),
        pipes: &[],
        control: None,
        processes: &[],
        mesh: None,
        routes: &[],
        source: None,
    }));
    let hostess = Hostess::new();
    let errors = hostess.register_spec(spec);
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].to_string(),
        "server `b` has an invalid guest identity: invalid server name in guest identity: \
         `B` is not allowed in a server name ([a-z0-9_-]+)"
    );
    assert_eq!(hostess.len(), 1);
}

#[test]
fn the_spec_is_booked_under_its_pipe_ids_and_disconnecting_frees_terminals() {
    let spec = diamond();
    let hostess = Hostess::for_spec(spec);
    let plan = ok(plan_for_spec(spec, "control"));
    // One want per server that takes part in a pipe: exact identity, count 1.
    assert_eq!(plan.wants.len(), 4);
    assert_eq!(plan.wants[0].count, 1);
    assert_eq!(plan.wants[0].terminals, ["output"]);
    assert_eq!(plan.wants[1].terminals, ["input", "output"]);

    let booking = ok(book_spec(&hostess, spec, "control"));
    let p = Uuid::from_u128;
    assert_eq!(booking.connectome_ids("a", "output"), [p(101), p(102)]);
    assert_eq!(booking.connectome_ids("b", "input"), [p(101)]);
    assert_eq!(booking.connectome_ids("d", "input"), [p(103), p(104)]);
    assert_eq!(booking.connectome_ids("idle", "input"), [] as [Uuid; 0]);
    let grant = booking.grant.clone();
    let Some(grant) = grant else {
        panic!("nothing booked")
    };
    assert_eq!(grant.terminals.len(), 6);
    assert_eq!(grant.ttl, None);

    // The guest book shows each terminal's connectome ids.
    let a = hostess.guest(p(1)).map(|g| g.terminals[1].usage.clone());
    let Some(TerminalUse::InUse {
        connectome,
        holder,
        reservation,
        ..
    }) = a
    else {
        panic!("{a:?}");
    };
    assert_eq!(connectome, [p(101), p(102)]);
    assert_eq!(holder, "control");
    assert_eq!(reservation, grant.id);
    // Terminals the wiring does not use stay free.
    let a_input = hostess.guest(p(1)).map(|g| g.terminals[0].usage.is_free());
    assert_eq!(a_input, Some(true));

    // Booking twice fails: the terminals are taken; nothing changes.
    let again = book_spec(&hostess, spec, "control");
    assert!(
        matches!(again, Err(HostessError::NotEnough { free: Some(0), .. })),
        "{again:?}"
    );

    // Disconnecting a -> b frees b.input, but a.output still feeds c.
    let freed = hostess.unbind(p(101));
    assert_eq!(freed, vec![TerminalRef::new(p(2), "input")]);
    let a_out = hostess
        .guest(p(1))
        .map(|g| g.terminals[1].usage.connectome().to_vec());
    assert_eq!(a_out, Some(vec![p(102)]));
    // Disconnecting the rest frees everything and ends the reservation.
    for id in [102, 103, 104] {
        hostess.unbind(p(id));
    }
    assert!(hostess.guests().iter().all(|g| g.is_free()));
    assert!(matches!(
        hostess.renew(grant.id),
        Err(HostessError::Released { .. })
    ));
    assert!(hostess.reservations().is_empty());
    // Unknown connectome ids free nothing.
    assert!(hostess.unbind(p(999)).is_empty());
}

#[test]
fn a_plan_is_booked_all_or_nothing() {
    let hostess = Hostess::new();
    populate(&hostess, 20, 4); // 5 guests per class
    let want = |m: &str, count: usize, terminals: &[&str]| Want {
        mask: mask(m),
        count,
        terminals: terminals.iter().map(|t| (*t).to_owned()).collect(),
    };
    let plan = Plan {
        holder: "planner".into(),
        ttl: None,
        wants: vec![
            want("*:*:0xa00:*:*:*:*", 2, &["in"]),
            want("*:*:0xa00/0xfffe:*:*:*:*", 7, &["in"]),
        ],
    };
    let booking = ok(hostess.book(&plan));
    assert_eq!(booking.picks[0].len(), 2);
    assert_eq!(booking.picks[1].len(), 7);
    // No guest terminal twice: the second want skipped the first want's picks.
    let mut seen: Vec<Uuid> = booking
        .picks
        .iter()
        .flatten()
        .map(|p| p.identity.uuid())
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 9);
    assert_eq!(booking.grant.terminals.len(), 9);

    // 10 guests have classes 0xa00/0xa01; 9 `in` terminals are taken, so a
    // plan wanting 2 more fails whole, and its first want books nothing.
    let before = hostess.menu();
    let plan = Plan {
        holder: "planner".into(),
        ttl: None,
        wants: vec![
            want("*:*:0xa02:*:*:*:*", 1, &["in"]),
            want("*:*:0xa00/0xfffe:*:*:*:*", 2, &["in"]),
        ],
    };
    let e = hostess.book(&plan);
    let msg = e.as_ref().err().map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(
        msg,
        "wanted 2 but only 1 guest of the 10 matching `*:*:0x00000a00/0x0000fffe:*:*:*:* \
         (want 2 of the plan)` have the wanted terminals free; nothing was reserved"
    );
    assert_eq!(hostess.menu(), before);
    // A guest without the wanted terminal does not qualify.
    let plan = Plan {
        holder: "planner".into(),
        ttl: None,
        wants: vec![want("*:*:*:*:*:*:*", 1, &["nope"])],
    };
    assert!(matches!(
        hostess.book(&plan),
        Err(HostessError::NotEnough {
            free: Some(0),
            found: 20,
            ..
        })
    ));
}

#[test]
fn events_tell_grants_releases_and_expiries() {
    let clock = ManualClock::new();
    let hostess = Hostess::with_clock(clock.clone());
    populate(&hostess, 2, 1);
    let events = hostess.events();
    let a = ok(hostess.reserve(ReserveRequest {
        holder: "peer:b".into(),
        terminals: vec![terminal(0, "in")],
        ttl: Some(Duration::from_secs(1)),
    }));
    let b = ok(hostess.reserve(ReserveRequest {
        holder: "peer:b".into(),
        terminals: vec![terminal(1, "in")],
        ttl: None,
    }));
    ok(hostess.release(b.id));
    clock.advance(Duration::from_secs(1));
    assert_eq!(hostess.expire_due().len(), 1);
    let got: Vec<HostessEvent> = events.try_iter().collect();
    assert_eq!(
        got,
        vec![
            HostessEvent::Granted { grant: a.clone() },
            HostessEvent::Granted { grant: b.clone() },
            HostessEvent::Ended {
                grant: b,
                how: Ended::Released,
                at: Duration::ZERO
            },
            HostessEvent::Ended {
                grant: a,
                how: Ended::Expired,
                at: Duration::from_secs(1)
            },
        ]
    );
}

#[test]
fn connecting_at_run_time_books_free_terminals_and_binds_held_ones() {
    let spec = diamond();
    let hostess = Hostess::for_spec(spec);
    ok(book_spec(&hostess, spec, "control"));
    let p = Uuid::from_u128;
    // A new consumer of a.output (already held by `control`) on idle.input (free).
    let bindings = [
        (TerminalRef::new(p(1), "output"), p(105)),
        (TerminalRef::new(p(5), "input"), p(105)),
    ];
    ok(hostess.connect("control", &bindings));
    let a_out = hostess
        .guest(p(1))
        .map(|g| g.terminals[1].usage.connectome().to_vec());
    assert_eq!(a_out, Some(vec![p(101), p(102), p(105)]));
    let idle_in = hostess.guest(p(5)).map(|g| g.terminals[0].usage.clone());
    assert!(matches!(idle_in, Some(TerminalUse::InUse { ref holder, .. }) if holder == "control"));
    // Someone else cannot connect to a terminal `control` holds; nothing changes.
    let before = hostess.guests();
    let e = hostess.connect(
        "peer:x",
        &[
            (TerminalRef::new(p(5), "output"), p(106)),
            (TerminalRef::new(p(1), "output"), p(106)),
        ],
    );
    assert!(matches!(e, Err(HostessError::Taken { .. })), "{e:?}");
    assert_eq!(hostess.guests(), before);
    // Disconnecting frees idle.input again.
    assert_eq!(
        hostess.unbind(p(105)),
        vec![TerminalRef::new(p(5), "input")]
    );
    assert!(hostess.guest(p(5)).is_some_and(|g| g.is_free()));
}

#[test]
fn the_kernels_booking_ends_only_when_its_pipes_let_go() {
    let spec = diamond();
    let hostess = Hostess::for_spec(spec);
    let p = Uuid::from_u128;
    let booking = ok(book_spec(&hostess, spec, "control"));
    let Some(grant) = booking.grant else {
        panic!("nothing booked")
    };
    assert!(grant.kernel);
    let before = hostess.guests();
    // Not released, renewed or bound by hand.
    for e in [
        hostess.release(grant.id).err(),
        hostess.renew(grant.id).err(),
        hostess
            .bind(grant.id, &[(TerminalRef::new(p(1), "output"), p(200))])
            .err(),
    ] {
        assert_eq!(e, Some(HostessError::KernelBooking { id: grant.id }));
    }
    assert_eq!(hostess.guests(), before);
    // Its name is the kernel's alone.
    let e = hostess.reserve(ReserveRequest {
        holder: "control".into(),
        terminals: vec![TerminalRef::new(p(5), "input")],
        ttl: None,
    });
    assert!(matches!(e, Err(HostessError::KernelHolder { .. })), "{e:?}");
    let e = hostess.book(&Plan {
        holder: "control".into(),
        ttl: None,
        wants: vec![Want {
            mask: GuestMask::any(),
            count: 1,
            terminals: vec!["input".into()],
        }],
    });
    assert!(matches!(e, Err(HostessError::KernelHolder { .. })), "{e:?}");
    assert_eq!(hostess.guests(), before);
    // Disconnecting its pipes ends it.
    for id in [101, 102, 103, 104] {
        hostess.unbind(p(id));
    }
    assert!(hostess.reservations().is_empty());
}

#[test]
fn a_live_pipe_never_joins_a_lease_that_can_expire() {
    let spec = diamond();
    let clock = ManualClock::new();
    let hostess = Hostess::with_clock(clock.clone());
    assert!(hostess.register_spec(spec).is_empty());
    let p = Uuid::from_u128;
    // A lease under the name the kernel books its live connections with.
    let lease = ok(hostess.reserve(ReserveRequest {
        holder: "mesh".into(),
        terminals: vec![TerminalRef::new(p(5), "input")],
        ttl: Some(Duration::from_secs(1)),
    }));
    let e = hostess.connect("mesh", &[(TerminalRef::new(p(5), "input"), p(107))]);
    assert!(matches!(e, Err(HostessError::Taken { .. })), "{e:?}");
    // Once it expired, the connection books the terminal for the kernel, and
    // no expiry frees it.
    clock.advance(Duration::from_secs(1));
    ok(hostess.connect("mesh", &[(TerminalRef::new(p(5), "input"), p(107))]));
    clock.advance(Duration::from_secs(48 * 3600));
    let usage = hostess.guest(p(5)).map(|g| g.terminals[0].usage.clone());
    assert!(
        matches!(&usage, Some(TerminalUse::InUse { connectome, reservation, .. })
            if connectome == &[p(107)] && *reservation != lease.id),
        "{usage:?}"
    );
}

#[test]
fn a_connectome_id_stands_for_the_terminals_of_one_user() {
    let spec = diamond();
    let hostess = Hostess::for_spec(spec);
    ok(book_spec(&hostess, spec, "control"));
    let p = Uuid::from_u128;
    let lease = ok(hostess.reserve(ReserveRequest {
        holder: "planner".into(),
        terminals: vec![TerminalRef::new(p(5), "output")],
        ttl: Some(Duration::from_secs(60)),
    }));
    // Not under the id of a pipe of the kernel: its disconnect would free
    // the lease's terminal.
    let e = hostess.bind(lease.id, &[(TerminalRef::new(p(5), "output"), p(101))]);
    assert!(matches!(e, Err(HostessError::BadTerminals { .. })), "{e:?}");
    // Under an id of its own; the kernel then cannot use that id.
    ok(hostess.bind(lease.id, &[(TerminalRef::new(p(5), "output"), p(300))]));
    let e = hostess.connect("control", &[(TerminalRef::new(p(5), "input"), p(300))]);
    assert!(matches!(e, Err(HostessError::Taken { .. })), "{e:?}");
    assert!(
        hostess
            .guest(p(5))
            .is_some_and(|g| g.terminals[0].usage.is_free())
    );
}

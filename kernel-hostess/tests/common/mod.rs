//! Helpers shared by the Hostess tests.
#![allow(dead_code)]

use kernel_hostess::{Guest, GuestIdentity, Hostess, TerminalInfo, TerminalRef};
use wiring_model::{Auth, TerminalKind, Uuid};

/// Guest number `i`: uuid `i + 1`, host `plant-<i % 3>.example`, server `srv<i>`.
pub fn guest(i: usize, class: u32, owner: &str, terminals: &[&str]) -> Guest {
    let identity = GuestIdentity::new(
        &format!("plant-{}.example", i % 3),
        &format!("srv{i:06}"),
        class,
        owner,
        Auth::No,
        "none",
        uuid(i),
    );
    let Ok(identity) = identity else {
        panic!("bad test identity: {identity:?}");
    };
    let terminals = terminals
        .iter()
        .enumerate()
        .map(|(k, name)| TerminalInfo {
            name: (*name).to_owned(),
            kind: if k.is_multiple_of(2) {
                TerminalKind::Input
            } else {
                TerminalKind::Output
            },
            message_type: "f64".to_owned(),
        })
        .collect();
    match Guest::new(identity, terminals) {
        Ok(g) => g,
        Err(e) => panic!("{e}"),
    }
}

pub fn uuid(i: usize) -> Uuid {
    Uuid::from_u128(i as u128 + 1)
}

pub fn terminal(i: usize, name: &str) -> TerminalRef {
    TerminalRef::new(uuid(i), name)
}

/// A Hostess with `n` guests of classes `0x0a00 + i % classes`, owner
/// `ops` or `lab`, terminals `in` and `out`.
pub fn populate(hostess: &Hostess, n: usize, classes: u32) {
    for i in 0..n {
        let class = 0x0a00 + (i as u32 % classes);
        let owner = if i.is_multiple_of(2) { "ops" } else { "lab" };
        if let Err(e) = hostess.register(guest(i, class, owner, &["in", "out"])) {
            panic!("{e}");
        }
    }
}

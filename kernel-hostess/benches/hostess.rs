//! Hostess benchmarks: mask queries over 100,000 guests, and reservation
//! throughput (reserve + release) uncontended and from 8 threads.
//!
//! `cargo bench -p kernel --bench hostess`

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use divan::Bencher;
use kernel_hostess::{
    Guest, GuestIdentity, GuestMask, Hostess, ReserveRequest, TerminalInfo, TerminalRef,
};
use wiring_model::{Auth, TerminalKind, Uuid};

fn main() {
    divan::main();
}

const GUESTS: usize = 100_000;

fn guest(i: usize) -> Guest {
    let identity = GuestIdentity::new(
        &format!("plant-{}.example", i % 50),
        &format!("srv{i:06}"),
        0x0a00 + (i % 100) as u32, // 100 classes, 1,000 guests each
        if i.is_multiple_of(2) { "ops" } else { "lab" },
        Auth::No,
        "none",
        Uuid::from_u128(i as u128 + 1),
    );
    let terminals = ["in", "out"]
        .iter()
        .map(|name| TerminalInfo {
            name: (*name).to_owned(),
            kind: TerminalKind::Input,
            message_type: "f64".to_owned(),
        })
        .collect();
    match identity.map(|id| Guest::new(id, terminals)) {
        Ok(Ok(g)) => g,
        _ => unreachable_guest(i),
    }
}

#[cold]
fn unreachable_guest(i: usize) -> Guest {
    panic!("benchmark guest {i} is invalid")
}

/// 100,000 registered guests, shared by the benchmarks.
fn hostess() -> &'static Hostess {
    static HOSTESS: OnceLock<Hostess> = OnceLock::new();
    HOSTESS.get_or_init(|| {
        let h = Hostess::new();
        for i in 0..GUESTS {
            let _ = h.register(guest(i));
        }
        h
    })
}

fn mask(text: &str) -> GuestMask {
    match text.parse() {
        Ok(m) => m,
        Err(e) => panic!("{text}: {e}"),
    }
}

mod query {
    use super::*;

    /// Every guest of one class (1,000 of 100,000): a full scan.
    #[divan::bench]
    fn one_class_all_matches(b: Bencher) {
        let h = hostess();
        let m = mask("*:*:0x00000a07:*:*:*:*");
        b.bench(|| h.query(divan::black_box(&m), None).map(|g| g.len()));
    }

    /// "4 servers of class X": stops at the fourth match.
    #[divan::bench]
    fn four_of_one_class(b: Bencher) {
        let h = hostess();
        let m = mask("*:*:0x00000a63:*:*:*:*");
        b.bench(|| h.query(divan::black_box(&m), Some(4)).map(|g| g.len()));
    }

    /// A value/mask class match with globs on host and server name, matching
    /// 100 guests: a full scan with string matching.
    #[divan::bench]
    fn globs_and_class_bits(b: Bencher) {
        let h = hostess();
        let m = mask("plant-1?.example:srv*7:0x00000a00/0x0000ff00:ops:*:*:*");
        b.bench(|| h.query(divan::black_box(&m), None).map(|g| g.len()));
    }

    /// A mask matching nothing: the pure scan cost over 100,000 guests.
    #[divan::bench]
    fn no_match_full_scan(b: Bencher) {
        let h = hostess();
        let m = mask("*:*:0x0000beef:*:*:*:*");
        b.bench(|| h.count(divan::black_box(&m)));
    }

    /// One guest by uuid.
    #[divan::bench]
    fn exact_uuid(b: Bencher) {
        let h = hostess();
        let m = mask(&format!("*:*:*:*:*:*:{}", Uuid::from_u128(4242)));
        b.bench(|| h.query(divan::black_box(&m), Some(1)).map(|g| g.len()));
    }
}

mod reservation {
    use super::*;

    static NEXT: AtomicUsize = AtomicUsize::new(0);

    /// Reserve one terminal and release it again. Each call takes the next
    /// terminal round-robin over the 200,000, so concurrent threads do not
    /// collide on a terminal, only on the Hostess's lock.
    fn reserve_release(h: &Hostess) {
        let i = NEXT.fetch_add(1, Ordering::Relaxed) % (GUESTS * 2);
        let request = ReserveRequest {
            holder: "bench".to_owned(),
            terminals: vec![TerminalRef::new(
                Uuid::from_u128((i / 2) as u128 + 1),
                if i.is_multiple_of(2) { "in" } else { "out" },
            )],
            ttl: Some(std::time::Duration::from_secs(60)),
        };
        if let Ok(grant) = h.reserve(request) {
            let _ = h.release(grant.id);
        }
    }

    #[divan::bench]
    fn uncontended(b: Bencher) {
        let h = hostess();
        b.bench(|| reserve_release(h));
    }

    #[divan::bench(threads = 8)]
    fn eight_threads(b: Bencher) {
        let h = hostess();
        b.bench(|| reserve_release(h));
    }

    /// Renewing a lease.
    #[divan::bench]
    fn renew(b: Bencher) {
        let h = hostess();
        let grant = h.reserve(ReserveRequest {
            holder: "bench".to_owned(),
            terminals: vec![TerminalRef::new(Uuid::from_u128(99_999), "in")],
            ttl: Some(std::time::Duration::from_secs(600)),
        });
        let Ok(grant) = grant else { return };
        b.bench(|| h.renew(divan::black_box(grant.id)).map(|g| g.token));
        let _ = h.release(grant.id);
    }
}

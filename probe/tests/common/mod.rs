//! Shared by the probe's tests: beacons on free loopback ports, temporary
//! state directories, the probe binary and a blocking frame reader.
#![allow(dead_code)] // Each test file uses a part.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use kernel::net::NetError;
use kernel::net::beacon::{Beacon, BeaconOptions};
use kernel::net::frame::{Frame, HEADER_LEN, MAX_PAYLOAD};
use kernel::net::ports::PortRange;
use kernel::net::probe::PASSPHRASE_ENV;

pub const PASSPHRASE: &str = "correct horse battery staple";

/// A fresh directory under the system's temporary directory.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("probe-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A beacon on 127.0.0.1 with its primary at `base` and `extra` range ports
/// after it, for the first `base` where `prepare(base)` and the start work.
/// `prepare` may occupy ports of the range before the beacon starts; what it
/// returns is kept alive alongside the beacon.
pub fn start_beacon<T>(
    state: &std::path::Path,
    extra: u16,
    mut prepare: impl FnMut(u16) -> Option<T>,
) -> (Beacon, u16, T) {
    // Spread concurrent test processes over the range.
    let mut base = 20_000 + u16::try_from(std::process::id() % 200).unwrap() * 50;
    for _ in 0..100 {
        let free = (base..=base + extra + 1).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok());
        if free && let Some(kept) = prepare(base) {
            let options =
                BeaconOptions::new(SocketAddr::from(([127, 0, 0, 1], base)), PASSPHRASE, state)
                    .range(PortRange::new(base + 1, base + extra).unwrap());
            match Beacon::start(options) {
                Ok(beacon) => return (beacon, base, kept),
                Err(NetError::Io { .. }) => {}
                Err(e) => panic!("beacon: {e}"),
            }
        }
        base += extra + 1;
        if base > 60_000 {
            base = 20_000;
        }
    }
    panic!("no free port range for a beacon");
}

/// Runs the probe binary with `args` and the passphrase in the environment.
pub fn probe(args: &[String], passphrase: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_probe"));
    command.args(args).env_remove(PASSPHRASE_ENV);
    if let Some(passphrase) = passphrase {
        command.env(PASSPHRASE_ENV, passphrase);
    }
    command.output().unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A blocking connection speaking frames, for attacks and fake beacons.
pub struct Conn(pub TcpStream);

impl Conn {
    pub fn connect(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Conn(stream)
    }

    pub fn send(&mut self, frame: &Frame) {
        self.0.write_all(&frame.encode().unwrap()).unwrap();
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.0.write_all(bytes).unwrap();
    }

    /// The next frame; `Err` on end of stream or a bad frame.
    pub fn recv(&mut self) -> Result<Frame, String> {
        let mut header = [0u8; HEADER_LEN];
        self.0.read_exact(&mut header).map_err(|e| e.to_string())?;
        let [kind, l0, l1, l2, l3] = header;
        let len = usize::try_from(u32::from_be_bytes([l0, l1, l2, l3])).unwrap();
        if len > MAX_PAYLOAD {
            return Err(format!("a frame of {len} bytes"));
        }
        let mut payload = vec![0u8; len];
        self.0.read_exact(&mut payload).map_err(|e| e.to_string())?;
        Frame::decode(kind, &payload).map_err(|e| e.to_string())
    }

    /// Whether the peer closed the connection (after any frames it sent),
    /// cleanly or with a reset (it closed with our bytes still unread).
    pub fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        match self.0.read_to_end(&mut rest) {
            Ok(_) => true,
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        }
    }
}

use kernel::prelude::*;
use kernel::{Auth, TerminalKind};

#[derive(Manifest)]
#[manifest(
    name = "mixer-2",
    class = 0x0a01,
    owner = "ops",
    auth = "yes",
    auth_mechanism = "hmac-sha256"
)]
pub struct Mixer {
    #[terminal(name = "raw", doc = "raw samples from the field")]
    pub samples: Input<Vec<u8>>,
    pub merged: Combine<(u32, String)>,
    pub level: Output<f64>,
    #[terminal(doc = "every alarm, to every listener")]
    pub alarms: Multiplex<String>,
    gain: f64,
}

#[derive(serde::Deserialize, Default)]
pub struct MixerConfig {
    pub gain: f64,
}

impl Server for Mixer {
    type Config = MixerConfig;

    fn new(config: MixerConfig) -> Self {
        Mixer {
            samples: Input::default(),
            merged: Combine::default(),
            level: Output::default(),
            alarms: Multiplex::default(),
            gain: config.gain,
        }
    }

    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        while let Some(sample) = self.samples.recv() {
            let level = sample.len() as f64 * self.gain;
            self.level.send(level)?;
        }
        Ok(())
    }
}

fn main() {
    let m = Mixer::MANIFEST;
    assert_eq!(m.name, "mixer-2");
    assert_eq!(m.class, 0x0a01);
    assert_eq!(m.owner, "ops");
    assert_eq!(m.auth, Auth::Yes);
    assert_eq!(m.auth_mechanism, "hmac-sha256");
    let terminals: Vec<(&str, TerminalKind, &str, &str)> = m
        .terminals
        .iter()
        .map(|t| (t.name, t.kind, t.message_type, t.doc))
        .collect();
    assert_eq!(
        terminals,
        [
            (
                "raw",
                TerminalKind::Input,
                "Vec<u8>",
                "raw samples from the field"
            ),
            ("merged", TerminalKind::Combine, "(u32, String)", ""),
            ("level", TerminalKind::Output, "f64", ""),
            (
                "alarms",
                TerminalKind::Multiplex,
                "String",
                "every alarm, to every listener"
            ),
        ]
    );
    let _: kernel::__private::Port<Input<Vec<u8>>> = Mixer::__wiring_port_raw();
    let _: kernel::__private::Port<Multiplex<String>> = Mixer::__wiring_port_alarms();
}

//! The kernel API that `#[derive(Manifest)]` expands to.

use crate::common::*;
use kernel::{KernelBuilder, Restart, Spec, TerminalKind};

#[derive(Manifest)]
#[manifest(class = 0x0a01, owner = "ops")]
pub struct Sensor {
    pub readings: Output<f64>,
    count: u64,
}

#[derive(serde::Deserialize, Default)]
pub struct SensorConfig {
    pub count: u64,
}

impl Server for Sensor {
    type Config = SensorConfig;
    fn new(config: SensorConfig) -> Self {
        Sensor {
            readings: Output::default(),
            count: config.count,
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        for i in 0..self.count {
            self.readings.send(i as f64)?;
        }
        Ok(())
    }
}

#[derive(Manifest)]
#[manifest(class = 0x0a02, owner = "ops", name = "averager")]
pub struct Average {
    #[terminal(name = "raw", doc = "readings to average")]
    pub input: Combine<f64>,
    pub mean: Multiplex<f64>,
}

impl Server for Average {
    type Config = SensorConfig;
    fn new(_: SensorConfig) -> Self {
        Average {
            input: Combine::default(),
            mean: Multiplex::default(),
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        let (mut sum, mut n) = (0.0, 0u32);
        while let Some(v) = self.input.recv() {
            sum += v;
            n += 1;
        }
        self.mean.send(sum / f64::from(n.max(1)))?;
        Ok(())
    }
}

#[derive(Manifest)]
#[manifest(class = 3, owner = "ops")]
pub struct Show {
    pub value: Input<f64>,
}

static MEANS: std::sync::Mutex<Vec<f64>> = std::sync::Mutex::new(Vec::new());

impl Server for Show {
    type Config = SensorConfig;
    fn new(_: SensorConfig) -> Self {
        Show {
            value: Input::default(),
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        while let Some(v) = self.value.recv() {
            MEANS.lock().unwrap_or_else(|e| e.into_inner()).push(v);
        }
        Ok(())
    }
}

static SPEC: Spec = Spec {
    kernel: kernel("derived"),
    servers: &[
        server("north", "Sensor", Restart::Never, Some("count = 5")),
        server("south", "Sensor", Restart::Never, Some("count = 3")),
        server("avg", "Average", Restart::Never, None),
        server("show", "Show", Restart::Never, None),
    ],
    pipes: &[
        pipe(1, ("north", "readings"), ("avg", "raw"), 2),
        pipe(2, ("south", "readings"), ("avg", "raw"), 2),
        pipe(3, ("avg", "mean"), ("show", "value"), 2),
    ],
    ..PLAIN
};

#[test]
fn derived_manifests_wire_and_run() {
    assert_eq!(Sensor::MANIFEST.name, "sensor");
    assert_eq!(Sensor::MANIFEST.class, 0x0a01);
    let raw = Average::MANIFEST.terminal("raw").unwrap();
    assert_eq!(
        (raw.kind, raw.message_type, raw.doc),
        (TerminalKind::Combine, "f64", "readings to average")
    );

    let mut b = KernelBuilder::new(&SPEC);
    b.server::<Sensor>("north").unwrap();
    b.server::<Sensor>("south").unwrap();
    b.server_default::<Average>("avg").unwrap();
    b.server_default::<Show>("show").unwrap();
    b.connect(
        0,
        kernel::__private::ends(
            Sensor::__wiring_port_readings(),
            Average::__wiring_port_raw(),
        ),
    )
    .unwrap();
    b.connect(
        1,
        kernel::__private::ends(
            Sensor::__wiring_port_readings(),
            Average::__wiring_port_raw(),
        ),
    )
    .unwrap();
    b.connect(
        2,
        kernel::__private::ends(Average::__wiring_port_mean(), Show::__wiring_port_value()),
    )
    .unwrap();
    b.build().unwrap().run().unwrap();
    // (0+1+2+3+4 + 0+1+2) / 8
    assert_eq!(*MEANS.lock().unwrap(), [13.0 / 8.0]);
}

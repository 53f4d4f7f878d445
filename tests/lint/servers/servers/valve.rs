use kernel::prelude::*;

/// Opens to `position` percent; its config has a field of every kind the
/// build step checks, and no `Default`.
#[derive(Manifest)]
#[manifest(class = 0x0a09, owner = "ops")]
pub struct Valve {
    pub setpoints: Input<f64>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ValveConfig {
    pub position: u8,
    pub label: String,
    #[serde(default)]
    pub sample_rate: f64,
    pub limits: Option<Limits>,
    #[serde(alias = "labels")]
    pub tags: Vec<String>,
}

#[derive(serde::Deserialize)]
pub struct Limits {
    pub low: i32,
    pub high: i32,
}

impl Server for Valve {
    type Config = ValveConfig;
    fn new(_: ValveConfig) -> Self {
        Valve {
            setpoints: Input::default(),
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        Ok(())
    }
}

/// Its config's `Default` is written by hand: no `config` needed.
#[derive(Manifest)]
#[manifest(class = 0x0a0a, owner = "ops")]
pub struct Gate {
    pub input: Input<f64>,
}

#[derive(serde::Deserialize)]
pub struct GateConfig {
    pub open: bool,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig { open: true }
    }
}

impl Server for Gate {
    type Config = GateConfig;
    fn new(_: GateConfig) -> Self {
        Gate {
            input: Input::default(),
        }
    }
    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        Ok(())
    }
}

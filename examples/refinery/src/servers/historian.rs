//! The historian keeps running statistics of every grade.

use std::collections::BTreeMap;

use kernel::prelude::*;

use super::{Cut, Grade};

#[derive(Manifest)]
#[manifest(class = 0x0e01, owner = "ops")]
pub struct Historian {
    #[terminal(name = "cuts", doc = "every cut the column produces")]
    pub record: Input<Cut>,
}

#[derive(Default)]
struct Stats {
    count: u64,
    mean_temperature_c: f64,
}

impl Server for Historian {
    type Config = ();

    fn new(_: ()) -> Self {
        Historian {
            record: Input::default(),
        }
    }

    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        let mut history: BTreeMap<Grade, Stats> = BTreeMap::new();
        while let Some(cut) = self.record.recv() {
            let stats = history.entry(cut.grade).or_default();
            stats.count += 1;
            stats.mean_temperature_c +=
                (cut.temperature_c - stats.mean_temperature_c) / stats.count as f64;
        }
        for (grade, stats) in history {
            tracing::info!(
                "{grade:?}: {} cuts, mean {:.1} C",
                stats.count,
                stats.mean_temperature_c
            );
        }
        Ok(())
    }
}

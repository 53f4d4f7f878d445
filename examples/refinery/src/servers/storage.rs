//! The tank farm stores every cut in the tank of its grade.

use std::collections::BTreeMap;

use kernel::prelude::*;

use super::{Cut, Grade};

#[derive(Manifest)]
#[manifest(class = 0x0c01, owner = "storage")]
pub struct TankFarm {
    pub cuts: Input<Cut>,
}

impl Server for TankFarm {
    type Config = ();

    fn new(_: ()) -> Self {
        TankFarm {
            cuts: Input::default(),
        }
    }

    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        let mut tanks: BTreeMap<Grade, f64> = BTreeMap::new();
        while let Some(cut) = self.cuts.recv() {
            *tanks.entry(cut.grade).or_default() += cut.volume_l;
        }
        for (grade, litres) in tanks {
            tracing::info!("tank {grade:?}: {:.0} m3", litres / 1000.0);
        }
        Ok(())
    }
}

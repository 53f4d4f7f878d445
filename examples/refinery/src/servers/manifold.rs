//! The manifold blends the wells' flows into one feed line.

use kernel::prelude::*;

use super::Sample;

#[derive(Manifest)]
#[manifest(class = 0x0a02, owner = "ops")]
pub struct Manifold {
    #[terminal(doc = "samples from every well; each well's order is kept")]
    pub inflow: Combine<Sample>,
    #[terminal(doc = "the blended feed, in arrival order")]
    pub feed: Output<Sample>,
}

impl Server for Manifold {
    type Config = ();

    fn new(_: ()) -> Self {
        Manifold {
            inflow: Combine::default(),
            feed: Output::default(),
        }
    }

    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        while let Some(sample) = self.inflow.recv() {
            self.feed.send(sample)?;
        }
        Ok(())
    }
}

//! The checker: counts what arrives and whether it came in order.

use std::io::Write as _;

use kernel::prelude::*;

#[derive(Manifest)]
#[manifest(class = 0x0c01, owner = "ops")]
pub struct Checker {
    #[terminal(doc = "the numbered stream, expected as 0, 1, 2, ...")]
    pub numbers: Input<u64>,
}

impl Server for Checker {
    type Config = ();

    fn new((): ()) -> Self {
        Checker {
            numbers: Input::default(),
        }
    }

    fn run(&mut self, _ctx: &Context) -> Result<(), ServerError> {
        let (mut received, mut out_of_order, mut expected) = (0u64, 0u64, 0u64);
        while let Some(n) = self.numbers.recv() {
            received += 1;
            if n != expected {
                out_of_order += 1;
            }
            expected = n.saturating_add(1);
        }
        // Reports on stdout; a closed stdout must not fail the run.
        let _ = writeln!(
            std::io::stdout(),
            "south: received {received} numbers, {out_of_order} out of order"
        );
        Ok(())
    }
}

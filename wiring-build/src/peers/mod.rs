//! Build-time checks across kernels: the routes of the wiring file against
//! the crates of the kernels they go to (`Config::peer`), codes E0801-E0808.

mod check;
mod view;

pub(crate) use check::check;
pub(crate) use view::{KernelView, crate_name};

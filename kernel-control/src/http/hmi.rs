//! The HMI page served at `/` (`hmi.html`): everything inline, no network
//! fetch beyond this kernel. The drawing is the kernel's own SVG
//! (`/api/v1/topology?format=svg`), and the tables come from the snapshot
//! it embeds, so both show the same states and rates. The page redraws on
//! every event of `/api/v1/events`, lists processes, routes to other
//! kernels and neighbours, keeps the event log (filterable), marks stalls
//! (and the producers they block) and failures, and offers pause/resume per
//! connection and restart/stop per server, asking for the bearer token once.

pub(crate) const PAGE: &str = include_str!("hmi.html");

//! The kernel's integration tests, one module per subject, in one test
//! binary: a binary per file linked the runtime twenty times over and ran
//! the files one after another, though most tests wait on sockets, child
//! processes and timeouts. Kernel names are unique across the modules (the
//! test servers record what they receive by kernel and server name).
//!
//! Two files stay binaries of their own: `signal.rs` raises ctrl-c in its
//! process and `soak.rs` counts the process's allocations.
//!
//! Tests that start this binary again as a child name themselves by their
//! module path (`--exact mesh::role`).

#[path = "../common/mod.rs"]
mod common;
#[path = "../control_common/mod.rs"]
mod control_common;
#[cfg(feature = "mesh")]
#[path = "../mesh_common/mod.rs"]
mod mesh_common;

mod adverts;
mod control_exhaustion;
mod control_http;
mod control_live;
mod control_mcp;
mod control_stalls;
mod control_state;
mod control_tap;
mod derive;
mod flow;
mod fusion;
mod hostess_control;
mod hostess_ledger;
mod hostess_model;
mod introduce;
mod mesh;
mod processes;
mod properties;
mod report;
mod routes_local;
mod supervision;

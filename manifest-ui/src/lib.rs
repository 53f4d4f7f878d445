//! UI tests of `#[derive(Manifest)]`, in `tests/`: every refused input gives
//! exactly the derive's message on the offending tokens, and valid servers
//! compile and run. This library is empty.

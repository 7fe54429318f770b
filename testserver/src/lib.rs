//! incluster's loopback test API server, as a library: the harness that starts it and talks to
//! its control API (used by this crate's tests, incluster's tests and the benchmarks), and the
//! benchmark Pod template the server's watch benchmark and `benches/core.rs` share. The server
//! itself is the `testserver` binary (`src/main.rs`).

pub mod harness;
pub mod podtemplate;

//! incluster: talk to the Kubernetes API server from inside a pod — from Rust, C, Python and
//! the shell.
//!
//! All behaviour lives in [`core`]; `capi` is the C ABI over it (see `include/incluster.h`),
//! and `py` (feature `python`) the Python module. Neither is Rust API: their symbols are
//! exported to C and Python (`capi` stays reachable only so the crate's own tests can use its
//! types, and is hidden from the docs; `py` is private).
//!
//! # The Rust API
//! The items re-exported here ([`Client`], [`Config`], [`Request`], [`Response`], [`PatchType`],
//! [`Error`], [`ErrorKind`], [`ApiError`], [`Result`]), the streams in [`core::watch`] and
//! [`core::logs`] and the leader election in [`core::lease`] are the Rust API, the one the CLI
//! is written against. The rest of [`core`] is public so that this repository's tests,
//! benchmarks and fuzz targets can reach its parts; it carries no stability promise.

#![deny(missing_docs)]

#[doc(hidden)]
pub mod capi;
pub mod core;
#[cfg(feature = "python")]
mod py;

pub use crate::core::api::patch::{Patch, PatchType};
pub use crate::core::api::request::{Request, Response};
pub use crate::core::client::Client;
pub use crate::core::config::Config;
pub use crate::core::error::{ApiError, Error, ErrorKind, Result};

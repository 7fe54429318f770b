//! incluster: talk to the Kubernetes API server from inside a pod — from Rust, C, Python and
//! the shell.
//!
//! All behaviour lives in [`core`]; [`capi`] is the C ABI over it (see `include/incluster.h`),
//! and `py` (feature `python`) the Python module.

#![deny(missing_docs)]

pub mod capi;
pub mod core;
#[cfg(feature = "python")]
pub mod py;

pub use crate::core::api::patch::{Patch, PatchType};
pub use crate::core::api::request::{Request, Response};
pub use crate::core::client::Client;
pub use crate::core::config::Config;
pub use crate::core::error::{ApiError, Error, ErrorKind, Result};

//! The C ABI. Conventions (also at the top of `include/incluster.h`):
//!
//! - Every symbol and type starts with `incluster_`; handles are opaque; `_new`/`_free` pairs;
//!   `_free(NULL)` is a no-op.
//! - `incluster_client` is immutable and thread-safe: share one between threads. Responses and
//!   errors belong to the caller that received them.
//! - Fallible functions return an [`result::incluster_result`] (0 = success, stable numbers
//!   grouped by class) and take an optional `incluster_error **` out-param that receives the
//!   details on failure (free it with `incluster_error_free`). Outputs are written only on
//!   success.
//! - Strings in are NUL-terminated UTF-8; strings and bodies out are owned by the library and
//!   freed with its own `_free` functions.
//! - No panic crosses this boundary: every function body runs inside `guard::guard` (or
//!   `guard_value`), and handles are borrowed and freed through `handle::Handle`.
//!
//! This module only converts; all behaviour is in [`crate::core`].

#![allow(non_camel_case_types)]

// In the order a reader meets them: cbindgen writes the header's functions in the order of
// these declarations, and the blank lines keep rustfmt from sorting them.
pub mod version;

pub mod result;

pub mod error;

pub mod config;

pub mod client;

pub mod kubeconfig;

pub mod request;

pub mod response;

pub mod access;

pub mod watch;

pub mod names;

pub mod logs;

pub mod wait;

pub mod lease;

pub mod exec;

pub mod portforward;

pub mod extract;

pub mod strings;

pub(crate) mod guard;
pub(crate) mod handle;

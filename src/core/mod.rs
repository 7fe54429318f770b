//! The core: all behaviour, in ordinary Rust types. The C, Python and CLI fronts only translate.

pub mod api;
pub mod apply;
pub mod auth;
pub mod cancel;
pub mod client;
pub mod config;
pub mod discovery;
pub mod error;
pub mod exec;
pub mod extract;
pub mod filestamp;
pub mod http;
pub mod info;
pub mod kubeconfig;
pub mod lease;
pub mod logs;
pub mod portforward;
pub mod seconds;
pub mod spdy;
pub mod stream;
pub mod tls;
pub mod wait;
pub mod watch;
pub(crate) mod ws;

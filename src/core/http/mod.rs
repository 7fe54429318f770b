//! HTTP: the pooled agent, TLS connector, proxy rules, retries and rate limit.

pub mod agent;
pub mod buffers;
pub mod connector;
pub mod interrupt;
pub mod proxy;
pub mod ratelimit;
pub(crate) mod raw;
pub mod resolver;
pub mod retry;
pub mod tcp;

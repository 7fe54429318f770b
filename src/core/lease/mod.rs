//! Leader election on a `coordination.k8s.io/v1` Lease, with client-go's algorithm and record,
//! so that an incluster process and a client-go process can contend for the same Lease.
//!
//! - [`config`]: the settings (15 s / 10 s / 2 s by default), client-go's validation and the
//!   default identity (the hostname plus a random suffix).
//! - [`record`]: the Lease's `spec` as client-go writes it, and `lease status`.
//! - [`elector`]: one contender's loop: acquire, renew, step down, release.
//! - [`election`]: that loop on its own thread, with the handle every front uses (is-leader,
//!   wait for leadership, cancel, outcome).

pub mod config;
pub mod election;
pub mod elector;
pub mod record;

pub use config::ElectionConfig;
pub use election::Election;
pub use elector::{LeaseEvent, Outcome};

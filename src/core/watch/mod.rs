//! Watching: lossless, resumable `?watch=1` streams.

pub mod event;
pub mod options;
pub mod resync;
pub(crate) mod target;
pub mod watcher;

pub use event::{Event, EventType};
pub use options::{OnGone, WatchOptions};
pub use watcher::{Listing, Watch};

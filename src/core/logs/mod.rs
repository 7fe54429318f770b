//! Pod logs: every PodLogOptions field, line framing, follow, resume without loss.

pub mod options;
pub mod stamp;
pub mod stream;

pub use options::LogOptions;
pub use stream::LogStream;

//! Authentication: the bearer token and what it says.

pub mod claims;
pub mod exec;
pub mod secret;
pub mod token;

//! Authentication: the bearer token and what it says.

pub mod claims;
pub mod secret;
pub mod token;

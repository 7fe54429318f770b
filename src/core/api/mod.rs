//! The API layer: requests, responses, URLs, patches and `Status` errors.

pub mod access;
pub mod patch;
pub mod request;
pub mod status;
pub mod url;

//! Pulling fields out of JSON without a JSON library: RFC 6901 JSON Pointer and a kubectl-style
//! JSONPath subset, for C programs and shell scripts.

pub mod jsonpath;
pub mod pointer;

//! Pieces shared by the streaming APIs (watch, log follow).

pub mod lines;

//! The library version.

use std::ffi::c_char;

/// The library version (`"0.1.0"`), matching `INCLUSTER_VERSION` in the header. Static; never
/// NULL; do not free. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn incluster_version() -> *const c_char {
    const V: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    V.as_ptr().cast()
}

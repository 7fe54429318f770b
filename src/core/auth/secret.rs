//! A string that never shows itself.

use std::fmt;

/// Holds a bearer token (or a header built from one). It has no `Display`, its `Debug` prints
/// `<redacted>`, and its bytes are overwritten when it is dropped, so a token cannot leak into
/// an error message, a log line or a core dump of freed memory by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Box<str>);

impl Secret {
    /// Wrap a secret string.
    pub fn new(s: impl Into<Box<str>>) -> Self {
        Secret(s.into())
    }

    /// The secret itself. Call only where it is sent on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // SAFETY: zero bytes are valid UTF-8, and the string is not used after this.
        let bytes = unsafe { self.0.as_bytes_mut() };
        for b in bytes.iter_mut() {
            // Volatile so the compiler cannot drop the wipe as a dead store.
            unsafe { std::ptr::write_volatile(b, 0) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_value() {
        let s = Secret::new("eyJhbGciOi.very-secret");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert!(!format!("{:?}", Some(&s)).contains("very-secret"));
        assert_eq!(s.expose(), "eyJhbGciOi.very-secret");
    }
}

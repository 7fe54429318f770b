//! A string that never shows itself.

use std::fmt;

use zeroize::Zeroize;

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

impl Zeroize for Secret {
    /// Overwrite the bytes with zeros (still valid UTF-8, same length). `zeroize` writes them
    /// so that the compiler cannot remove the wipe as a dead store.
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.zeroize();
    }
}

/// Secret bytes (a private key's PEM): like [`Secret`], never shown by `Debug` and wiped when
/// dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Wrap secret bytes.
    pub fn new(b: impl Into<Vec<u8>>) -> Self {
        SecretBytes(b.into())
    }

    /// The bytes themselves. Call only where they are used (parsing the key).
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBytes(<redacted>)")
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        self.0.zeroize();
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

    #[test]
    fn zeroize_overwrites_every_byte() {
        let mut s = Secret::new("tok-zeroize-me");
        s.zeroize();
        assert!(
            s.expose().bytes().all(|b| b == 0),
            "{:?}",
            s.expose().as_bytes()
        );
        // A clone is wiped on its own drop, and the original is unaffected by it.
        let a = Secret::new("tok-a");
        drop(a.clone());
        assert_eq!(a.expose(), "tok-a");
    }
}

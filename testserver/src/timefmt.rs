//! RFC 3339 timestamps as Go (and so the kubelet and the API server) writes and reads them,
//! on nanoseconds since the Unix epoch, through the `time` crate's RFC 3339 support.
//!
//! - [`write_nano`]: Go's `time.RFC3339Nano` in UTC: up to nine fraction digits with the
//!   trailing zeros trimmed, and no fraction at all when it is zero
//!   (`2026-11-29T03:00:00.1Z`, `2026-11-29T03:00:00Z`). The kubelet prefixes log lines with
//!   this for `timestamps=true`.
//! - [`seconds`]: `time.RFC3339` (whole seconds), what `metav1.Time` serialises to.
//! - [`parse`]: an RFC 3339 timestamp (`YYYY-MM-DDTHH:MM:SS`, an optional fraction, then `Z`
//!   or a `±HH:MM` offset), as `time.Parse(time.RFC3339, s)` reads it.

use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Now, in nanoseconds since the epoch (0 if the clock is before it).
pub fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The instant `nanos` after the epoch. Every `u64` of nanoseconds (until the year 2554) is
/// in `time`'s range.
fn instant(nanos: u64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Append the RFC3339Nano form of `nanos` (see the module documentation): `time` writes the
/// fraction with its trailing zeros trimmed, and none when it is zero, as Go does.
pub fn write_nano(out: &mut Vec<u8>, nanos: u64) {
    // Formatting a UTC instant in range into a Vec cannot fail.
    let _ = instant(nanos).format_into(out, &Rfc3339);
}

/// The RFC3339Nano form of `nanos` as a string.
pub fn nano(nanos: u64) -> String {
    let mut out = Vec::with_capacity(30);
    write_nano(&mut out, nanos);
    String::from_utf8_lossy(&out).into_owned()
}

/// The RFC3339 form (whole seconds, truncated) of `nanos`.
pub fn seconds(nanos: u64) -> String {
    nano(nanos - nanos % 1_000_000_000)
}

/// Parse an RFC 3339 timestamp into nanoseconds since the epoch (negative before it).
pub fn parse(s: &str) -> Option<i128> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp_nanos)
}

//! RFC 3339 timestamps as Go (and so the kubelet and the API server) writes and reads them,
//! on nanoseconds since the Unix epoch. Hand-written to keep the server free of a date crate.
//!
//! - [`write_nano`]: Go's `time.RFC3339Nano` in UTC: up to nine fraction digits with the
//!   trailing zeros trimmed, and no fraction at all when it is zero
//!   (`2026-11-29T03:00:00.1Z`, `2026-11-29T03:00:00Z`). The kubelet prefixes log lines with
//!   this for `timestamps=true`.
//! - [`seconds`]: `time.RFC3339` (whole seconds), what `metav1.Time` serialises to.
//! - [`parse`]: what `time.Parse(time.RFC3339, s)` accepts: `YYYY-MM-DDTHH:MM:SS`, an optional
//!   fraction of any length, then `Z` or a `±HH:MM` offset.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

const NANOS: i128 = 1_000_000_000;
const DAY: i128 = 86_400;

/// Now, in nanoseconds since the epoch (0 if the clock is before it).
pub fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The civil date of a day number (days since 1970-01-01), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    // Both fit: the day is 1..=31 and the month 1..=12.
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The day number of a civil date (the inverse of [`civil_from_days`]).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY-MM-DDTHH:MM:SS` of a whole number of seconds since the epoch.
fn write_date_time(out: &mut Vec<u8>, secs: u64) {
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    // Writing into a Vec cannot fail.
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
}

/// Append the RFC3339Nano form of `nanos` (see the module documentation).
pub fn write_nano(out: &mut Vec<u8>, nanos: u64) {
    write_date_time(out, nanos / 1_000_000_000);
    let mut frac = nanos % 1_000_000_000;
    if frac != 0 {
        let mut digits = 9;
        while frac.is_multiple_of(10) {
            frac /= 10;
            digits -= 1;
        }
        let _ = write!(out, ".{frac:0digits$}");
    }
    out.push(b'Z');
}

/// The RFC3339Nano form of `nanos` as a string.
pub fn nano(nanos: u64) -> String {
    let mut out = Vec::with_capacity(30);
    write_nano(&mut out, nanos);
    String::from_utf8_lossy(&out).into_owned()
}

/// The RFC3339 form (whole seconds, truncated) of `nanos`.
pub fn seconds(nanos: u64) -> String {
    let mut out = Vec::with_capacity(20);
    write_date_time(&mut out, nanos / 1_000_000_000);
    out.push(b'Z');
    String::from_utf8_lossy(&out).into_owned()
}

/// Parse an RFC 3339 timestamp into nanoseconds since the epoch (negative before it).
pub fn parse(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let digits = b.get(from..from + len)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        digits.iter().try_fold(0u32, |n, d| {
            n.checked_mul(10)?.checked_add(u32::from(d - b'0'))
        })
    };
    let sep = |at: usize, c: u8| (b.get(at) == Some(&c)).then_some(());
    let year = i64::from(num(0, 4)?);
    sep(4, b'-')?;
    let month = num(5, 2)?;
    sep(7, b'-')?;
    let day = num(8, 2)?;
    sep(10, b'T')?;
    let hour = num(11, 2)?;
    sep(13, b':')?;
    let minute = num(14, 2)?;
    sep(16, b':')?;
    let second = num(17, 2)?;
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut at = 19;
    let mut frac: i128 = 0;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        let mut scale = NANOS / 10;
        while let Some(d) = b.get(at).filter(|d| d.is_ascii_digit()) {
            // Digits beyond nanoseconds are read and dropped, as Go does.
            frac += i128::from(d - b'0') * scale;
            scale /= 10;
            at += 1;
        }
        if at == start {
            return None;
        }
    }
    let offset_secs: i128 = match b.get(at)? {
        b'Z' if at + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if at + 6 == b.len() => {
            let h = num(at + 1, 2)?;
            sep(at + 3, b':')?;
            let m = num(at + 4, 2)?;
            if h > 23 || m > 59 {
                return None;
            }
            let o = i128::from(h * 3600 + m * 60);
            if *sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    let days = i128::from(days_from_civil(year, month, day));
    let secs = days * DAY + i128::from(hour * 3600 + minute * 60 + second) - offset_secs;
    Some(secs * NANOS + frac)
}

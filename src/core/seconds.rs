//! Durations given as seconds (`float` in Python): one set of bounds for every front.

use std::time::Duration;

use crate::core::error::{Error, Result};

/// `v` seconds for the setting `name`: finite, not negative, and small enough to be a
/// `Duration` (a huge value would otherwise panic in `Duration::from_secs_f64`).
pub fn seconds(name: &str, v: f64) -> Result<Duration> {
    if v.is_finite()
        && v >= 0.0
        && let Ok(d) = Duration::try_from_secs_f64(v)
    {
        return Ok(d);
    }
    Err(Error::invalid(format!(
        "{name} must be a number of seconds >= 0, not {v}"
    )))
}

/// [`seconds`], and more than zero: a zero timeout would fail every call at once, so it is
/// refused rather than read as "no limit" (as is a value too small to be a `Duration`).
pub fn positive_seconds(name: &str, v: f64) -> Result<Duration> {
    match seconds(name, v) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err(Error::invalid(format!(
            "{name} must be a number of seconds > 0, not {v}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert_eq!(seconds("t", 1.5).unwrap(), Duration::from_millis(1500));
        assert_eq!(seconds("t", 0.0).unwrap(), Duration::ZERO);
        for bad in [-1.0, f64::NAN, f64::INFINITY, 1e300] {
            let m = seconds("idle_timeout", bad).unwrap_err().to_string();
            assert!(m.contains("idle_timeout") && m.contains(">= 0"), "{m}");
        }
        assert!(
            positive_seconds("timeout", 0.0)
                .unwrap_err()
                .to_string()
                .contains("> 0")
        );
        assert_eq!(
            positive_seconds("timeout", 2.0).unwrap(),
            Duration::from_secs(2)
        );
    }
}

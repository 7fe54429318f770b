//! The settings of a leader election, their defaults and client-go's validation of them.

use std::io::Read;
use std::time::Duration;

use crate::core::error::{Error, Result};

/// client-go's `JitterFactor`: a follower waits between one and 2.2 retry periods between
/// tries, and the renew deadline must exceed 1.2 retry periods.
pub const JITTER_FACTOR: f64 = 1.2;

/// The settings of one contender. Build with [`ElectionConfig::new`] (client-go's defaults)
/// and set the public fields; [`ElectionConfig::validate`] checks them as client-go does.
#[derive(Debug, Clone, PartialEq)]
pub struct ElectionConfig {
    /// The Lease's name.
    pub name: String,
    /// The Lease's namespace; `None` is the client's namespace.
    pub namespace: Option<String>,
    /// This contender's identity; `None` is [`default_identity`].
    pub identity: Option<String>,
    /// How long a Lease holds without renewal (`leaseDurationSeconds`, rounded up to whole
    /// seconds in the record so that the others never wait less than this). Default 15 s.
    pub lease_duration: Duration,
    /// How long the leader keeps trying to renew before it steps down. Default 10 s.
    pub renew_deadline: Duration,
    /// How often a contender tries to acquire or renew. Default 2 s.
    pub retry_period: Duration,
    /// How long to wait for leadership before giving up; `None` waits until cancelled.
    pub wait_timeout: Option<Duration>,
}

impl ElectionConfig {
    /// The settings for the Lease `name`, with client-go's defaults (15 s / 10 s / 2 s).
    pub fn new(name: &str) -> Self {
        ElectionConfig {
            name: name.to_owned(),
            namespace: None,
            identity: None,
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
            wait_timeout: None,
        }
    }

    /// client-go's checks (all durations > 0; lease duration > renew deadline > 1.2 × retry
    /// period) and names that can be part of a path. Each failure is an
    /// [`Error::InvalidArgument`] naming the setting and its value.
    pub fn validate(&self) -> Result<()> {
        check_name("lease name", &self.name)?;
        if let Some(ns) = &self.namespace {
            check_name("namespace", ns)?;
        }
        if let Some(id) = &self.identity
            && id.is_empty()
        {
            return Err(Error::invalid(
                "identity must not be empty (leave it out for the hostname plus a random suffix)",
            ));
        }
        for (what, d) in [
            ("lease duration", self.lease_duration),
            ("renew deadline", self.renew_deadline),
            ("retry period", self.retry_period),
        ] {
            if d.is_zero() {
                return Err(Error::invalid(format!(
                    "{what} must be greater than zero, not {}",
                    show(d)
                )));
            }
        }
        if self.lease_duration <= self.renew_deadline {
            return Err(Error::invalid(format!(
                "lease duration ({}) must be greater than the renew deadline ({})",
                show(self.lease_duration),
                show(self.renew_deadline)
            )));
        }
        if self.renew_deadline.as_secs_f64() <= JITTER_FACTOR * self.retry_period.as_secs_f64() {
            return Err(Error::invalid(format!(
                "renew deadline ({}) must be greater than {JITTER_FACTOR} × the retry period ({})",
                show(self.renew_deadline),
                show(self.retry_period)
            )));
        }
        if let Some(w) = self.wait_timeout
            && w.is_zero()
        {
            return Err(Error::invalid(
                "wait timeout must be greater than zero, not 0s",
            ));
        }
        Ok(())
    }

    /// `leaseDurationSeconds` for the record: whole seconds, rounded up.
    pub fn lease_seconds(&self) -> i64 {
        let d = self.lease_duration;
        let s = d.as_secs() + u64::from(d.subsec_nanos() > 0);
        i64::try_from(s).unwrap_or(i64::MAX)
    }
}

/// A duration as a person writes it (`15s`, `1.5s`).
pub fn show(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// A name that goes into the Lease's path: not empty, no `/`, no `..`-like surprises — the
/// API server judges the rest.
fn check_name(what: &str, v: &str) -> Result<()> {
    if v.is_empty() || v.contains('/') || v == "." || v == ".." {
        return Err(Error::invalid(format!(
            "{what} {v:?} is not a valid name (a non-empty DNS name without '/')"
        )));
    }
    Ok(())
}

/// The hostname (a pod's name) with `_` and a random suffix, as client-go users conventionally
/// build it, so two contenders on one host (or a restarted pod) never share an identity.
pub fn default_identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| "incluster".to_owned());
    format!("{host}_{}", random_suffix())
}

/// Ten hex digits from the kernel's random source: enough that contenders never collide.
fn random_suffix() -> String {
    random_bytes::<5>()
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// `N` bytes from the kernel's random source (std reads it; no crate needed for a suffix and a
/// jitter). The process id and the clock stand in if it cannot be read (a sandbox without
/// /dev/urandom): uniqueness, not secrecy, is what they are for.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b));
    if read.is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let mix = (u64::from(std::process::id()) << 32 | u64::from(nanos)).to_le_bytes();
        for (i, x) in b.iter_mut().enumerate() {
            *x = mix[i % mix.len()];
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_client_gos_and_valid() {
        let c = ElectionConfig::new("x");
        assert_eq!(c.lease_duration, Duration::from_secs(15));
        assert_eq!(c.renew_deadline, Duration::from_secs(10));
        assert_eq!(c.retry_period, Duration::from_secs(2));
        c.validate().unwrap();
        assert_eq!(c.lease_seconds(), 15);
    }

    #[test]
    fn validation_names_the_bad_value() {
        let base = ElectionConfig::new("x");
        let cases: Vec<(ElectionConfig, &str)> = vec![
            (
                ElectionConfig {
                    lease_duration: Duration::from_secs(10),
                    ..base.clone()
                },
                "lease duration (10s) must be greater than the renew deadline (10s)",
            ),
            (
                ElectionConfig {
                    renew_deadline: Duration::from_millis(2400),
                    ..base.clone()
                },
                "renew deadline (2s 400ms) must be greater than 1.2 × the retry period (2s)",
            ),
            (
                ElectionConfig {
                    retry_period: Duration::ZERO,
                    ..base.clone()
                },
                "retry period must be greater than zero",
            ),
            (
                ElectionConfig {
                    name: "a/b".into(),
                    ..base.clone()
                },
                "lease name \"a/b\"",
            ),
            (
                ElectionConfig {
                    identity: Some(String::new()),
                    ..base.clone()
                },
                "identity must not be empty",
            ),
        ];
        for (c, want) in cases {
            let e = c.validate().unwrap_err();
            assert_eq!(e.kind(), crate::core::error::ErrorKind::InvalidArgument);
            assert!(e.to_string().contains(want), "{e} lacks {want:?}");
        }
    }

    #[test]
    fn lease_seconds_round_up() {
        let c = ElectionConfig {
            lease_duration: Duration::from_millis(4500),
            ..ElectionConfig::new("x")
        };
        assert_eq!(c.lease_seconds(), 5);
    }

    #[test]
    fn default_identities_differ() {
        let (a, b) = (default_identity(), default_identity());
        assert_ne!(a, b);
        assert!(a.contains('_'), "{a}");
    }
}

//! What a log request asks for (every PodLogOptions field) and how a follow resumes.

use std::time::Duration;

use crate::core::error::{Error, Result};

/// Log settings. `Default`: the whole log of the only container, no follow (a follow resumes).
#[derive(Debug, Clone, PartialEq)]
pub struct LogOptions {
    /// `container` (required by the server when the pod has several).
    pub container: Option<String>,
    /// `follow`: keep streaming new lines.
    pub follow: bool,
    /// `previous`: the log of the previous, terminated instance of the container.
    pub previous: bool,
    /// `sinceSeconds`.
    pub since_seconds: Option<u64>,
    /// `sinceTime` (RFC 3339).
    pub since_time: Option<String>,
    /// `timestamps`: prefix each line with its RFC 3339 timestamp.
    pub timestamps: bool,
    /// `tailLines`.
    pub tail_lines: Option<u64>,
    /// `limitBytes`.
    pub limit_bytes: Option<u64>,
    /// `insecureSkipTLSVerifyBackend` (the API server → kubelet hop only).
    pub insecure_skip_tls_verify_backend: bool,
    /// Resume a follow that ends or breaks while the container still runs, from the last
    /// timestamp seen, without losing or repeating lines. On by default, in every front: it
    /// only acts on a follow (`follow`, not `previous`), which is what a follower wants.
    pub resume: bool,
    /// Lines longer than this are split into pieces of this size (default 1 MiB).
    pub max_line_bytes: usize,
    /// With `resume`: after this long without a byte, check the pod and reconnect, so a dead
    /// connection is noticed while a quiet container is never given up on (default 60 s).
    pub idle_check: Duration,
    /// First delay before a resume after a break (default 0.8 s), doubled up to `backoff_max`.
    pub backoff_initial: Duration,
    /// The longest delay between resumes (default 30 s).
    pub backoff_max: Duration,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            container: None,
            follow: false,
            previous: false,
            since_seconds: None,
            since_time: None,
            timestamps: false,
            tail_lines: None,
            limit_bytes: None,
            insecure_skip_tls_verify_backend: false,
            resume: true,
            max_line_bytes: 1 << 20,
            idle_check: Duration::from_secs(60),
            backoff_initial: Duration::from_millis(800),
            backoff_max: Duration::from_secs(30),
        }
    }
}

fn boolean(key: &str, v: &str) -> Result<bool> {
    match v {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(Error::invalid(format!(
            "log option {key}={v:?}: expected true or false"
        ))),
    }
}

fn number(key: &str, v: &str) -> Result<u64> {
    v.parse()
        .map_err(|_| Error::invalid(format!("log option {key}={v:?}: expected a number")))
}

impl LogOptions {
    /// Set an option by name, as the C API passes them: the PodLogOptions names (`container`,
    /// `follow`, `previous`, `sinceSeconds`, `sinceTime`, `timestamps`, `tailLines`,
    /// `limitBytes`, `insecureSkipTLSVerifyBackend`) and incluster's (`incluster.resume`,
    /// `incluster.maxLineBytes`, `incluster.idleCheckMs`, `incluster.backoffInitialMs`,
    /// `incluster.backoffMaxMs`).
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let ms = |v: &str| number(key, v).map(Duration::from_millis);
        match key {
            "container" => self.container = Some(value.to_owned()),
            "follow" => self.follow = boolean(key, value)?,
            "previous" => self.previous = boolean(key, value)?,
            "sinceSeconds" => self.since_seconds = Some(number(key, value)?),
            "sinceTime" => {
                humantime::parse_rfc3339_weak(value).map_err(|_| {
                    Error::invalid(format!("log option sinceTime={value:?}: expected RFC 3339"))
                })?;
                self.since_time = Some(value.to_owned());
            }
            "timestamps" => self.timestamps = boolean(key, value)?,
            "tailLines" => self.tail_lines = Some(number(key, value)?),
            "limitBytes" => self.limit_bytes = Some(number(key, value)?),
            "insecureSkipTLSVerifyBackend" => {
                self.insecure_skip_tls_verify_backend = boolean(key, value)?
            }
            "incluster.resume" => self.resume = boolean(key, value)?,
            "incluster.maxLineBytes" => {
                self.max_line_bytes = usize::try_from(number(key, value)?.max(1))
                    .map_err(|_| Error::invalid("incluster.maxLineBytes is too large"))?
            }
            "incluster.idleCheckMs" => self.idle_check = ms(value)?,
            "incluster.backoffInitialMs" => self.backoff_initial = ms(value)?,
            "incluster.backoffMaxMs" => self.backoff_max = ms(value)?,
            other => return Err(Error::invalid(format!("unknown log option {other}"))),
        }
        Ok(())
    }
}

//! What a watch asks the server for, and how it behaves when the stream ends or breaks.

use std::time::Duration;

/// What to do when the server says the resourceVersion is gone (HTTP 410 / ERROR 410).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnGone {
    /// List again (paged), emit the differences between resync markers, continue from the
    /// list's resourceVersion. The default.
    Relist,
    /// Stop with an [`crate::core::error::Error::Api`] 410.
    Error,
}

impl std::str::FromStr for OnGone {
    type Err = crate::core::error::Error;

    /// `relist` or `error`, as every front spells it.
    fn from_str(s: &str) -> crate::core::error::Result<Self> {
        match s {
            "relist" => Ok(OnGone::Relist),
            "error" => Ok(OnGone::Error),
            _ => Err(crate::core::error::Error::invalid(format!(
                "on_gone={s:?}: expected \"relist\" or \"error\""
            ))),
        }
    }
}

/// Watch settings. `Default` gives what client-go's reflector does.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchOptions {
    /// `labelSelector`.
    pub label_selector: Option<String>,
    /// `fieldSelector`.
    pub field_selector: Option<String>,
    /// Start from this resourceVersion (`None`: the current state first, as ADDED events).
    pub resource_version: Option<String>,
    /// `resourceVersionMatch` for the first request (`NotOlderThan` with `send_initial_events`).
    pub resource_version_match: Option<String>,
    /// `timeoutSeconds` for each request; `None` picks a random 240–360 s per request, so many
    /// watchers do not all reconnect at once.
    pub timeout_seconds: Option<u32>,
    /// Ask for BOOKMARK events (on by default): they advance the resourceVersion while nothing
    /// changes, so a resume after a quiet period does not hit 410.
    pub allow_bookmarks: bool,
    /// Hand BOOKMARK events to the consumer too (off by default).
    pub deliver_bookmarks: bool,
    /// `sendInitialEvents` (streaming list) on the first request.
    pub send_initial_events: bool,
    /// Extra query parameters.
    pub extra_params: Vec<(String, String)>,
    /// The largest event line accepted (default 64 MiB).
    pub max_event_bytes: usize,
    /// Resume from the last resourceVersion when the stream ends or breaks (default on).
    pub resume: bool,
    /// What to do on 410 Gone.
    pub on_gone: OnGone,
    /// The longest wait for the next bytes before the connection counts as dead; `None`:
    /// `timeoutSeconds` + 30 s (only a half-open connection can be that quiet, since the server
    /// ends the request at `timeoutSeconds` and sends bookmarks meanwhile).
    pub idle_timeout: Option<Duration>,
    /// First delay after a broken stream (client-go: 800 ms), doubled up to `backoff_max`.
    pub backoff_initial: Duration,
    /// The longest delay between reconnects (client-go: 30 s).
    pub backoff_max: Duration,
    /// After this long without a failure the delay starts over from `backoff_initial`.
    pub backoff_reset_after: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            label_selector: None,
            field_selector: None,
            resource_version: None,
            resource_version_match: None,
            timeout_seconds: None,
            allow_bookmarks: true,
            deliver_bookmarks: false,
            send_initial_events: false,
            extra_params: Vec::new(),
            max_event_bytes: 64 << 20,
            resume: true,
            on_gone: OnGone::Relist,
            idle_timeout: None,
            backoff_initial: Duration::from_millis(800),
            backoff_max: Duration::from_secs(30),
            backoff_reset_after: Duration::from_secs(120),
        }
    }
}

fn boolean(key: &str, value: &str) -> crate::core::error::Result<bool> {
    match value {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(crate::core::error::Error::invalid(format!(
            "watch option {key}={value:?}: expected true or false"
        ))),
    }
}

fn number<T: std::str::FromStr>(key: &str, value: &str) -> crate::core::error::Result<T> {
    value.parse().map_err(|_| {
        crate::core::error::Error::invalid(format!(
            "watch option {key}={value:?}: expected a number"
        ))
    })
}

impl WatchOptions {
    /// Set an option by its name, as the C API and the CLI pass them: the API's query names
    /// (`labelSelector`, `fieldSelector`, `resourceVersion`, `resourceVersionMatch`,
    /// `timeoutSeconds`, `allowWatchBookmarks`, `sendInitialEvents`), incluster's own
    /// (`incluster.deliverBookmarks`, `incluster.maxEventBytes`, `incluster.resume`,
    /// `incluster.onGone` = `relist`|`error`, `incluster.idleTimeoutMs`,
    /// `incluster.backoffInitialMs`, `incluster.backoffMaxMs`); any other name is sent as an
    /// extra query parameter.
    pub fn set(&mut self, key: &str, value: &str) -> crate::core::error::Result<()> {
        let ms = |v: &str| number::<u64>(key, v).map(Duration::from_millis);
        match key {
            "labelSelector" => self.label_selector = Some(value.to_owned()),
            "fieldSelector" => self.field_selector = Some(value.to_owned()),
            "resourceVersion" => self.resource_version = Some(value.to_owned()),
            "resourceVersionMatch" => self.resource_version_match = Some(value.to_owned()),
            "timeoutSeconds" => self.timeout_seconds = Some(number(key, value)?),
            "allowWatchBookmarks" => self.allow_bookmarks = boolean(key, value)?,
            "sendInitialEvents" => self.send_initial_events = boolean(key, value)?,
            "incluster.deliverBookmarks" => self.deliver_bookmarks = boolean(key, value)?,
            "incluster.maxEventBytes" => self.max_event_bytes = number(key, value)?,
            "incluster.resume" => self.resume = boolean(key, value)?,
            "incluster.onGone" => self.on_gone = value.parse()?,
            "incluster.idleTimeoutMs" => self.idle_timeout = Some(ms(value)?),
            "incluster.backoffInitialMs" => self.backoff_initial = ms(value)?,
            "incluster.backoffMaxMs" => self.backoff_max = ms(value)?,
            "watch" => {
                return Err(crate::core::error::Error::invalid(
                    "watch option watch: set by the watch itself",
                ));
            }
            other if other.starts_with("incluster.") => {
                return Err(crate::core::error::Error::invalid(format!(
                    "unknown watch option {other}"
                )));
            }
            other => self.extra_params.push((other.to_owned(), value.to_owned())),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_options() {
        let mut o = WatchOptions::default();
        o.set("labelSelector", "app=x").unwrap();
        o.set("timeoutSeconds", "5").unwrap();
        o.set("incluster.onGone", "error").unwrap();
        o.set("incluster.idleTimeoutMs", "1500").unwrap();
        o.set("pretty", "true").unwrap();
        assert_eq!(o.label_selector.as_deref(), Some("app=x"));
        assert_eq!(o.timeout_seconds, Some(5));
        assert_eq!(o.on_gone, OnGone::Error);
        assert_eq!(o.idle_timeout, Some(Duration::from_millis(1500)));
        assert_eq!(
            o.extra_params,
            vec![("pretty".to_string(), "true".to_string())]
        );
        assert!(o.set("timeoutSeconds", "soon").is_err());
        assert!(o.set("incluster.bogus", "1").is_err());
        assert!(o.set("allowWatchBookmarks", "maybe").is_err());
    }
}

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

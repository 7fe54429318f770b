//! Kubernetes watches of ConfigMaps, with fault injection, and the churn generator.
//!
//! A watch (`GET /api/v1/namespaces/{ns}/configmaps?watch=1`, `GET /api/v1/configmaps?watch=1`
//! or the deprecated `/api/v1/watch/…` paths) is a chunked stream of newline-terminated JSON
//! events, `{"type":"ADDED"|"MODIFIED"|"DELETED","object":{..}}`, each written as soon as it
//! happens. Every store write wakes the watches through a [`Condvar`]; each watch keeps a
//! cursor (the last resourceVersion it has dealt with) and replays the history after it, so
//! it sees every change exactly once and in order.
//!
//! Query parameters:
//! - `resourceVersion`: absent, empty or `0`: ADDED events for the current state first;
//!   `N`: every change after N. N older than the history (compacted or beyond
//!   `history_limit`) gets a 200 with one ERROR event (410, `Expired`, "too old resource
//!   version: N (OLDEST)") and a clean end; so does a watch that falls behind the history
//!   while streaming.
//! - `labelSelector`, `fieldSelector` (`select.rs`). A modification that moves an object
//!   into (out of) the selection is sent as ADDED (DELETED).
//! - `timeoutSeconds`: a clean end after that long (default 1800 s).
//! - `allowWatchBookmarks`: a BOOKMARK with the newest resourceVersion after `bookmark_ms`
//!   without any other line.
//! - `sendInitialEvents=true` (with `resourceVersionMatch=NotOlderThan` and
//!   `allowWatchBookmarks=true`, else 422 as on the API server): ADDED events for the
//!   current state, then a BOOKMARK annotated `k8s.io/initial-events-end: "true"`.
//!   `sendInitialEvents=false` skips the initial events.
//!
//! Fault settings (`PUT /_control/watch`, see [`WatchSettings`]) are read once when a watch
//! starts: a change affects the watches opened after it, never the ones already streaming.
//! Counts are of ADDED/MODIFIED/DELETED events on one connection, initial ones included.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::api::{lock, status_response};
use crate::http::{ChunkedWriter, Reply, Request, Response, Streaming};
use crate::select::Selectors;
use crate::store::{ApiFailure, Change, ChangeType, Store};

/// A watch without `timeoutSeconds` ends after this long, like the API server's
/// `--min-request-timeout` default, so a forgotten watch cannot hold a thread forever.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);
/// The longest `timeoutSeconds` and `bookmark_ms` honoured, in seconds (a week): larger
/// values are cut to this, which also keeps `Instant` arithmetic from overflowing.
const MAX_WAIT_SECS: u64 = 7 * 24 * 3600;
/// How often an idle watch looks whether its client is still there.
const PEER_CHECK: Duration = Duration::from_millis(500);
/// Queued event lines are written out once they reach this size, even mid-batch.
const FLUSH_AT: usize = 64 * 1024;
/// The annotation that pads events up to `max_event_line`.
const PAD_ANNOTATION: &str = "incluster.test/padding";
/// Limits on settings, so a typo cannot make the server allocate gigabytes per event.
const MAX_EVENT_LINE_LIMIT: u64 = 64 * 1024 * 1024;
const CHURN_MAX: u64 = 10_000_000;

/// The fault-injection settings of `/_control/watch`; every count is per connection and
/// 0 turns the fault off.
#[derive(Clone, Copy, Debug)]
pub struct WatchSettings {
    /// Close the connection abruptly (no terminating chunk) after this many events.
    pub drop_every: u64,
    /// When dropping, first send half of the next line.
    pub drop_mid_line: bool,
    /// After this many events, send nothing more but keep the connection open.
    pub stall_after: u64,
    /// The bookmark interval of an idle watch with `allowWatchBookmarks` (0: none).
    pub bookmark_ms: u64,
    /// After this many events, send a 410 Expired ERROR event and end the stream.
    pub error_410_after: u64,
    /// Pad every event line to at least this many bytes.
    pub max_event_line: u64,
    /// After this many events, send one line that is not JSON, then go on.
    pub malformed_after: u64,
}

impl Default for WatchSettings {
    fn default() -> Self {
        WatchSettings {
            drop_every: 0,
            drop_mid_line: false,
            stall_after: 0,
            bookmark_ms: 1000,
            error_410_after: 0,
            max_event_line: 0,
            malformed_after: 0,
        }
    }
}

/// The store and what watches need around it; shared (in an `Arc`) by every connection and
/// by the watch streams, which outlive the request handler that started them.
pub struct Hub {
    store: Mutex<Store>,
    /// Notified after every write.
    changed: Condvar,
    settings: Mutex<WatchSettings>,
    /// The last `data.seq` churn wrote. Only changed with `store` locked, so the sequence
    /// numbers follow resourceVersion order.
    churn_seq: AtomicU64,
}

impl Hub {
    pub fn new() -> Self {
        Hub {
            store: Mutex::new(Store::new()),
            changed: Condvar::new(),
            settings: Mutex::new(WatchSettings::default()),
            churn_seq: AtomicU64::new(0),
        }
    }

    /// The store, for reading.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    /// Run a store operation that may write, and wake the watches if it did.
    pub fn write<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        let mut store = lock(&self.store);
        let before = store.resource_version();
        let result = f(&mut store);
        if store.resource_version() != before {
            self.changed.notify_all();
        }
        result
    }

    fn settings_json(&self) -> Value {
        let s = *lock(&self.settings);
        json!({
            "drop_every": s.drop_every,
            "drop_mid_line": s.drop_mid_line,
            "stall_after": s.stall_after,
            "bookmark_ms": s.bookmark_ms,
            "error_410_after": s.error_410_after,
            "max_event_line": s.max_event_line,
            "malformed_after": s.malformed_after,
            "history_limit": self.store().history_limit(),
        })
    }

    /// `GET /_control/watch`.
    pub fn get_settings(&self) -> Response {
        Response::json(200, &self.settings_json())
    }

    /// `PUT /_control/watch`: merge the given fields into the settings. `compact: true` is an
    /// action (forget the history), not a setting; `history_limit` sizes the history. An
    /// unknown field or a wrong type is a 400 and changes nothing.
    pub fn put_settings(&self, body: &[u8]) -> Response {
        let bad = |m: &str| status_response(400, m, Some("BadRequest"));
        let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
            return bad("the body must be a JSON object of watch settings");
        };
        let mut settings = lock(&self.settings);
        let mut new = *settings;
        let mut compact = false;
        let mut history_limit = None;
        for (name, v) in &fields {
            let num = || {
                v.as_u64()
                    .ok_or(format!("{name} must be a non-negative integer"))
            };
            let flag = || v.as_bool().ok_or(format!("{name} must be true or false"));
            let applied = match name.as_str() {
                "drop_every" => num().map(|n| new.drop_every = n),
                "drop_mid_line" => flag().map(|b| new.drop_mid_line = b),
                "stall_after" => num().map(|n| new.stall_after = n),
                "bookmark_ms" => num().map(|n| new.bookmark_ms = n.min(MAX_WAIT_SECS * 1000)),
                "error_410_after" => num().map(|n| new.error_410_after = n),
                "max_event_line" => num().map(|n| new.max_event_line = n.min(MAX_EVENT_LINE_LIMIT)),
                "malformed_after" => num().map(|n| new.malformed_after = n),
                "compact" => flag().map(|b| compact = b),
                "history_limit" => num().map(|n| history_limit = Some(n)),
                other => Err(format!("unknown watch setting {other:?}")),
            };
            if let Err(m) = applied {
                return bad(&m);
            }
        }
        *settings = new;
        drop(settings);
        if compact || history_limit.is_some() {
            let mut store = lock(&self.store);
            if let Some(n) = history_limit {
                store.set_history_limit(usize::try_from(n).unwrap_or(usize::MAX));
            }
            if compact {
                store.compact();
            }
            // Watches that are behind now have to learn that they expired.
            self.changed.notify_all();
        }
        Response::json(200, &self.settings_json())
    }
}

/// A boolean query parameter as the API server reads it: absent is `None`; `0` and `false`
/// (any case) are false; anything else, even an empty value, is true.
pub fn query_bool(req: &Request, name: &str) -> Option<bool> {
    req.param(name)
        .map(|v| !(v == "0" || v.eq_ignore_ascii_case("false")))
}

/// A parsed watch request.
pub struct WatchRequest {
    ns: Option<String>,
    selectors: Selectors,
    /// Replay the changes after this resourceVersion; `None`: start at the current one.
    from: Option<u64>,
    /// Begin with a synthetic ADDED event for every matching object.
    initial: bool,
    /// Mark the end of those with an `initial-events-end` bookmark (`sendInitialEvents`).
    initial_bookmark: bool,
    bookmarks: bool,
    timeout: Duration,
}

impl WatchRequest {
    /// Read the query of a watch on the ConfigMaps of `ns` (all namespaces with `None`).
    /// The error is the response to send instead of a stream.
    pub fn parse(req: &Request, ns: Option<&str>) -> Result<WatchRequest, Response> {
        let bad = |m: String| status_response(400, &m, Some("BadRequest"));
        let selectors = Selectors::from_request(req).map_err(bad)?;
        let rv = req.param("resourceVersion").unwrap_or("");
        let rv_match = req.param("resourceVersionMatch").unwrap_or("");
        let send_initial = query_bool(req, "sendInitialEvents");
        let bookmarks = query_bool(req, "allowWatchBookmarks").unwrap_or(false);

        // The API server's watch option validation (a 422, with one cause per problem).
        let mut invalid = Vec::new();
        if send_initial.is_some() && rv_match != "NotOlderThan" {
            invalid.push((
                "resourceVersionMatch",
                "Forbidden: sendInitialEvents requires setting resourceVersionMatch to \
                 NotOlderThan"
                    .to_owned(),
            ));
        }
        if !rv_match.is_empty() {
            if send_initial.is_none() {
                invalid.push((
                    "resourceVersionMatch",
                    "Forbidden: resourceVersionMatch is forbidden for watch unless \
                     sendInitialEvents is provided"
                        .to_owned(),
                ));
            }
            if rv_match != "NotOlderThan" {
                invalid.push((
                    "resourceVersionMatch",
                    format!("Unsupported value: {rv_match:?}: supported values: \"NotOlderThan\""),
                ));
            }
        }
        if send_initial == Some(true) && !bookmarks {
            invalid.push((
                "allowWatchBookmarks",
                "Forbidden: allowWatchBookmarks must be set to true when sendInitialEvents is \
                 set to true"
                    .to_owned(),
            ));
        }
        if !invalid.is_empty() {
            return Err(invalid_list_options(&invalid));
        }

        let timeout = match req.param("timeoutSeconds").filter(|t| !t.is_empty()) {
            None => DEFAULT_TIMEOUT,
            Some(t) => match t.parse::<u64>() {
                Ok(0) => DEFAULT_TIMEOUT,
                Ok(s) => Duration::from_secs(s.min(MAX_WAIT_SECS)),
                Err(_) => return Err(bad(format!("invalid timeoutSeconds {t:?}"))),
            },
        };
        let numeric = match rv {
            "" | "0" => None,
            n => Some(
                n.parse::<u64>()
                    .map_err(|_| bad(format!("invalid resource version: {n:?}")))?,
            ),
        };
        let (from, initial) = match (send_initial, numeric) {
            // The state at (at least) the given resourceVersion: the current state will do.
            (Some(true), _) => (None, true),
            (Some(false), None) => (None, false),
            (None, None) => (None, true),
            (_, Some(n)) => (Some(n), false),
        };
        Ok(WatchRequest {
            ns: ns.map(str::to_owned),
            selectors,
            from,
            initial,
            initial_bookmark: send_initial == Some(true),
            bookmarks,
            timeout,
        })
    }

    /// How this watch sees a change: not at all, or as an event of some type. A modification
    /// that moves an object into its selection is ADDED, out of it DELETED (as the API
    /// server's watch cache does).
    fn visible(&self, c: &Change) -> Option<ChangeType> {
        if let Some(ns) = &self.ns
            && c.object["metadata"]["namespace"].as_str() != Some(ns.as_str())
        {
            return None;
        }
        let now = self.selectors.matches(&c.object);
        match (c.kind, &c.prev) {
            (ChangeType::Modified, Some(prev)) if !self.selectors.is_empty() => {
                match (self.selectors.matches(prev), now) {
                    (true, true) => Some(ChangeType::Modified),
                    (false, true) => Some(ChangeType::Added),
                    (true, false) => Some(ChangeType::Deleted),
                    (false, false) => None,
                }
            }
            (kind, _) => now.then_some(kind),
        }
    }
}

/// The 422 the API server answers to contradictory watch options.
fn invalid_list_options(errors: &[(&str, String)]) -> Response {
    let texts: Vec<String> = errors.iter().map(|(f, m)| format!("{f}: {m}")).collect();
    let message = match texts.as_slice() {
        [one] => format!("ListOptions.meta.k8s.io \"\" is invalid: {one}"),
        many => format!(
            "ListOptions.meta.k8s.io \"\" is invalid: [{}]",
            many.join(", ")
        ),
    };
    let causes: Vec<Value> = errors
        .iter()
        .map(|(f, m)| {
            let reason = if m.starts_with("Unsupported") {
                "FieldValueNotSupported"
            } else {
                "FieldValueForbidden"
            };
            json!({"reason": reason, "message": m, "field": f})
        })
        .collect();
    Response::json(
        422,
        &json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": "Invalid",
            "details": {"group": "meta.k8s.io", "kind": "ListOptions", "causes": causes},
            "code": 422,
        }),
    )
}

/// Start a watch stream (or answer why not).
pub fn watch(hub: &Arc<Hub>, req: &Request, ns: Option<&str>) -> Reply {
    let wr = match WatchRequest::parse(req, ns) {
        Ok(w) => w,
        Err(resp) => return resp.into(),
    };
    let faults = *lock(&hub.settings);
    // Where the stream starts is fixed now, before the answer's head goes out: a client that
    // has the head may make changes at once, and a watch without a resourceVersion must see
    // them (as the API server's, which registers its watcher before it answers).
    let start = Start::now(hub, &wr);
    let hub = hub.clone();
    Reply::Stream(Streaming {
        status: 200,
        content_type: "application/json",
        headers: Vec::new(),
        body: Box::new(move |w| match stream(&hub, w, &wr, faults, start) {
            Ok(()) | Err(End::Clean) => Ok(()),
            Err(End::Abort(e)) => Err(e),
        }),
    })
}

/// How a watch stream ends early.
enum End {
    /// Properly, with the terminating chunk (after an ERROR event).
    Clean,
    /// Abruptly: the connection is closed as it is (client gone, or an injected fault).
    Abort(io::Error),
}

impl From<io::Error> for End {
    fn from(e: io::Error) -> Self {
        End::Abort(e)
    }
}

type Step = Result<(), End>;

/// Where a watch stream starts: read under one lock, so no change falls between the starting
/// point and the state for the initial events.
enum Start {
    /// The resourceVersion asked for is older than the history kept.
    Expired { rv: u64, oldest: u64 },
    /// Changes after `cursor`, after the initial events (the objects as they are).
    From {
        cursor: u64,
        initial: Vec<Arc<Value>>,
    },
}

impl Start {
    fn now(hub: &Hub, wr: &WatchRequest) -> Start {
        let store = hub.store();
        match wr.from {
            Some(rv) if rv < store.oldest_resource_version() => Start::Expired {
                rv,
                oldest: store.oldest_resource_version(),
            },
            Some(rv) => Start::From {
                cursor: rv,
                initial: Vec::new(),
            },
            None => Start::From {
                initial: if wr.initial {
                    store
                        .scan(wr.ns.as_deref(), None)
                        .filter(|(_, o)| wr.selectors.matches(o))
                        .map(|(_, o)| o.clone())
                        .collect()
                } else {
                    Vec::new()
                },
                cursor: store.resource_version(),
            },
        }
    }
}

fn stream(
    hub: &Hub,
    w: &mut ChunkedWriter<'_>,
    wr: &WatchRequest,
    faults: WatchSettings,
    start: Start,
) -> Step {
    let deadline = Instant::now() + wr.timeout;
    let mut out = Emitter::new(w, faults);
    let (mut cursor, initial) = match start {
        Start::Expired { rv, oldest } => return out.expired(rv, oldest),
        Start::From { cursor, initial } => (cursor, initial),
    };
    for obj in &initial {
        let rv = obj["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|r| r.parse().ok())
            .unwrap_or(cursor);
        out.event(ChangeType::Added, obj, rv)?;
    }
    if wr.initial_bookmark {
        out.bookmark(cursor, true)?;
    }
    out.flush()?;

    loop {
        let now = Instant::now();
        if now >= deadline {
            return Ok(());
        }
        let bookmark_at = (wr.bookmarks && faults.bookmark_ms > 0)
            .then(|| out.last_line + Duration::from_millis(faults.bookmark_ms));
        let wake = bookmark_at.map_or(deadline, |b| b.min(deadline));
        let wake = wake.min(now + PEER_CHECK);
        let changes = {
            let mut store = hub.store();
            // Sleep only when there is nothing new (nor an expiry) to report.
            if store.resource_version() <= cursor && store.oldest_resource_version() <= cursor {
                store = hub
                    .changed
                    .wait_timeout(store, wake.saturating_duration_since(now))
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            store.changes_after(cursor)
        };
        match changes {
            Err(oldest) => return out.expired(cursor, oldest),
            Ok(changes) if !changes.is_empty() => {
                for c in &changes {
                    cursor = c.rv;
                    if let Some(kind) = wr.visible(c) {
                        out.event(kind, &c.object, c.rv)?;
                        if out.w.pending() >= FLUSH_AT {
                            out.flush()?;
                        }
                    }
                }
                out.flush()?;
            }
            Ok(_) => {
                if bookmark_at.is_some_and(|t| Instant::now() >= t) {
                    // Nothing is pending, so the cursor is the newest resourceVersion known.
                    out.bookmark(cursor, false)?;
                    out.flush()?;
                } else if out.w.peer_gone(Duration::ZERO) {
                    return Err(io::Error::other("the watch client went away").into());
                }
            }
        }
    }
}

/// Writes the lines of one watch connection and applies the fault settings to them.
struct Emitter<'w, 'a> {
    w: &'w mut ChunkedWriter<'a>,
    faults: WatchSettings,
    /// ADDED, MODIFIED and DELETED events written so far (not bookmarks or errors).
    events: u64,
    /// A mid-line drop is due: the next line goes out half-written, then the connection
    /// closes.
    cut_next: bool,
    line: Vec<u8>,
    /// When the last line was queued, for the bookmark interval.
    last_line: Instant,
}

impl<'w, 'a> Emitter<'w, 'a> {
    fn new(w: &'w mut ChunkedWriter<'a>, faults: WatchSettings) -> Self {
        Emitter {
            w,
            faults,
            events: 0,
            cut_next: false,
            line: Vec::with_capacity(1024),
            last_line: Instant::now(),
        }
    }

    fn flush(&mut self) -> Step {
        self.w.flush().map_err(End::from)
    }

    /// One ADDED, MODIFIED or DELETED event of the object with resourceVersion `rv`.
    fn event(&mut self, kind: ChangeType, obj: &Value, rv: u64) -> Step {
        encode_event(&mut self.line, kind.as_str(), obj);
        let want = usize::try_from(self.faults.max_event_line).unwrap_or(usize::MAX);
        if self.line.len() < want {
            // Measure with an empty padding annotation, then fill it up to the size wanted.
            let mut padded = obj.clone();
            set_padding(&mut padded, String::new());
            encode_event(&mut self.line, kind.as_str(), &padded);
            set_padding(
                &mut padded,
                "x".repeat(want.saturating_sub(self.line.len())),
            );
            encode_event(&mut self.line, kind.as_str(), &padded);
        }
        self.put_line()?;
        self.events += 1;
        self.after_event(rv)
    }

    /// A BOOKMARK at `rv`, marking the end of the initial events when `initial_end`.
    fn bookmark(&mut self, rv: u64, initial_end: bool) -> Step {
        self.line.clear();
        let annotations = if initial_end {
            r#","annotations":{"k8s.io/initial-events-end":"true"}"#
        } else {
            ""
        };
        // Writing into a Vec cannot fail.
        let _ = io::Write::write_fmt(
            &mut self.line,
            format_args!(
                "{{\"type\":\"BOOKMARK\",\"object\":{{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\
                 \"metadata\":{{\"resourceVersion\":\"{rv}\"{annotations}}}}}}}\n"
            ),
        );
        self.put_line()
    }

    /// The ERROR event of an expired resourceVersion, then the end of the stream (what the
    /// API server does when a watch starts, or falls, behind its history).
    fn expired(&mut self, rv: u64, oldest: u64) -> Step {
        let status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": format!("too old resource version: {rv} ({oldest})"),
            "reason": "Expired",
            "code": 410,
        });
        encode_event(&mut self.line, "ERROR", &status);
        self.put_line()?;
        self.flush()?;
        Err(End::Clean)
    }

    /// Queue the line in `self.line`; or, when a mid-line drop is due, send half of it and
    /// close.
    fn put_line(&mut self) -> Step {
        if self.cut_next {
            let half = self.line.len().div_ceil(2);
            self.w.queue(&self.line[..half]);
            self.flush()?;
            return Err(
                io::Error::other("watch dropped mid-line on request (drop_mid_line)").into(),
            );
        }
        self.w.queue(&self.line);
        self.last_line = Instant::now();
        Ok(())
    }

    /// Apply the faults due after the event just queued (the `self.events`-th). When several
    /// fall on the same event, the first of stall, 410, drop applies, and a malformed line
    /// comes only if none of them ended the stream.
    fn after_event(&mut self, rv: u64) -> Step {
        let (n, f) = (self.events, self.faults);
        if f.stall_after == n {
            self.flush()?;
            return Err(self.stall());
        }
        if f.error_410_after == n {
            return self.expired(rv, rv.saturating_add(1));
        }
        if f.drop_every == n {
            if f.drop_mid_line {
                // The next line (whatever it is) is the one cut.
                self.cut_next = true;
            } else {
                self.flush()?;
                return Err(io::Error::other("watch dropped on request (drop_every)").into());
            }
        }
        if f.malformed_after == n {
            self.w.queue(b"this is not json\n");
        }
        Ok(())
    }

    /// Send nothing more, not even bookmarks or the end of the timeout, but keep the
    /// connection open until the client closes it: a half-open connection.
    fn stall(&mut self) -> End {
        while !self.w.peer_gone(Duration::from_secs(1)) {}
        End::Abort(io::Error::other("stalled watch: the client went away"))
    }
}

/// `{"type":KIND,"object":OBJ}\n` into `line` (cleared first), `type` first as the API
/// server writes it (serde_json would sort the keys).
fn encode_event(line: &mut Vec<u8>, kind: &str, obj: &Value) {
    line.clear();
    line.extend_from_slice(b"{\"type\":\"");
    line.extend_from_slice(kind.as_bytes());
    line.extend_from_slice(b"\",\"object\":");
    // Serialising a Value into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *line, obj);
    line.extend_from_slice(b"}\n");
}

fn set_padding(obj: &mut Value, pad: String) {
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
    if !annotations.is_object() {
        *annotations = json!({});
    }
    if let Some(a) = annotations.as_object_mut() {
        a.insert(PAD_ANNOTATION.into(), pad.into());
    }
}

/// A parsed `POST /_control/churn` body.
struct Churn {
    ns: String,
    count: u64,
    prefix: String,
    interval: Option<Duration>,
}

impl Churn {
    fn parse(body: &[u8]) -> Result<Churn, String> {
        let v: Value = serde_json::from_slice(body).map_err(|e| format!("bad JSON: {e}"))?;
        if !v.is_object() {
            return Err("the body must be a JSON object".into());
        }
        let text = |k: &str, default: &str| match &v[k] {
            Value::Null => Ok(default.to_owned()),
            Value::String(s) => Ok(s.clone()),
            _ => Err(format!("{k} must be a string")),
        };
        let num = |k: &str| match &v[k] {
            Value::Null => Ok(0),
            n => n
                .as_u64()
                .ok_or(format!("{k} must be a non-negative integer")),
        };
        let ns = text("namespace", "default")?;
        let prefix = text("prefix", "c")?;
        let count = num("count")?;
        let interval_ms = num("interval_ms")?;
        // The names are PREFIX-N and PREFIX is also the value of the `churn` label.
        let dns_label = |s: &str| {
            !s.is_empty()
                && s.len() <= 40
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !s.starts_with('-')
                && !s.ends_with('-')
        };
        if !dns_label(&ns) {
            return Err(format!("namespace {ns:?} is not a valid namespace name"));
        }
        if !dns_label(&prefix) {
            return Err(format!(
                "prefix {prefix:?} must be 1 to 40 of a-z, 0-9 and '-', not at either end"
            ));
        }
        if count > CHURN_MAX {
            return Err(format!("count must be at most {CHURN_MAX}"));
        }
        Ok(Churn {
            ns,
            count,
            prefix,
            interval: (interval_ms > 0).then(|| Duration::from_millis(interval_ms.min(60_000))),
        })
    }
}

/// What one churn write did: the resourceVersion it made and the `data.seq` it wrote (none
/// for a deletion).
struct ChurnWrite {
    rv: u64,
    seq: Option<u64>,
}

impl Hub {
    /// `POST /_control/churn`.
    pub fn churn(self: &Arc<Self>, body: &[u8]) -> Response {
        let c = match Churn::parse(body) {
            Ok(c) => c,
            Err(m) => return status_response(400, &m, Some("BadRequest")),
        };
        if c.interval.is_some() {
            // In the background: answer at once with the resourceVersion before the first
            // write, so a test can watch from it.
            let start_rv = self.store().resource_version();
            let hub = self.clone();
            let count = c.count;
            let started = std::thread::Builder::new()
                .name("churn".into())
                .spawn(move || {
                    for i in 0..c.count {
                        if i > 0
                            && let Some(d) = c.interval
                        {
                            std::thread::sleep(d);
                        }
                        if hub.churn_write(&c, i).is_err() {
                            break;
                        }
                    }
                });
            return match started {
                Ok(_) => Response::json(
                    200,
                    &json!({
                        "writes": count,
                        "resourceVersion": start_rv.to_string(),
                        "background": true,
                    }),
                ),
                Err(e) => status_response(500, &format!("cannot start a thread: {e}"), None),
            };
        }
        let mut rv = self.store().resource_version();
        let (mut first_seq, mut last_seq) = (None, None);
        for i in 0..c.count {
            match self.churn_write(&c, i) {
                Ok(w) => {
                    rv = w.rv;
                    if w.seq.is_some() {
                        first_seq = first_seq.or(w.seq);
                        last_seq = w.seq;
                    }
                }
                Err(f) => {
                    return status_response(
                        f.code,
                        &format!("churn write {i} failed: {}", f.message),
                        Some(f.reason),
                    );
                }
            }
        }
        Response::json(
            200,
            &json!({
                "writes": c.count,
                "resourceVersion": rv.to_string(),
                "first_seq": first_seq,
                "last_seq": last_seq,
            }),
        )
    }

    /// Write number `i` of a churn, on object PREFIX-(i/3): the first of its three writes
    /// creates it, the second updates it, the third deletes it when i/3 is odd and updates
    /// it again otherwise, so the even-numbered objects remain. Whatever state others left
    /// the object in, the write still happens (a create of an existing object updates it, a
    /// delete of a missing one creates it), so every write bumps the resourceVersion once.
    fn churn_write(&self, c: &Churn, i: u64) -> Result<ChurnWrite, ApiFailure> {
        let k = i / 3;
        let name = format!("{}-{k}", c.prefix);
        let delete = i % 3 == 2 && k % 2 == 1;
        self.write(|store| {
            let exists = store.contains(&c.ns, &name);
            if delete && exists {
                store.delete(&c.ns, &name)?;
                return Ok(ChurnWrite {
                    rv: store.resource_version(),
                    seq: None,
                });
            }
            // Store the new number only once the write succeeded, so failures leave no gap.
            let seq = self.churn_seq.load(Ordering::Relaxed) + 1;
            let obj = json!({
                "metadata": {"name": name, "labels": {"churn": c.prefix}},
                "data": {"seq": seq.to_string(), "write": i.to_string()},
            });
            if exists {
                store.replace(&c.ns, &name, obj)?;
            } else {
                store.create(&c.ns, obj)?;
            }
            self.churn_seq.store(seq, Ordering::Relaxed);
            Ok(ChurnWrite {
                rv: store.resource_version(),
                seq: Some(seq),
            })
        })
    }
}

//! The watch loop: connect, frame, decode, track the resourceVersion, resume, relist on 410.
//!
//! Invariants:
//! - every event handed out has a resourceVersion newer than the one the stream was (re)opened
//!   from, and the watch resumes from the last one handed out (or bookmarked), so nothing is
//!   lost or repeated across reconnects;
//! - an expired resourceVersion is never retried: a 410 leads to a relist (or an error);
//! - every wait (read, backoff) stops within [`crate::core::http::interrupt::SLICE`] of a
//!   cancel.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::core::api::request::Request;
use crate::core::api::request::Response;
use crate::core::api::status::Status;
use crate::core::api::url::check_path;
use crate::core::cancel::CancelHandle;
use crate::core::client::{BodyStream, Client, api_error};
use crate::core::error::{ApiError, Error, ErrorKind, Result};
use crate::core::resume::ResumeErrors;
use crate::core::stream::lines::LineFramer;
use crate::core::watch::backoff::{Backoff, Jitter};
use crate::core::watch::event::{Decoded, Decoder, Event, EventType, Key, RawDecoder};
use crate::core::watch::options::{OnGone, WatchOptions};
use crate::core::watch::resync::{Known, relist};

/// A stream that lived at least this long ended "healthily": reconnect at once.
const HEALTHY: Duration = Duration::from_secs(1);

/// A running watch. Owned by one thread at a time; stop it from anywhere with its
/// [`CancelHandle`]. Dropping it closes the connection.
pub struct Watch {
    client: Client,
    path: String,
    opts: WatchOptions,
    cancel: CancelHandle,
    stream: Option<BodyStream>,
    framer: LineFramer,
    /// The resourceVersion to resume from.
    rv: Option<String>,
    /// Objects seen so far (for relisting), when `on_gone` is `Relist`.
    known: Option<HashMap<Key, Known>>,
    /// Events produced by a relist, waiting to be handed out.
    pending: VecDeque<Event>,
    backoff: Backoff,
    jitter: Jitter,
    opened_at: Instant,
    /// The first request asks for what the caller asked for; resumes use the tracked rv.
    first: bool,
    /// The consumer stopped or a fatal error ended the watch.
    done: bool,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch")
            .field("path", &self.path)
            .field("resource_version", &self.rv)
            .finish()
    }
}

impl Watch {
    /// Start watching `path` (a collection, e.g. `/api/v1/namespaces/ns/configmaps`). The
    /// first request is made now, so a watch that cannot start (401, 403, 404, TLS, ...)
    /// fails here with the usual typed error.
    pub fn new(client: &Client, path: &str, opts: WatchOptions) -> Result<Watch> {
        check_path(path)?;
        if path.contains('?') {
            return Err(Error::invalid(
                "watch path must not carry a query: use the watch options (selectors, \
                 resourceVersion, extra parameters)",
            ));
        }
        let mut w = Watch {
            client: client.clone(),
            path: path.to_owned(),
            rv: opts.resource_version.clone().filter(|v| !v.is_empty()),
            known: (opts.on_gone == OnGone::Relist).then(HashMap::new),
            framer: LineFramer::new(opts.max_event_bytes),
            backoff: Backoff::new(
                opts.backoff_initial,
                opts.backoff_max,
                opts.backoff_reset_after,
            ),
            opts,
            cancel: CancelHandle::new(),
            stream: None,
            pending: VecDeque::new(),
            jitter: Jitter::new(),
            opened_at: Instant::now(),
            first: true,
            done: false,
        };
        w.connect_or_relist()?;
        Ok(w)
    }

    /// A handle that stops this watch from any thread.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.cancel.clone()
    }

    /// The resourceVersion the watch would resume from.
    pub fn resource_version(&self) -> Option<&str> {
        self.rv.as_deref()
    }

    fn timeout_seconds(&mut self) -> u32 {
        self.opts
            .timeout_seconds
            .unwrap_or_else(|| 240 + (self.jitter.unit() * 120.0) as u32)
    }

    /// Open a watch request from the current resourceVersion.
    fn open(&mut self) -> Result<()> {
        let timeout = self.timeout_seconds();
        let mut req = Request::new("GET", &self.path).with_param("watch", "1");
        if let Some(rv) = &self.rv {
            req = req.with_param("resourceVersion", rv);
        }
        if self.opts.allow_bookmarks {
            req = req.with_param("allowWatchBookmarks", "true");
        }
        req = req.with_param("timeoutSeconds", &timeout.to_string());
        if let Some(s) = &self.opts.label_selector {
            req = req.with_param("labelSelector", s);
        }
        if let Some(s) = &self.opts.field_selector {
            req = req.with_param("fieldSelector", s);
        }
        if self.first {
            if let Some(m) = &self.opts.resource_version_match {
                req = req.with_param("resourceVersionMatch", m);
            }
            if self.opts.send_initial_events {
                req = req.with_param("sendInitialEvents", "true");
            }
        }
        req.query.extend(self.opts.extra_params.iter().cloned());
        let idle = self
            .opts
            .idle_timeout
            .unwrap_or(Duration::from_secs(u64::from(timeout) + 30));
        let client = &self.client;
        let stream = self.cancel.guard(|| client.open_stream(&req, Some(idle)))?;
        self.stream = Some(stream);
        self.framer.clear();
        self.opened_at = Instant::now();
        self.first = false;
        Ok(())
    }

    /// Open the stream; on 410 relist first (or fail, as configured).
    fn connect_or_relist(&mut self) -> Result<()> {
        match self.open() {
            Err(Error::Api(e)) if e.status == 410 => self.gone(*e),
            r => r,
        }
    }

    /// The resourceVersion expired: relist, or surface the 410.
    fn gone(&mut self, e: ApiError) -> Result<()> {
        self.stream = None;
        let Some(known) = self.known.as_mut() else {
            return Err(Error::Api(Box::new(e)));
        };
        let client = &self.client;
        let (path, opts, cancel) = (&self.path, &self.opts, &self.cancel);
        let (events, list_rv) = cancel.guard(|| relist(client, path, opts, known))?;
        self.pending.extend(events);
        self.rv = Some(list_rv);
        self.first = false;
        self.open()
    }

    fn remember(&mut self, kind: EventType, rv: String, key: Option<Key>, uid: String) {
        if !rv.is_empty() {
            self.rv = Some(rv.clone());
        }
        if let (Some(known), Some(key)) = (self.known.as_mut(), key) {
            match kind {
                EventType::Deleted => {
                    known.remove(&key);
                }
                EventType::Added | EventType::Modified => {
                    known.insert(
                        key,
                        Known {
                            uid,
                            resource_version: rv,
                        },
                    );
                }
                _ => {}
            }
        }
    }

    /// The stream broke or ended: resume (after a delay unless it was healthy), or stop.
    fn reconnect(&mut self, broke: bool) -> Result<()> {
        self.stream = None;
        self.framer.clear();
        if !self.opts.resume {
            self.done = true;
            return Ok(());
        }
        let mut errors = ResumeErrors::default();
        let mut failed = false;
        loop {
            if failed || broke || self.opened_at.elapsed() < HEALTHY {
                let d = self.backoff.next_delay();
                self.cancel.sleep(d)?;
            }
            match self.connect_or_relist() {
                Ok(()) => return Ok(()),
                // Unreachable, overloaded or just restarted (401/403/404 while its caches
                // sync): keep trying, see `core::resume`.
                Err(e) if errors.retry(&e, &[404]) => failed = true,
                Err(e) => return Err(e),
            }
        }
    }

    /// Whether the next event can be produced without any I/O: a relisted event is queued, or
    /// a complete ordinary event line is buffered. (A front holding a lock that I/O must not
    /// be done under, such as Python's GIL, can then skip releasing it.)
    pub fn ready(&self) -> bool {
        if !self.pending.is_empty() {
            return true;
        }
        if self.done || self.cancel.is_cancelled() {
            return false;
        }
        // An ERROR line may lead to a relist (I/O): only plain events count as ready. The type
        // comes first in every line the API server writes.
        self.framer.peek_line().is_some_and(|l| {
            let head = &l[..l.len().min(24)];
            !head.windows(7).any(|w| w == b"\"ERROR\"")
        })
    }

    /// The next event, blocking until one arrives, with objects as raw JSON bytes. `Ok(None)`
    /// when the stream ended and `resume` is off; [`Error::Cancelled`] after a cancel; other
    /// errors end the watch.
    pub fn next_event(&mut self) -> Result<Option<Event>> {
        self.next_with(&mut RawDecoder)
    }

    /// [`Watch::next_event`] with the objects decoded by `decoder` in the same pass over each
    /// line (the Python front builds dicts this way).
    pub fn next_with<D: Decoder>(&mut self, decoder: &mut D) -> Result<Option<Event<D::Object>>> {
        loop {
            if self.cancel.is_cancelled() {
                self.done = true;
                return Err(Error::Cancelled);
            }
            if let Some(e) = self.pending.pop_front() {
                return Ok(Some(Event {
                    kind: e.kind,
                    object: decoder.decode_object(e.object)?,
                    resource_version: e.resource_version,
                }));
            }
            if self.done {
                return Ok(None);
            }
            let Some(stream) = self.stream.as_mut() else {
                self.reconnect(true)?;
                continue;
            };
            // A complete line already buffered?
            let line = match self.framer.next_line() {
                Ok(l) => l,
                Err(too_long) => {
                    self.done = true;
                    self.stream = None;
                    return Err(Error::Decode(format!(
                        "a watch event is larger than the limit of {} bytes",
                        too_long.max
                    )));
                }
            };
            if let Some(line) = line {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let decoded = match decoder.decode_line(line) {
                    Ok(d) => d,
                    Err(e) => {
                        self.done = true;
                        self.stream = None;
                        return Err(e);
                    }
                };
                match decoded {
                    Decoded::Error(410, reason, raw) => {
                        let e = ApiError {
                            status: 410,
                            reason: if reason.is_empty() {
                                "Gone".into()
                            } else {
                                reason
                            },
                            message: "the watch's resourceVersion is too old".into(),
                            details: Status::parse(&raw),
                            request: format!("WATCH {}", self.path),
                            body: raw,
                        };
                        if let Err(e) = self.gone(e) {
                            self.done = true;
                            return Err(e);
                        }
                    }
                    Decoded::Error(_, _, raw) => {
                        self.done = true;
                        let resp = Response {
                            status: Status::parse(&raw).map_or(500, |s| s.code),
                            headers: Vec::new(),
                            body: raw,
                        };
                        return Err(api_error(&Request::new("WATCH", &self.path), resp));
                    }
                    Decoded::Event(kind, tracked, object) => {
                        self.remember(
                            kind,
                            tracked.resource_version.clone(),
                            tracked.key,
                            tracked.uid,
                        );
                        if kind == EventType::Bookmark && !self.opts.deliver_bookmarks {
                            continue;
                        }
                        return Ok(Some(Event {
                            kind,
                            object,
                            resource_version: tracked.resource_version,
                        }));
                    }
                }
                continue;
            }
            // Need more bytes.
            let cancel = &self.cancel;
            let spare = self.framer.spare();
            match cancel.guard(|| stream.read(spare)) {
                Ok(0) => {
                    self.framer.filled(0);
                    // A clean end (timeoutSeconds) unless it stopped mid-line.
                    let broke = self.framer.has_partial();
                    self.reconnect(broke)?;
                }
                Ok(n) => self.framer.filled(n),
                Err(Error::Cancelled) => {
                    self.framer.filled(0);
                    self.done = true;
                    self.stream = None;
                    return Err(Error::Cancelled);
                }
                Err(e) if matches!(e.kind(), ErrorKind::Transport | ErrorKind::Timeout) => {
                    self.framer.filled(0);
                    if !self.opts.resume {
                        self.done = true;
                        self.stream = None;
                        return Err(e);
                    }
                    self.reconnect(true)?;
                }
                Err(e) => {
                    self.framer.filled(0);
                    self.done = true;
                    self.stream = None;
                    return Err(e);
                }
            }
        }
    }
}

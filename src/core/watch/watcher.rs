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
use crate::core::http::interrupt::{self, Readiness};
use crate::core::stream::Next;
use crate::core::stream::backoff::{Backoff, Jitter};
use crate::core::stream::lines::LineFramer;
use crate::core::stream::resume::ResumeErrors;
use crate::core::watch::event::{Decoded, Decoder, Event, EventType, Key, RawDecoder};
use crate::core::watch::options::{OnGone, WatchOptions};
use crate::core::watch::resync::{ItemType, Known, relist, relist_typed};
use crate::core::watch::target::{and_selector, target};

/// A stream that lived at least this long ended "healthily": reconnect at once.
const HEALTHY: Duration = Duration::from_secs(1);

/// The result of [`Watch::list`]: the objects, and what a watch from there needs.
#[derive(Debug)]
pub struct Listing {
    /// The listed objects, as ADDED events, as the server sent them (a real API server leaves
    /// `kind` and `apiVersion` out of list items).
    pub objects: Vec<Event>,
    /// The items' `(kind, apiVersion)`, from the list's.
    pub item_type: ItemType,
    path: String,
    opts: WatchOptions,
    known: HashMap<Key, Known>,
}

impl Listing {
    /// Watch from the list's resourceVersion. The watch knows the listed objects, so a relist
    /// after a 410 reports those deleted meanwhile.
    pub fn watch(self, client: &Client) -> Result<Watch> {
        // The name (if any) is already in the field selector: watch the collection.
        Watch::start(client, &self.path, self.opts, Some(self.known))
    }
}

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
    /// A line that looked like an ERROR event, taken from the buffer by `poll_next` and acted
    /// on by `wait`.
    error_line: Option<Vec<u8>>,
    /// Objects seen so far (for relisting), when `on_gone` is `Relist`.
    known: Option<HashMap<Key, Known>>,
    /// Events produced by a relist, waiting to be handed out.
    pending: VecDeque<Event>,
    backoff: Backoff,
    jitter: Jitter,
    opened_at: Instant,
    /// The first request asks for what the caller asked for; resumes use the tracked rv.
    first: bool,
    /// The longest wait for the next bytes on the open stream.
    idle: Duration,
    /// The stream was lost and not yet resumed: whether it broke (rather than ended cleanly).
    lost: Option<bool>,
    /// The delay before the next resume attempt was already handed out (see
    /// [`Watch::resume_delay`]).
    delayed: bool,
    /// Failures of the resume attempts since the stream was lost.
    resume_errors: ResumeErrors,
    /// The last resume attempt failed.
    resume_failed: bool,
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
    ///
    /// A path that names one object (`.../pods/web-0`) watches that object: the API server
    /// only watches collections, so the watch is of its collection with
    /// `fieldSelector=metadata.name=web-0` added, as `kubectl get pod web-0 --watch` does.
    pub fn new(client: &Client, path: &str, opts: WatchOptions) -> Result<Watch> {
        Self::start(client, path, opts, None)
    }

    /// List first (all pages at one resourceVersion), to watch from the list's
    /// resourceVersion afterwards with [`Listing::watch`] (client-go's list + watch). A caller
    /// that finds what it needs in the list never opens the watch. `path` and `opts` are as
    /// for [`Watch::new`]; `opts.resource_version` is ignored.
    pub fn list(client: &Client, path: &str, mut opts: WatchOptions) -> Result<Listing> {
        check_path(path)?;
        let target = target(path)?;
        if let Some(name) = &target.name_selector {
            opts.field_selector = Some(and_selector(opts.field_selector.as_deref(), name));
        }
        let mut known = HashMap::new();
        let (mut objects, list_rv, item_type) =
            relist_typed(client, &target.path, &opts, &mut known)?;
        // Only the objects: the markers frame differences, and a first list has none.
        objects.retain(|e| e.kind == EventType::Added);
        opts.resource_version = Some(list_rv);
        Ok(Listing {
            objects,
            item_type,
            path: target.path,
            opts,
            known,
        })
    }

    fn start(
        client: &Client,
        path: &str,
        mut opts: WatchOptions,
        known: Option<HashMap<Key, Known>>,
    ) -> Result<Watch> {
        check_path(path)?;
        if path.contains('?') {
            return Err(Error::invalid(
                "watch path must not carry a query: use the watch options (selectors, \
                 resourceVersion, extra parameters)",
            ));
        }
        let target = target(path)?;
        if let Some(name) = &target.name_selector {
            opts.field_selector = Some(and_selector(opts.field_selector.as_deref(), name));
        }
        let mut w = Watch {
            client: client.clone(),
            path: target.path,
            rv: opts.resource_version.clone().filter(|v| !v.is_empty()),
            known: (opts.on_gone == OnGone::Relist).then(|| known.unwrap_or_default()),
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
            error_line: None,
            jitter: Jitter::new(),
            opened_at: Instant::now(),
            first: true,
            idle: Duration::ZERO,
            lost: None,
            delayed: false,
            resume_errors: ResumeErrors::default(),
            resume_failed: false,
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
        self.idle = idle;
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

    /// The stream was lost: resume (after a delay unless it ended healthily), or stop.
    fn reconnect(&mut self) -> Result<()> {
        loop {
            if let Some(d) = self.resume_delay() {
                self.cancel.sleep(d)?;
            }
            if self.resume_once()? {
                return Ok(());
            }
        }
    }

    /// Mark the open stream as lost; `broke` when it did not end cleanly. The next
    /// [`Watch::wait`] resumes it.
    fn lose(&mut self, broke: bool) {
        self.stream = None;
        self.lost = Some(broke);
    }

    /// Before resuming a lost stream: how long to wait first (`None`: go at once). Each attempt
    /// gets its delay once, so a front that waits it out itself (asyncio, on its event loop)
    /// calls this, waits, and then [`Watch::wait_once`] resumes without waiting again. Broken
    /// streams, failed attempts and streams that lived less than a second back off; a stream
    /// that ended healthily (its `timeoutSeconds`) resumes at once.
    pub fn resume_delay(&mut self) -> Option<Duration> {
        if self.delayed || self.done || self.stream.is_some() || !self.opts.resume {
            return None;
        }
        self.delayed = true;
        let broke = self.lost.unwrap_or(true);
        (self.resume_failed || broke || self.opened_at.elapsed() < HEALTHY)
            .then(|| self.backoff.next_delay())
    }

    /// One resume attempt: `Ok(true)` when the stream is open again (or the watch is over),
    /// `Ok(false)` after a failure worth retrying (after the next delay).
    fn resume_once(&mut self) -> Result<bool> {
        self.stream = None;
        self.framer.clear();
        if !self.opts.resume {
            self.done = true;
            return Ok(true);
        }
        self.delayed = false;
        match self.connect_or_relist() {
            Ok(()) => {
                self.lost = None;
                self.resume_failed = false;
                self.resume_errors = ResumeErrors::default();
                Ok(true)
            }
            // Unreachable, overloaded or just restarted (401/403/404 while its caches
            // sync): keep trying, see `core::stream::resume`.
            Err(e) if self.resume_errors.retry(&e, &[404]) => {
                self.resume_failed = true;
                Ok(false)
            }
            Err(e) => Err(e),
        }
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
            match self.poll_next(decoder)? {
                Next::Item(e) => return Ok(Some(e)),
                Next::End => return Ok(None),
                Next::NeedsIo => self.wait()?,
            }
        }
    }

    /// The next event from what is already buffered, never doing I/O: a relisted event, or a
    /// complete event line (decoded by `decoder`). Lines that are consumed without being handed
    /// out (bookmarks the caller did not ask for, blank lines) are skipped here too, so a
    /// [`Next::NeedsIo`] always means "nothing more until [`Watch::wait`]". ERROR lines are left
    /// to `wait`, since a 410 leads to a relist (I/O).
    pub fn poll_next<D: Decoder>(&mut self, decoder: &mut D) -> Result<Next<Event<D::Object>>> {
        loop {
            if self.cancel.is_cancelled() {
                self.stop();
                return Err(Error::Cancelled);
            }
            if let Some(e) = self.pending.pop_front() {
                return Ok(Next::Item(Event {
                    kind: e.kind,
                    object: decoder.decode_object(e.object)?,
                    resource_version: e.resource_version,
                }));
            }
            if self.done {
                return Ok(Next::End);
            }
            if self.stream.is_none() || self.error_line.is_some() {
                return Ok(Next::NeedsIo);
            }
            let line = match self.framer.next_line() {
                Ok(Some(l)) => l,
                Ok(None) => return Ok(Next::NeedsIo),
                Err(too_long) => {
                    self.stop();
                    return Err(Error::Decode(format!(
                        "a watch event is larger than the limit of {} bytes",
                        too_long.max
                    )));
                }
            };
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if is_error_line(line) {
                // Acting on it may mean a relist (I/O): left to `wait`.
                self.error_line = Some(line.to_vec());
                return Ok(Next::NeedsIo);
            }
            match decoder.decode_line(line) {
                Err(e) => {
                    self.stop();
                    return Err(e);
                }
                Ok(Decoded::Error(..)) => {
                    // An ERROR line whose type is not first, which `is_error_line` misses.
                    self.error_line = Some(line.to_vec());
                    return Ok(Next::NeedsIo);
                }
                Ok(Decoded::Event(kind, tracked, object)) => {
                    self.remember(
                        kind,
                        tracked.resource_version.clone(),
                        tracked.key,
                        tracked.uid,
                    );
                    if kind == EventType::Bookmark && !self.opts.deliver_bookmarks {
                        continue;
                    }
                    return Ok(Next::Item(Event {
                        kind,
                        object,
                        resource_version: tracked.resource_version,
                    }));
                }
            }
        }
    }

    /// Block until [`Watch::poll_next`] can go on: read more bytes, reconnect after the stream
    /// ended or broke (with backoff), or act on an ERROR line (relist on 410). The only place
    /// a watch does I/O after it opened, with [`Watch::wait_once`] and
    /// [`Watch::read_ready`]. [`Error::Cancelled`] after a cancel; other errors end the watch.
    pub fn wait(&mut self) -> Result<()> {
        while !self.wait_step(true)? {}
        Ok(())
    }

    /// [`Watch::wait`] for a front that waits for sockets and delays itself: acts on an ERROR
    /// line, or makes one resume attempt (without its delay: see [`Watch::resume_delay`]), or
    /// does one blocking read. Poll again afterwards, whatever happened.
    pub fn wait_once(&mut self) -> Result<()> {
        self.wait_step(false).map(drop)
    }

    /// Whether the I/O the watch needs next is only a read of the open stream: then
    /// [`Watch::read_ready`] does it without waiting. Otherwise [`Watch::wait_once`] (after
    /// [`Watch::resume_delay`]) does what is needed: a reconnect, a relist.
    pub fn wants_read(&mut self) -> bool {
        !self.cancel.is_cancelled()
            && !self.done
            && self.error_line.is_none()
            && self.pending.is_empty()
            && self.stream.is_some()
            && !self.framer.line_ready()
    }

    /// Read what the open stream has, never waiting: `Ok(None)` when bytes came (or the
    /// stream ended or broke: then [`Watch::wants_read`] is false and a resume comes next),
    /// `Ok(Some(readiness))` when nothing was there: poll again once that socket is ready.
    pub fn read_ready(&mut self) -> Result<Option<Readiness>> {
        let (r, needed) = interrupt::nonblocking(|| self.read_once());
        match (r, needed) {
            // The read stopped only because the socket had nothing yet; nothing was lost.
            (Ok(false), Some(needed)) => Ok(Some(needed)),
            (r, _) => r.map(|_| None),
        }
    }

    /// The longest the open stream may stay silent before it counts as dead (what a blocking
    /// read's timeout is).
    pub fn idle_timeout(&self) -> Duration {
        self.idle
    }

    /// A front that waits for the socket itself saw no bytes for [`Watch::idle_timeout`]: the
    /// connection counts as dead, as a blocking read's timeout would (resume, or an error
    /// without `resume`).
    pub fn idle_expired(&mut self) -> Result<()> {
        if self.stream.is_none() || self.done {
            return Ok(());
        }
        self.framer.clear();
        if !self.opts.resume {
            self.stop();
            return Err(Error::Timeout(format!(
                "WATCH {}: no bytes for {:?} (the idle timeout)",
                self.path, self.idle
            )));
        }
        self.lose(true);
        Ok(())
    }

    /// The body of [`Watch::wait`] (`blocking`) and [`Watch::wait_once`]: `Ok(true)` when
    /// `poll_next` can go on.
    fn wait_step(&mut self, blocking: bool) -> Result<bool> {
        if self.cancel.is_cancelled() {
            self.stop();
            return Err(Error::Cancelled);
        }
        if let Some(line) = self.error_line.take() {
            return self.on_error_line(&line).map(|()| true);
        }
        if self.done || !self.pending.is_empty() {
            return Ok(true);
        }
        if self.stream.is_none() {
            if blocking {
                self.reconnect()?;
            } else {
                self.resume_once()?;
            }
            return Ok(!blocking);
        }
        if self.framer.line_ready() {
            return Ok(true);
        }
        self.read_once().map(|_| !blocking)
    }

    /// One read from the open stream into the framer; `Ok(true)` when bytes came. A stream
    /// that ends or breaks is marked lost (a resume follows), unless `resume` is off.
    fn read_once(&mut self) -> Result<bool> {
        let Some(stream) = self.stream.as_mut() else {
            return Ok(false);
        };
        let cancel = &self.cancel;
        let spare = self.framer.spare();
        match cancel.guard(|| stream.read(spare)) {
            Ok(0) => {
                self.framer.filled(0);
                // A clean end (timeoutSeconds) unless it stopped mid-line.
                let broke = self.framer.has_partial();
                self.lose(broke);
                Ok(false)
            }
            Ok(n) => {
                self.framer.filled(n);
                Ok(true)
            }
            Err(Error::Cancelled) => {
                self.framer.filled(0);
                self.stop();
                Err(Error::Cancelled)
            }
            // A non-blocking read that found nothing (see `read_ready`): not a failure.
            Err(_) if interrupt::is_nonblocking() && interrupt::was_refused() => {
                self.framer.filled(0);
                // Parking until the socket is readable: the empty buffer goes back meanwhile.
                self.framer.release_idle();
                Ok(false)
            }
            Err(e) if matches!(e.kind(), ErrorKind::Transport | ErrorKind::Timeout) => {
                self.framer.filled(0);
                if !self.opts.resume {
                    self.stop();
                    return Err(e);
                }
                self.lose(true);
                Ok(false)
            }
            Err(e) => {
                self.framer.filled(0);
                self.stop();
                Err(e)
            }
        }
    }

    /// The watch is over: no more events, the connection closed.
    fn stop(&mut self) {
        self.done = true;
        self.stream = None;
    }

    /// A line that looked like an ERROR event: relist on 410 (or fail, as configured); any
    /// other status ends the watch. (A line that was an ordinary event after all is queued.)
    fn on_error_line(&mut self, line: &[u8]) -> Result<()> {
        let (code, reason, raw) = match RawDecoder.decode_line(line) {
            Ok(Decoded::Error(code, reason, raw)) => (code, reason, raw),
            Ok(Decoded::Event(kind, tracked, object)) => {
                let rv = tracked.resource_version.clone();
                self.remember(kind, rv, tracked.key, tracked.uid);
                if kind != EventType::Bookmark || self.opts.deliver_bookmarks {
                    self.pending.push_back(Event {
                        kind,
                        object,
                        resource_version: tracked.resource_version,
                    });
                }
                return Ok(());
            }
            Err(e) => {
                self.stop();
                return Err(e);
            }
        };
        if code == 410 {
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
            return self.gone(e).inspect_err(|_| self.done = true);
        }
        self.done = true;
        let resp = Response {
            status: Status::parse(&raw).map_or(500, |s| s.code),
            headers: Vec::new(),
            body: raw,
        };
        Err(api_error(&Request::new("WATCH", &self.path), resp))
    }
}

/// Whether a complete line is an ERROR event. The type comes first in every line the API
/// server writes; a line with its type elsewhere is caught after decoding.
fn is_error_line(line: &[u8]) -> bool {
    let head = &line[..line.len().min(24)];
    head.windows(7).any(|w| w == b"\"ERROR\"")
}

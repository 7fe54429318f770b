//! Reading a pod's log line by line, following it, and resuming a broken follow without losing
//! or repeating a line.
//!
//! Resuming: with `resume`, the log is requested with `timestamps=true` (the prefix is removed
//! again unless the caller asked for it). When a follow ends or breaks while the container
//! still runs, the log is requested again with `sinceTime` = the last timestamp seen. The API
//! server hands `sinceTime` to the kubelet with one-second precision, so lines of that second
//! come again; the lines already delivered at the boundary (older than the last timestamp, or
//! at it and already counted) are dropped. (A connection that breaks again before it gets
//! past that second's lines makes no progress: drops that frequent are not a real cluster's.)
//!
//! The end: when a follow ends or breaks and the pod's status says the container has
//! terminated, one last request without `follow` (from the last timestamp, deduplicated as
//! above) collects what the stream may have missed, because the API server ends its response
//! cleanly, even mid-line, when its connection to the kubelet breaks. Then the log ends.
//!
//! Dead connections: with `resume`, a stream silent for `idle_check` is checked: if the
//! container has terminated the log ends; otherwise the log is requested again (the dedup
//! above makes that free of repeats). A quiet container is never given up on. Without
//! `resume` there is no idle limit; TCP keepalive notices a vanished peer.
//!
//! Lines longer than `max_line_bytes` are split into pieces of that size (each delivered as
//! a line). The last line, if it has no trailing newline, is delivered when the stream ends.

use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::core::api::request::Request;
use crate::core::api::url::check_path;
use crate::core::cancel::CancelHandle;
use crate::core::client::{BodyStream, Client};
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::http::interrupt::{self, Readiness};
use crate::core::logs::options::LogOptions;
use crate::core::logs::stamp::StampParser;
use crate::core::stream::backoff::Backoff;
use crate::core::stream::lines::LineFramer;
use crate::core::stream::resume::ResumeErrors;

/// A stream shorter than this counts as a failure for the backoff (a server that closes at
/// once is not hammered).
const HEALTHY: std::time::Duration = std::time::Duration::from_secs(1);

/// One step of reading.
enum Step {
    /// A line was appended to the output buffer.
    Line,
    /// Nothing buffered (only when asked not to block).
    NotReady,
    End,
    /// [`Mode::ReadReady`]: the socket has nothing yet; this is what it needs.
    Socket(Readiness),
    /// [`Mode::ReadReady`]: the stream ended or broke; [`LogStream::wait_once`] goes on.
    NeedsIo,
}

/// How a step may get more bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Read, waiting as long as it takes, and resume a lost stream.
    Block,
    /// Only what is buffered.
    Buffered,
    /// Read what the socket has without waiting; a lost stream is left to `wait_once`.
    ReadReady,
}

/// What [`LogStream::read_ready`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ready {
    /// A line was handed over.
    Line,
    /// The log is over.
    End,
    /// Nothing buffered and the socket has nothing yet: call again once it is ready (or
    /// [`LogStream::idle_expired`] after [`LogStream::idle_timeout`] of silence).
    Socket(Readiness),
    /// The stream ended or broke: [`LogStream::wait_once`] resumes it (or ends the log).
    NeedsIo,
}

/// A stream that ended (no error) or broke, not yet resumed or finished.
struct Lost {
    /// The last line, when it had no newline (delivered if the log ends here).
    partial: Option<Vec<u8>>,
    /// Why it broke (raised if the log cannot resume).
    error: Option<Error>,
}

/// Lines handed over together: each line followed by `\n` in `data`, and `ends[i]` the
/// position of line `i`'s newline (so a front can also take the whole buffer at once).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Batch {
    /// The lines' bytes, each followed by a newline.
    pub data: Vec<u8>,
    /// Where each line ends (its newline) in `data`.
    pub ends: Vec<usize>,
}

impl Batch {
    /// The lines, in order, without their newlines.
    pub fn lines(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.ends.iter().map(move |&e| {
            let l = &self.data[start..e];
            start = e + 1;
            l
        })
    }

    /// True when there is no line (the log ended).
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// What a resuming follow remembers to drop lines it already delivered.
#[derive(Debug, Default, Clone, Copy)]
struct Dedup {
    /// The last timestamp delivered, and how many lines carried it.
    last: Option<(SystemTime, usize)>,
    /// After a resume: drop lines older than this, and this many at exactly it.
    skip: Option<(SystemTime, usize)>,
    stamps: StampParser,
}

impl Dedup {
    /// Where the part of `raw` to hand out starts, or `None` when it was already delivered.
    fn keep(&mut self, raw: &[u8], resuming: bool, timestamps: bool) -> Option<usize> {
        if !resuming {
            return Some(0);
        }
        let Some((t, content_at)) = self.stamps.split(raw) else {
            // Not timestamped (a split continuation): pass it on as it is.
            return Some(0);
        };
        if let Some((skip_t, n)) = self.skip {
            if t < skip_t {
                return None;
            }
            if t == skip_t && n > 0 {
                self.skip = Some((skip_t, n - 1));
                return None;
            }
            self.skip = None;
        }
        self.last = match self.last {
            Some((lt, n)) if lt == t => Some((t, n + 1)),
            _ => Some((t, 1)),
        };
        Some(if timestamps { 0 } else { content_at })
    }
}

/// A running log read. Owned by one thread at a time; stop it with its [`CancelHandle`].
pub struct LogStream {
    client: Client,
    path: String,
    namespace: String,
    pod: String,
    opts: LogOptions,
    cancel: CancelHandle,
    stream: Option<BodyStream>,
    framer: LineFramer,
    dedup: Dedup,
    /// Bytes handed out (for `limitBytes` across resumes).
    delivered: u64,
    backoff: Backoff,
    opened_at: Instant,
    /// A line was delivered since the stream was opened: a break after progress is resumed
    /// at once; only streams that bring nothing back off.
    progressed: bool,
    first: bool,
    /// The container has terminated: one last request without `follow` collects what the
    /// broken stream did not deliver, then the log ends.
    draining: bool,
    /// A stream lost in [`Mode::ReadReady`], for [`LogStream::wait_once`].
    lost: Option<Lost>,
    done: bool,
    /// Set by a front that waits out backoffs itself ([`LogStream::resume_delay`]): a resume
    /// stops where it would sleep, keeping its place, instead of holding its thread.
    defer_delays: bool,
    /// Where a resume stopped for its backoff (with `defer_delays`).
    deferred: Option<Deferred>,
}

/// A resume stopped before a backoff, for the front to wait out ([`LogStream::resume_delay`]).
#[derive(Debug)]
struct Deferred {
    delay: Duration,
    /// The front has it (and waits it): the resume goes on without sleeping.
    handed: bool,
    /// The resume's own state at the stop.
    errors: ResumeErrors,
    failed: bool,
    just_terminated: bool,
}

impl std::fmt::Debug for LogStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogStream")
            .field("path", &self.path)
            .finish()
    }
}

impl LogStream {
    /// Start reading the log of `pod` in `namespace`. The first request is made now, so a
    /// missing pod (404), a wrong container (400, naming the pod's containers) or a 403 fails
    /// here.
    pub fn open(client: &Client, namespace: &str, pod: &str, opts: LogOptions) -> Result<Self> {
        if namespace.is_empty() || pod.is_empty() || namespace.contains('/') || pod.contains('/') {
            return Err(Error::invalid(format!(
                "namespace {namespace:?} and pod {pod:?} must be non-empty names"
            )));
        }
        if let Some(t) = &opts.since_time
            && humantime::parse_rfc3339_weak(t).is_err()
        {
            return Err(Error::invalid(format!(
                "sinceTime {t:?} is not an RFC 3339 time (2026-11-29T03:00:00Z)"
            )));
        }
        let path = format!("/api/v1/namespaces/{namespace}/pods/{pod}/log");
        check_path(&path)?;
        let mut s = LogStream {
            client: client.clone(),
            path,
            namespace: namespace.to_owned(),
            pod: pod.to_owned(),
            framer: LineFramer::new(opts.max_line_bytes),
            backoff: Backoff::new(
                opts.backoff_initial,
                opts.backoff_max,
                std::time::Duration::from_secs(120),
            ),
            opts,
            cancel: CancelHandle::new(),
            stream: None,
            dedup: Dedup::default(),
            delivered: 0,
            opened_at: Instant::now(),
            progressed: false,
            first: true,
            draining: false,
            lost: None,
            done: false,
            defer_delays: false,
            deferred: None,
        };
        s.open_stream().map_err(|e| s.explain(e))?;
        Ok(s)
    }

    /// A handle that stops this log read from any thread.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.cancel.clone()
    }

    fn resuming(&self) -> bool {
        self.opts.resume && self.opts.follow && !self.opts.previous
    }

    fn open_stream(&mut self) -> Result<()> {
        let o = &self.opts;
        let mut req = Request::new("GET", &self.path);
        if let Some(c) = &o.container {
            req = req.with_param("container", c);
        }
        if o.follow && !self.draining {
            req = req.with_param("follow", "true");
        }
        if o.previous {
            req = req.with_param("previous", "true");
        }
        if o.timestamps || self.resuming() {
            req = req.with_param("timestamps", "true");
        }
        if o.insecure_skip_tls_verify_backend {
            req = req.with_param("insecureSkipTLSVerifyBackend", "true");
        }
        match (&self.dedup.last, self.first) {
            // A resume: from the last timestamp seen. The API server passes sinceTime on to the
            // kubelet with one-second precision, so lines of that second come again; `deliver`
            // drops the ones already handed out.
            (Some((t, _)), false) => {
                req = req.with_param(
                    "sinceTime",
                    &humantime::format_rfc3339_nanos(*t).to_string(),
                );
            }
            _ => {
                if let Some(s) = o.since_seconds {
                    req = req.with_param("sinceSeconds", &s.to_string());
                }
                if let Some(t) = &o.since_time {
                    req = req.with_param("sinceTime", t);
                }
                if let Some(n) = o.tail_lines {
                    req = req.with_param("tailLines", &n.to_string());
                }
            }
        }
        if let Some(limit) = o.limit_bytes {
            let left = limit.saturating_sub(self.delivered);
            req = req.with_param("limitBytes", &left.to_string());
        }
        let idle = self.resuming().then_some(self.opts.idle_check);
        let client = &self.client;
        let stream = self.cancel.guard(|| client.open_stream(&req, idle))?;
        self.stream = Some(stream);
        self.framer.clear();
        self.opened_at = Instant::now();
        self.progressed = false;
        self.first = false;
        Ok(())
    }

    /// A 400 about the container: add the pod's containers to the message.
    fn explain(&self, e: Error) -> Error {
        let Error::Api(mut api) = e else { return e };
        if api.status != 400 || api.message.contains("choose one of") {
            return Error::Api(api);
        }
        if let Ok(names) = self.containers() {
            api.message = format!(
                "{} (the pod's containers: {})",
                api.message,
                names.join(", ")
            );
        }
        Error::Api(api)
    }

    fn pod_object(&self) -> Result<Value> {
        let path = format!("/api/v1/namespaces/{}/pods/{}", self.namespace, self.pod);
        let client = &self.client;
        self.cancel.guard(|| client.get_json(&path))
    }

    fn containers(&self) -> Result<Vec<String>> {
        let pod = self.pod_object()?;
        let mut names = Vec::new();
        for list in ["initContainers", "containers", "ephemeralContainers"] {
            for c in pod["spec"][list].as_array().into_iter().flatten() {
                if let Some(n) = c["name"].as_str() {
                    names.push(n.to_owned());
                }
            }
        }
        Ok(names)
    }

    /// Has the container we follow terminated (or the whole pod finished)?
    fn container_terminated(&self) -> Result<bool> {
        let pod = self.pod_object()?;
        if matches!(
            pod["status"]["phase"].as_str(),
            Some("Succeeded" | "Failed")
        ) {
            return Ok(true);
        }
        let statuses = pod["status"]["containerStatuses"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let ours = match &self.opts.container {
            Some(c) => statuses.iter().find(|s| s["name"] == c.as_str()),
            None => statuses.first(),
        };
        Ok(ours.is_some_and(|s| s["state"].get("terminated").is_some()))
    }

    /// The stream ended or broke. Resume (returns true) or finish (false).
    fn after_stream(&mut self, broke: bool) -> Result<bool> {
        self.stream = None;
        if !self.resuming() || self.limit_reached() {
            return Ok(false);
        }
        // Failed reconnects (and pod status checks) are waited out as `core::stream::resume` says.
        // A resume that stopped for its backoff (`defer_delays`) goes on where it stopped: the
        // front waited the delay out, or (if it did not ask for it) it is slept here.
        let (mut errors, mut failed, mut just_terminated, mut waited) = match self.deferred.take() {
            Some(d) => {
                if !d.handed {
                    self.cancel.sleep(d.delay)?;
                }
                (d.errors, d.failed, d.just_terminated, true)
            }
            None => (ResumeErrors::default(), false, false, false),
        };
        // The delay waited is the one where the resume stopped: after a failure (failed) or
        // the stalled stream's (not failed), once.
        let mut waited_failure = waited && failed;
        waited &= !failed;
        loop {
            if failed && !std::mem::take(&mut waited_failure) {
                let d = self.backoff.next_delay();
                if self.defer_delays {
                    self.deferred = Some(Deferred {
                        delay: d,
                        handed: false,
                        errors,
                        failed,
                        just_terminated,
                    });
                    // Not the handle's cancel: `resolve_lost` keeps the lost stream for the
                    // next `wait_once`, as for any interrupted resume.
                    return Err(Error::Cancelled);
                }
                self.cancel.sleep(d)?;
            }
            if self.draining {
                // The last request ended: complete, unless it broke (then it is made again).
                if !broke && !failed {
                    return Ok(false);
                }
            } else {
                match self.container_terminated() {
                    // The stream may have ended early (a drop: the API server ends its
                    // response cleanly when the kubelet's connection breaks, even mid-line),
                    // so collect the rest once more without `follow`; the dedup drops what
                    // was already delivered.
                    Ok(true) => {
                        self.draining = true;
                        just_terminated = true;
                    }
                    Ok(false) => {}
                    Err(e) if errors.retry(&e, &[]) => {
                        failed = true;
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            let stalled = !self.progressed && (broke || self.opened_at.elapsed() < HEALTHY);
            if stalled && !failed && !just_terminated && !std::mem::take(&mut waited) {
                let d = self.backoff.next_delay();
                if self.defer_delays {
                    self.deferred = Some(Deferred {
                        delay: d,
                        handed: false,
                        errors,
                        failed,
                        just_terminated,
                    });
                    return Err(Error::Cancelled);
                }
                self.cancel.sleep(d)?;
            }
            self.dedup.skip = self.dedup.last;
            match self.open_stream() {
                Ok(()) => return Ok(true),
                Err(e) if errors.retry(&e, &[]) => failed = true,
                Err(e) => return Err(e),
            }
        }
    }

    fn limit_reached(&self) -> bool {
        self.opts.limit_bytes.is_some_and(|l| self.delivered >= l)
    }

    /// Count a line of `n` bytes as handed out.
    fn handed_out(&mut self, n: usize) {
        self.delivered += n as u64 + 1;
        self.progressed = true;
    }

    /// The next line (without its newline), blocking until one arrives. `Ok(None)` when the
    /// log ended (not following, the container terminated, `limitBytes` reached);
    /// [`Error::Cancelled`] after a cancel.
    pub fn next_line(&mut self) -> Result<Option<Vec<u8>>> {
        let mut out = Vec::new();
        Ok(self.next_line_into(&mut out)?.then_some(out))
    }

    /// [`LogStream::next_line`] into `out` (cleared first), so a caller reading line after
    /// line reuses one buffer; false when the log ended.
    pub fn next_line_into(&mut self, out: &mut Vec<u8>) -> Result<bool> {
        out.clear();
        match self.step(Mode::Block, &mut |l| out.extend_from_slice(l))? {
            Step::Line => Ok(true),
            _ => Ok(false),
        }
    }

    /// Up to `max` lines: blocks for the first, then takes only what is already buffered, so
    /// a front can hand over lines in batches as they arrive (never waiting for a batch to
    /// fill), in one buffer. An empty batch means the log ended.
    pub fn next_lines(&mut self, max: usize) -> Result<Batch> {
        let mut b = Batch {
            // Room for a read's worth of lines, so the buffer rarely grows mid-batch.
            data: Vec::with_capacity(2 * crate::core::stream::lines::READ_SIZE),
            ends: Vec::with_capacity(max.min(4096)),
        };
        match self.step(Mode::Block, &mut |l| b.data.extend_from_slice(l))? {
            Step::Line => {
                b.ends.push(b.data.len());
                b.data.push(b'\n');
            }
            _ => return Ok(b),
        }
        self.buffered_lines(max.max(1) - 1, &mut |l| {
            b.data.extend_from_slice(l);
            b.ends.push(b.data.len());
            b.data.push(b'\n');
        })?;
        Ok(b)
    }

    /// Hand each line that is already buffered to `f`, borrowed from the read buffer (no copy),
    /// at most `max` of them; never does I/O. Returns how many were handed over. A front that
    /// must not do I/O at a given moment (Python holding the GIL) builds its objects here, and
    /// waits for the next line with [`LogStream::next_line`] or [`LogStream::next_lines`]
    /// otherwise.
    pub fn buffered_lines(&mut self, max: usize, f: &mut dyn FnMut(&[u8])) -> Result<usize> {
        let mut n = 0;
        // Lines handed out as they are (no resume bookkeeping, which reads each line's
        // timestamp) come in one scan of the buffer; the rest, and whatever the scan stops at
        // (an overlong line, the end of the buffer), go through `step`.
        if !self.resuming() && !self.done && self.stream.is_some() && !self.cancel.is_cancelled() {
            let (lines, bytes) = self.framer.take_lines(max, f);
            if lines > 0 {
                self.delivered += bytes as u64;
                self.progressed = true;
            }
            n = lines;
        }
        while n < max {
            match self.step(Mode::Buffered, f)? {
                Step::Line => n += 1,
                _ => break,
            }
        }
        Ok(n)
    }

    /// The next line from what is buffered or what the socket has now, never waiting (for a
    /// front that waits for the socket itself: asyncio). Lines go to `out`, borrowed.
    pub fn read_ready(&mut self, out: &mut dyn FnMut(&[u8])) -> Result<Ready> {
        Ok(match self.step(Mode::ReadReady, out)? {
            Step::Line => Ready::Line,
            Step::End => Ready::End,
            Step::Socket(r) => Ready::Socket(r),
            Step::NeedsIo | Step::NotReady => Ready::NeedsIo,
        })
    }

    /// After [`Ready::NeedsIo`]: resume the lost stream as a blocking read would (pod status
    /// check, backoff, the request from the last timestamp), or end the log; true when that
    /// handed `out` the last line (one without a newline). Blocks: run it off the event loop.
    /// Interrupted, it can be called again.
    pub fn wait_once(&mut self, out: &mut dyn FnMut(&[u8])) -> Result<bool> {
        match self.lost.take() {
            Some(lost) => self.resolve_lost(lost, out),
            None => Ok(false),
        }
    }

    /// For a front that waits out backoffs itself (asyncio): from the first call on, a resume
    /// in [`LogStream::wait_once`] stops where it would sleep (`wait_once` then fails with
    /// [`Error::Cancelled`] while the handle is not cancelled, keeping its place, like any
    /// interrupted resume), and this returns the delay to wait before calling `wait_once`
    /// again, which goes on without sleeping. `None` when no resume is waiting for a delay.
    pub fn resume_delay(&mut self) -> Option<Duration> {
        self.defer_delays = true;
        let d = self.deferred.as_mut()?;
        d.handed = true;
        Some(d.delay)
    }

    /// How long the open stream may stay silent before it is checked (`None`: no limit; only
    /// a resuming follow has one).
    pub fn idle_timeout(&self) -> Option<std::time::Duration> {
        self.resuming().then_some(self.opts.idle_check)
    }

    /// A front that waits for the socket itself saw no bytes for [`LogStream::idle_timeout`]:
    /// what a blocking read's timeout does follows in [`LogStream::wait_once`].
    pub fn idle_expired(&mut self) {
        if self.stream.is_some() && self.lost.is_none() && !self.done {
            self.lost = Some(Lost {
                partial: None,
                error: Some(Error::Timeout(format!(
                    "{}: no bytes for {:?} (idle_check)",
                    self.path, self.opts.idle_check
                ))),
            });
        }
    }

    /// The stream ended (no error) or broke: resume, or end the log; true when the last line
    /// (without a newline) went to `out`. An interrupted resume is kept for the next call.
    fn resolve_lost(&mut self, lost: Lost, out: &mut dyn FnMut(&[u8])) -> Result<bool> {
        let (resuming, timestamps) = (self.resuming(), self.opts.timestamps);
        let broke = lost.error.is_some();
        let resumed = match self.after_stream(broke) {
            Err(Error::Cancelled) if !self.cancel.is_cancelled() => {
                self.lost = Some(lost);
                return Err(Error::Cancelled);
            }
            r => r?,
        };
        if resumed {
            return Ok(false);
        }
        self.done = true;
        match lost.error {
            // A cut line comes again after the resume; never deliver half of it.
            Some(e) if !resuming => Err(e),
            Some(_) => Ok(false),
            None => {
                // The last line without a newline, delivered once the log is over.
                if let Some(p) = lost.partial
                    && let Some(at) = self.dedup.keep(&p, resuming, timestamps)
                {
                    out(&p[at..]);
                    self.handed_out(p.len() - at);
                    return Ok(true);
                }
                Ok(false)
            }
        }
    }

    /// Produce the next line into `out` (called once per line, with the line's bytes without
    /// their newline).
    fn step(&mut self, mode: Mode, out: &mut dyn FnMut(&[u8])) -> Result<Step> {
        let (resuming, timestamps) = (self.resuming(), self.opts.timestamps);
        loop {
            if self.cancel.is_cancelled() {
                self.done = true;
                self.stream = None;
                return Err(Error::Cancelled);
            }
            if self.done {
                return Ok(Step::End);
            }
            if self.lost.is_some() && self.stream.is_none() {
                // An interrupted resume (see `resolve_lost`).
                match mode {
                    Mode::Block => {}
                    Mode::Buffered => return Ok(Step::NotReady),
                    Mode::ReadReady => return Ok(Step::NeedsIo),
                }
            }
            let Some(stream) = self.stream.as_mut() else {
                self.done = true;
                return Ok(Step::End);
            };
            match self.framer.next_line() {
                Ok(Some(line)) => {
                    if let Some(at) = self.dedup.keep(line, resuming, timestamps) {
                        let n = line.len() - at;
                        out(&line[at..]);
                        self.handed_out(n);
                        return Ok(Step::Line);
                    }
                    continue;
                }
                Ok(None) if mode == Mode::Buffered => return Ok(Step::NotReady),
                Ok(None) => {}
                Err(_) => {
                    // Longer than the limit: hand out a piece of it.
                    let piece = self.framer.take_prefix(self.opts.max_line_bytes);
                    out(&piece);
                    self.handed_out(piece.len());
                    return Ok(Step::Line);
                }
            }
            if let Some(lost) = self.lost.take() {
                if mode == Mode::ReadReady {
                    self.lost = Some(lost);
                    return Ok(Step::NeedsIo);
                }
                if self.resolve_lost(lost, out)? {
                    return Ok(Step::Line);
                }
                continue;
            }
            let cancel = &self.cancel;
            let spare = self.framer.spare();
            let (read, needed) = if mode == Mode::ReadReady {
                interrupt::nonblocking(|| cancel.guard(|| stream.read(spare)))
            } else {
                (cancel.guard(|| stream.read(spare)), None)
            };
            match read {
                // The socket had nothing yet (`read_ready`): nothing was lost.
                Err(_) if needed.is_some() => {
                    self.framer.filled(0);
                    // Parking until the socket is readable: the empty buffer goes back.
                    self.framer.release_idle();
                    return Ok(needed.map_or(Step::NeedsIo, Step::Socket));
                }
                Ok(0) => {
                    self.framer.filled(0);
                    let partial = self.framer.take_partial();
                    self.lost = Some(Lost {
                        partial,
                        error: None,
                    });
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
                    self.lost = Some(Lost {
                        partial: None,
                        error: Some(e),
                    });
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

//! `GET /api/v1/namespaces/{ns}/pods/{name}/log`: a container's log as the API server relays
//! it from the kubelet, a chunked `text/plain` stream, with fault injection.
//!
//! Every `PodLogOptions` query parameter is understood:
//! - `container`: required when the pod has more than one (non-init) container.
//! - `follow`: after what exists, stream new lines as they are appended, each flushed at
//!   once, until the container stops running (a clean end, after everything appended
//!   before) or the client leaves. A quiet container keeps the stream open and silent for
//!   as long as the client waits. Without it: what exists when the request arrives, then
//!   the end.
//! - `previous`: the previous instance's log (never followed: it is terminated).
//! - `timestamps`: each line is prefixed with its RFC3339Nano timestamp and a space.
//! - `sinceSeconds`, `sinceTime`: only lines stamped at or after that instant (`sinceTime`
//!   is compared with its fraction, where the real API server passes whole seconds on).
//! - `tailLines`: start with the last N lines that exist when the request arrives (then
//!   the `since` filter applies, as in the kubelet).
//! - `limitBytes`: stop after that many bytes of output (prefixes included), possibly
//!   mid-line, with a clean end.
//! - `stream`: `All` (default) or `Stdout` give the log; `Stderr` gives nothing (every line
//!   here is stdout). `insecureSkipTLSVerifyBackend` is accepted and changes nothing.
//!
//! Errors, checked in the API server's order: a parameter that does not parse (400), option
//! validation (422 `PodLogOptions "P" is invalid: ...`), a missing pod (404), a missing or
//! unknown container (400), a waiting container or no previous instance (400).
//!
//! The same handler serves the kubelet's `GET /containerLogs/{ns}/{pod}/{container}`, which is
//! how the end-to-end tests use this server as a fake kubelet behind a real API server.
//!
//! The pod name `logbench` is special: its log is the benchmark stream of `logbench.rs`,
//! sized by `PUT /_control/logbench`, whatever the pods and options.
//!
//! Fault settings (`PUT /_control/logs/faults`, see [`LogFaults`]) are read when a stream
//! starts, so a change affects the streams opened after it.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::api::status_response;
use crate::http::{ChunkedWriter, Reply, Request, Response, Streaming};
use crate::pods::{Entry, Inner, Pods, pod_not_found};
use crate::timefmt;
use crate::watch::query_bool;

/// How often an idle follow stream looks whether its client is still there.
const PEER_CHECK: Duration = Duration::from_millis(500);
/// Lines are read from the buffer, under its lock, in batches of about this many bytes.
const BATCH: usize = 64 * 1024;
/// The longest `split_delay_ms` honoured.
const MAX_SPLIT_DELAY_MS: u64 = 10_000;

/// The fault-injection settings of `/_control/logs/faults`.
#[derive(Clone, Copy, Debug)]
pub struct LogFaults {
    /// Close a follow stream abruptly (no terminating chunk) after this many lines on one
    /// connection (0: never).
    pub drop_every: u64,
    /// When dropping, first send the first half of the next line (once there is one).
    pub drop_mid_line: bool,
    /// Send every line in two chunks, each written and flushed on its own, split in the
    /// middle (bytes, not characters), so a client sees partial lines.
    pub chunk_split: bool,
    /// The pause between the two halves of a split line, so that they reach the client in
    /// separate reads (default 1 ms).
    pub split_delay_ms: u64,
}

impl Default for LogFaults {
    fn default() -> Self {
        LogFaults {
            drop_every: 0,
            drop_mid_line: false,
            chunk_split: false,
            split_delay_ms: 1,
        }
    }
}

impl LogFaults {
    pub fn to_json(self) -> Value {
        json!({
            "drop_every": self.drop_every,
            "drop_mid_line": self.drop_mid_line,
            "chunk_split": self.chunk_split,
            "split_delay_ms": self.split_delay_ms,
        })
    }

    /// Merge the fields of a JSON object; an unknown field or a wrong type changes nothing.
    pub fn merge(&mut self, body: &[u8]) -> Result<(), String> {
        let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
            return Err("the body must be a JSON object of log fault settings".into());
        };
        let mut new = *self;
        for (name, v) in &fields {
            let num = || {
                v.as_u64()
                    .ok_or(format!("{name} must be a non-negative integer"))
            };
            let flag = || v.as_bool().ok_or(format!("{name} must be true or false"));
            match name.as_str() {
                "drop_every" => new.drop_every = num()?,
                "drop_mid_line" => new.drop_mid_line = flag()?,
                "chunk_split" => new.chunk_split = flag()?,
                "split_delay_ms" => new.split_delay_ms = num()?.min(MAX_SPLIT_DELAY_MS),
                other => return Err(format!("unknown log fault setting {other:?}")),
            }
        }
        *self = new;
        Ok(())
    }
}

/// The parsed query of a log request.
struct LogOptions {
    container: Option<String>,
    follow: bool,
    previous: bool,
    timestamps: bool,
    since_seconds: Option<i64>,
    /// Nanoseconds since the epoch (negative before it).
    since_time: Option<i128>,
    tail_lines: Option<i64>,
    limit_bytes: Option<i64>,
    stream: Option<String>,
}

/// One `field.Error` of the API server's validation: field, type, detail.
struct FieldError {
    field: &'static str,
    kind: ErrorKind,
    detail: String,
}

enum ErrorKind {
    /// `Invalid value: V` (the value as Go prints it).
    Invalid(String),
    Forbidden,
    /// `Unsupported value: "V"`.
    NotSupported(String),
}

impl FieldError {
    /// The body of the error, without the field (the `message` of a cause).
    fn body(&self) -> String {
        match &self.kind {
            ErrorKind::Invalid(v) => format!("Invalid value: {v}: {}", self.detail),
            ErrorKind::Forbidden => format!("Forbidden: {}", self.detail),
            ErrorKind::NotSupported(v) => {
                format!("Unsupported value: {v:?}: {}", self.detail)
            }
        }
    }

    fn reason(&self) -> &'static str {
        match self.kind {
            ErrorKind::Invalid(_) => "FieldValueInvalid",
            ErrorKind::Forbidden => "FieldValueForbidden",
            ErrorKind::NotSupported(_) => "FieldValueNotSupported",
        }
    }
}

fn bad(message: &str) -> Response {
    status_response(400, message, Some("BadRequest"))
}

/// An integer parameter; absent or empty is `None`, as in the API server's conversion.
fn int_param(req: &Request, name: &str) -> Result<Option<i64>, Response> {
    match req.param(name) {
        None | Some("") => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            bad(&format!(
                "invalid value for {name}: strconv.ParseInt: parsing {v:?}: invalid syntax"
            ))
        }),
    }
}

impl LogOptions {
    fn parse(req: &Request) -> Result<LogOptions, Response> {
        let flag = |name: &str| query_bool(req, name).unwrap_or(false);
        let since_time = match req.param("sinceTime") {
            None | Some("") => None,
            Some(t) => Some(timefmt::parse(t).ok_or_else(|| {
                bad(&format!(
                    "invalid value for sinceTime: {t:?} is not an RFC 3339 time"
                ))
            })?),
        };
        Ok(LogOptions {
            container: req.param("container").map(str::to_owned),
            follow: flag("follow"),
            previous: flag("previous"),
            timestamps: flag("timestamps"),
            since_seconds: int_param(req, "sinceSeconds")?,
            since_time,
            tail_lines: int_param(req, "tailLines")?,
            limit_bytes: int_param(req, "limitBytes")?,
            stream: req.param("stream").map(str::to_owned),
        })
    }

    /// The API server's `ValidatePodLogOptions`.
    fn validate(&self) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if let Some(t) = self.tail_lines.filter(|t| *t < 0) {
            errs.push(FieldError {
                field: "tailLines",
                kind: ErrorKind::Invalid(t.to_string()),
                detail: "must be greater than or equal to 0".into(),
            });
        }
        if let Some(l) = self.limit_bytes.filter(|l| *l < 1) {
            errs.push(FieldError {
                field: "limitBytes",
                kind: ErrorKind::Invalid(l.to_string()),
                detail: "must be greater than 0".into(),
            });
        }
        match (self.since_seconds, self.since_time) {
            (Some(_), Some(_)) => errs.push(FieldError {
                field: "",
                kind: ErrorKind::Forbidden,
                detail: "at most one of `sinceTime` or `sinceSeconds` may be specified".into(),
            }),
            (Some(s), None) if s < 1 => errs.push(FieldError {
                field: "sinceSeconds",
                kind: ErrorKind::Invalid(s.to_string()),
                detail: "must be greater than 0".into(),
            }),
            _ => {}
        }
        if let Some(s) = &self.stream {
            if !matches!(s.as_str(), "All" | "Stdout" | "Stderr") {
                errs.push(FieldError {
                    field: "stream",
                    kind: ErrorKind::NotSupported(s.clone()),
                    detail: r#"supported values: "All", "Stderr", "Stdout""#.into(),
                });
            }
            if s != "All" && self.tail_lines.is_some() {
                errs.push(FieldError {
                    field: "",
                    kind: ErrorKind::Forbidden,
                    detail: "`tailLines` and specific `stream` are mutually exclusive for now"
                        .into(),
                });
            }
        }
        errs
    }

    /// The earliest timestamp shown, in nanoseconds since the epoch.
    fn since(&self) -> Option<u64> {
        if let Some(s) = self.since_seconds {
            let back = u64::try_from(s).unwrap_or(0).saturating_mul(1_000_000_000);
            return Some(timefmt::now_nanos().saturating_sub(back));
        }
        self.since_time
            .map(|t| u64::try_from(t.max(0)).unwrap_or(u64::MAX))
    }
}

/// The 422 of invalid options (`errors.NewInvalid`).
fn invalid(pod: &str, errs: &[FieldError]) -> Response {
    let texts: Vec<String> = errs
        .iter()
        .map(|e| format!("{}: {}", e.field, e.body()))
        .collect();
    let aggregate = match texts.as_slice() {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    };
    let causes: Vec<Value> = errs
        .iter()
        .map(|e| json!({"reason": e.reason(), "message": e.body(), "field": e.field}))
        .collect();
    Response::json(
        422,
        &json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": format!("PodLogOptions {pod:?} is invalid: {aggregate}"),
            "reason": "Invalid",
            "details": {"name": pod, "kind": "PodLogOptions", "causes": causes},
            "code": 422,
        }),
    )
}

/// Where a log stream reads: one buffer of one container instance, from `next` on.
struct Cursor {
    ns: String,
    pod: String,
    container: String,
    instance: u64,
    previous: bool,
    next: usize,
    /// Stop here (the length when the request arrived); `None`: follow.
    end: Option<usize>,
}

/// How entries become output.
struct Format {
    timestamps: bool,
    since: Option<u64>,
    /// False for `stream=Stderr`: nothing is shown.
    stdout: bool,
}

impl Format {
    fn put(&self, e: &Entry, batch: &mut Batch) {
        if self.timestamps {
            timefmt::write_nano(&mut batch.data, e.ts);
            batch.data.push(b' ');
        }
        batch.data.extend_from_slice(&e.content);
        if e.newline {
            batch.data.push(b'\n');
        }
        batch.ends.push(batch.data.len());
    }
}

/// Formatted lines: the bytes and where each line ends.
#[derive(Default)]
struct Batch {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl Batch {
    fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
    }

    fn lines(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(s, &e)| &self.data[s..e])
    }
}

/// What a read under the lock found.
enum Read {
    /// Lines are in the batch.
    Data,
    /// Nothing new yet; more may come.
    CaughtUp,
    /// Nothing more will come.
    Finished,
}

fn read(inner: &Inner, cur: &mut Cursor, fmt: &Format, batch: &mut Batch) -> Read {
    let Some(c) = inner.instance(&cur.ns, &cur.pod, &cur.container, cur.instance) else {
        // The pod was replaced or deleted, or the container restarted.
        return Read::Finished;
    };
    let buf = if cur.previous {
        match &c.previous {
            Some(b) => b,
            None => return Read::Finished,
        }
    } else {
        &c.log
    };
    let end = cur
        .end
        .map_or(buf.entries.len(), |e| e.min(buf.entries.len()));
    while cur.next < end && batch.data.len() < BATCH {
        let e = &buf.entries[cur.next];
        cur.next += 1;
        if fmt.stdout && fmt.since.is_none_or(|s| e.ts >= s) {
            fmt.put(e, batch);
        }
    }
    if !batch.ends.is_empty() {
        Read::Data
    } else if cur.end.is_some() || !c.state.is_running() {
        Read::Finished
    } else {
        Read::CaughtUp
    }
}

/// What [`next_batch`] found.
enum Next {
    Data,
    /// Nothing for a while: time to look whether the client is still there.
    Idle,
    Finished,
}

/// Read the next batch, waiting up to [`PEER_CHECK`] for one.
fn next_batch(pods: &Pods, cur: &mut Cursor, fmt: &Format, batch: &mut Batch) -> Next {
    let deadline = Instant::now() + PEER_CHECK;
    let mut inner = pods.lock();
    loop {
        match read(&inner, cur, fmt, batch) {
            Read::Data => return Next::Data,
            Read::Finished => return Next::Finished,
            Read::CaughtUp => {}
        }
        let now = Instant::now();
        if now >= deadline {
            return Next::Idle;
        }
        inner = pods.wait(inner, deadline - now);
    }
}

/// How a log stream ends early.
enum End {
    /// Properly, with the terminating chunk (`limitBytes` reached).
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

/// Writes the lines of one log stream, applying `limitBytes` and the faults.
struct Emitter<'w, 'a> {
    w: &'w mut ChunkedWriter<'a>,
    faults: LogFaults,
    /// Lines written so far.
    lines: u64,
    /// A mid-line drop is due: the next line goes out half-written, then the connection
    /// closes.
    cut_next: bool,
    /// Bytes `limitBytes` still allows.
    left: Option<u64>,
}

impl Emitter<'_, '_> {
    /// Whether lines must be handled one by one (else a batch is one chunk).
    fn per_line(&self) -> bool {
        self.faults.chunk_split || self.faults.drop_every > 0
    }

    /// Cut `data` to what `limitBytes` still allows; true when that is the end.
    fn limit<'d>(&mut self, data: &'d [u8]) -> (&'d [u8], bool) {
        let Some(left) = self.left else {
            return (data, false);
        };
        let n = usize::try_from(left).unwrap_or(usize::MAX).min(data.len());
        let rest = left - n as u64;
        self.left = Some(rest);
        (&data[..n], rest == 0)
    }

    fn batch(&mut self, batch: &Batch) -> Step {
        if self.per_line() {
            for line in batch.lines() {
                self.line(line)?;
            }
        } else {
            let (data, last) = self.limit(&batch.data);
            self.w.queue(data);
            if last {
                self.w.flush()?;
                return Err(End::Clean);
            }
        }
        self.w.flush().map_err(End::from)
    }

    fn line(&mut self, line: &[u8]) -> Step {
        let (line, last) = self.limit(line);
        if self.cut_next {
            self.w.queue(&line[..line.len() / 2]);
            self.w.flush()?;
            return Err(io::Error::other("log stream dropped mid-line on request").into());
        }
        if self.faults.chunk_split && line.len() >= 2 {
            let mid = line.len() / 2;
            self.w.send(&line[..mid])?;
            if self.faults.split_delay_ms > 0 {
                std::thread::sleep(Duration::from_millis(self.faults.split_delay_ms));
            }
            self.w.send(&line[mid..])?;
        } else {
            self.w.queue(line);
        }
        self.lines += 1;
        if last {
            self.w.flush()?;
            return Err(End::Clean);
        }
        if self.faults.drop_every == self.lines {
            if self.faults.drop_mid_line {
                // The next line is the one cut, whenever it comes.
                self.cut_next = true;
            } else {
                self.w.flush()?;
                return Err(io::Error::other("log stream dropped on request").into());
            }
        }
        Ok(())
    }

    /// The end of the log: clean, unless a drop was due (it still happens, without the
    /// half line there is no line for).
    fn finish(&mut self) -> Step {
        self.w.flush()?;
        if self.cut_next {
            return Err(io::Error::other("log stream dropped on request").into());
        }
        Ok(())
    }
}

fn stream(
    pods: &Pods,
    w: &mut ChunkedWriter<'_>,
    mut cur: Cursor,
    fmt: &Format,
    faults: LogFaults,
    limit: Option<u64>,
) -> Step {
    let mut out = Emitter {
        w,
        faults,
        lines: 0,
        cut_next: false,
        left: limit,
    };
    let mut batch = Batch::default();
    loop {
        batch.clear();
        match next_batch(pods, &mut cur, fmt, &mut batch) {
            Next::Data => out.batch(&batch)?,
            Next::Finished => return out.finish(),
            Next::Idle => {
                if out.w.peer_gone(Duration::ZERO) {
                    return Err(io::Error::other("the log client went away").into());
                }
            }
        }
    }
}

/// The route. `container` comes from the path on the kubelet's route
/// (`/containerLogs/{ns}/{pod}/{container}`) and overrides the query parameter.
pub fn log(
    pods: &Arc<Pods>,
    req: &Request,
    ns: &str,
    name: &str,
    container: Option<&str>,
) -> Reply {
    if name == "logbench" {
        let (n, size) = pods.bench();
        return crate::logbench::logbench_stream(n, size);
    }
    let mut opts = match LogOptions::parse(req) {
        Ok(o) => o,
        Err(resp) => return resp.into(),
    };
    if let Some(c) = container {
        opts.container = Some(c.to_owned());
    }
    let errs = opts.validate();
    if !errs.is_empty() {
        return invalid(name, &errs).into();
    }
    let inner = pods.lock();
    let Some(pod) = inner.pod(ns, name) else {
        return pod_not_found(name).into();
    };
    let c = match pod.resolve(opts.container.as_deref()) {
        Ok(i) => &pod.containers[i],
        Err(m) => return bad(&m).into(),
    };
    let buf = if opts.previous {
        match &c.previous {
            Some(b) => b,
            None => {
                return bad(&format!(
                    "previous terminated container {:?} in pod {name:?} not found",
                    c.name
                ))
                .into();
            }
        }
    } else {
        if let crate::pods::CState::Waiting { reason } = &c.state {
            return bad(&format!(
                "container {:?} in pod {name:?} is waiting to start: {reason}",
                c.name
            ))
            .into();
        }
        &c.log
    };
    let len = buf.entries.len();
    let start = opts.tail_lines.map_or(0, |t| {
        len.saturating_sub(usize::try_from(t).unwrap_or(usize::MAX))
    });
    let follow = opts.follow && !opts.previous;
    let cur = Cursor {
        ns: ns.to_owned(),
        pod: name.to_owned(),
        container: c.name.clone(),
        instance: c.instance,
        previous: opts.previous,
        next: start,
        end: (!follow).then_some(len),
    };
    drop(inner);
    let fmt = Format {
        timestamps: opts.timestamps,
        since: opts.since(),
        stdout: opts.stream.as_deref() != Some("Stderr"),
    };
    let mut faults = pods.faults();
    if !follow {
        // Drops are a follow-stream fault.
        faults.drop_every = 0;
    }
    let limit = opts.limit_bytes.and_then(|l| u64::try_from(l).ok());
    let pods = pods.clone();
    Reply::Stream(Streaming {
        status: 200,
        content_type: "text/plain",
        headers: Vec::new(),
        body: Box::new(move |w| match stream(&pods, w, cur, &fmt, faults, limit) {
            Ok(()) | Err(End::Clean) => Ok(()),
            Err(End::Abort(e)) => Err(e),
        }),
    })
}

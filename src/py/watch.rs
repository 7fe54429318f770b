//! `Client.watch(...)`: an iterator of `WatchEvent`s (also a context manager), or a callback.

use std::sync::Mutex;

use pyo3::exceptions::{PyRuntimeError, PyStopIteration};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::core::cancel::CancelHandle;
use crate::core::error::Error;
use crate::core::stream::Next;
use crate::core::watch::event::{
    Decoded, Decoder, Key, Parsed, RawDecoder, Tracked, event_type, parse,
};
use crate::core::watch::{Event, EventType, Watch as CoreWatch, WatchOptions};
use crate::py::blocking::{feed, run};
use crate::py::convert::loads;
use crate::py::errors::to_py;

/// Where an event's raw JSON comes from.
enum Raw {
    /// The whole event line (the object's bytes are found in it when asked for).
    Line(Vec<u8>),
    /// The object's own bytes (relisted objects, markers).
    Object(Vec<u8>),
}

/// An event as the Python decoder makes it: the object and its raw JSON.
type PyEvent = Event<(Py<PyAny>, Raw)>;

/// One watch event.
#[pyclass(frozen, module = "incluster._native")]
pub struct WatchEvent {
    kind: &'static str,
    /// The same as `kind`, for the core's wait (`incluster.aio`'s `wait` feeds it events).
    event_type: EventType,
    object: Py<PyAny>,
    raw: Raw,
    resource_version: String,
}

/// Decodes each event line once, straight into Python objects, and reads the metadata the
/// watch tracks from the dict it built. Used only while attached: the watch decodes in
/// `poll_next`, never while waiting for bytes.
struct PyDecoder<'py>(Python<'py>);

fn decode_err(e: impl std::fmt::Display) -> Error {
    Error::Decode(format!("malformed watch event: {e}"))
}

/// `{"type": ..., "object": ...}` with the object built as Python objects.
struct LineSeed<'py, 'k>(crate::py::convert::Seed<'py, 'k>);

impl<'de, 'py> serde::de::Visitor<'de> for LineSeed<'py, '_> {
    type Value = (
        Option<std::borrow::Cow<'de, str>>,
        Option<Bound<'py, PyAny>>,
    );

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a watch event object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut kind, mut object) = (None, None);
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match &*k {
                "type" => kind = Some(map.next_value()?),
                "object" => object = Some(map.next_value_seed(self.0)?),
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok((kind, object))
    }
}

fn text(d: &Bound<'_, PyAny>, key: &str) -> String {
    d.get_item(key)
        .ok()
        .and_then(|v| v.extract::<String>().ok())
        .unwrap_or_default()
}

impl Decoder for PyDecoder<'_> {
    type Object = (Py<PyAny>, Raw);

    fn decode_line(&mut self, line: &[u8]) -> crate::core::error::Result<Decoded<Self::Object>> {
        use serde::Deserializer as _;
        let py = self.0;
        {
            let text_line = std::str::from_utf8(line).map_err(decode_err)?;
            let mut de = serde_json::Deserializer::from_str(text_line);
            let (kind, object) =
                crate::py::convert::Seed::with(py, |seed| de.deserialize_map(LineSeed(seed)))
                    .map_err(decode_err)?;
            de.end().map_err(decode_err)?;
            let kind = kind.ok_or_else(|| decode_err("no \"type\""))?;
            let object = object.ok_or_else(|| decode_err("no \"object\""))?;
            if kind == "ERROR" {
                // Rare: let the core read the Status (code, reason, raw bytes).
                return RawDecoder.decode_line(line).map(|d| match d {
                    Decoded::Error(c, r, b) => Decoded::Error(c, r, b),
                    Decoded::Event(..) => Decoded::Error(500, String::new(), line.to_vec()),
                });
            }
            let kind = event_type(&kind)
                .ok_or_else(|| decode_err(format!("unknown event type {kind:?}")))?;
            let meta = object.get_item("metadata").ok();
            let tracked = match &meta {
                Some(m) => Tracked {
                    resource_version: text(m, "resourceVersion"),
                    key: m
                        .get_item("name")
                        .ok()
                        .and_then(|n| n.extract::<String>().ok())
                        .map(|name| Key {
                            namespace: text(m, "namespace"),
                            name,
                        }),
                    uid: text(m, "uid"),
                },
                None => Tracked::default(),
            };
            Ok(Decoded::Event(
                kind,
                tracked,
                (object.unbind(), Raw::Line(line.to_vec())),
            ))
        }
    }

    fn decode_object(&mut self, json: Vec<u8>) -> crate::core::error::Result<Self::Object> {
        let o = loads(self.0, &json).map_err(decode_err)?;
        Ok((o.unbind(), Raw::Object(json)))
    }
}

#[pymethods]
impl WatchEvent {
    /// "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "RESYNC_START" or "RESYNC_END".
    #[getter]
    fn r#type(&self) -> &'static str {
        self.kind
    }

    /// The object as a dict (decoded from the line in Rust as the event arrived).
    #[getter]
    fn object(&self, py: Python<'_>) -> Py<PyAny> {
        self.object.clone_ref(py)
    }

    /// The object's JSON bytes, as the server sent them.
    #[getter]
    fn raw<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        match &self.raw {
            Raw::Object(b) => Ok(PyBytes::new(py, b)),
            Raw::Line(line) => match parse(line) {
                Ok(Parsed::Event(_, raw, _)) => Ok(PyBytes::new(py, raw)),
                _ => Err(to_py(py, &decode_err("the line cannot be read again"))),
            },
        }
    }

    /// `metadata.resourceVersion` of the object.
    #[getter]
    fn resource_version(&self) -> &str {
        &self.resource_version
    }

    fn __repr__(&self) -> String {
        format!(
            "<incluster.WatchEvent {} rv={}>",
            self.kind, self.resource_version
        )
    }
}

impl WatchEvent {
    /// The event's type and the object's JSON bytes, as the core's wait takes them.
    pub(crate) fn core_parts(
        &self,
    ) -> crate::core::error::Result<(EventType, std::borrow::Cow<'_, [u8]>)> {
        let raw = match &self.raw {
            Raw::Object(b) => std::borrow::Cow::Borrowed(b.as_slice()),
            Raw::Line(line) => match parse(line) {
                Ok(Parsed::Event(_, raw, _)) => std::borrow::Cow::Borrowed(raw),
                _ => return Err(decode_err("the line cannot be read again")),
            },
        };
        Ok((self.event_type, raw))
    }

    fn from_core(e: PyEvent) -> Self {
        let (object, raw) = e.object;
        WatchEvent {
            kind: e.kind.as_str(),
            event_type: e.kind,
            object,
            raw,
            resource_version: e.resource_version,
        }
    }
}

/// A running watch: iterate it, or use it as a context manager. `cancel()`, `close()` and
/// `resource_version` work from any thread; iterating the same watch from two threads at once
/// raises `RuntimeError` at once (as a generator that is already executing does). A watch owns
/// what it needs: it keeps running after its client is closed, as in C.
#[pyclass(frozen, module = "incluster._native")]
pub struct Watch {
    /// Only ever `try_lock`ed while attached to the interpreter, so a thread holding the GIL
    /// never waits for a thread that is waiting for the GIL.
    inner: Mutex<Option<CoreWatch>>,
    cancel: CancelHandle,
    /// The collection watched, for `repr`.
    path: String,
    /// The resourceVersion as of the last event handed out, for readers on other threads
    /// while one iterates. Held only to copy a string.
    rv: Mutex<Option<String>>,
}

/// The error for a second thread (or a re-entrant call) using a stream that is in use.
pub(crate) fn busy(what: &str) -> PyErr {
    PyRuntimeError::new_err(format!(
        "this {what} is already being read by another thread (or a callback of its own): \
         read a stream from one thread at a time; cancel() and close() work from any thread"
    ))
}

impl Watch {
    /// The next event, or `None` at the end (ended, cancelled, closed). Buffered lines are
    /// decoded while attached; only the wait for more bytes (`CoreWatch::wait`) runs detached.
    fn next_event(&self, py: Python<'_>) -> PyResult<Option<PyEvent>> {
        let mut guard = match self.inner.try_lock() {
            Ok(g) => g,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return Err(busy("Watch")),
        };
        loop {
            let Some(w) = guard.as_mut() else {
                return Ok(None);
            };
            let step = match w.poll_next(&mut PyDecoder(py)) {
                Ok(Next::Item(e)) => {
                    self.snapshot_rv(w.resource_version());
                    return Ok(Some(e));
                }
                Ok(Next::End) => Ok(false),
                Ok(Next::NeedsIo) => run(py, || match w.wait() {
                    Ok(()) => Ok(true),
                    Err(Error::Cancelled) if w.cancel_handle().is_cancelled() => Ok(false),
                    Err(e) => Err(e),
                }),
                Err(Error::Cancelled) if self.cancel.is_cancelled() => Ok(false),
                Err(e) => Err(to_py(py, &e)),
            };
            match step {
                Ok(true) => {}
                Ok(false) => {
                    // Over: drop the connection now rather than when the object goes.
                    *guard = None;
                    return Ok(None);
                }
                Err(e) => {
                    *guard = None;
                    return Err(e);
                }
            }
        }
    }

    /// Copy the resourceVersion into the snapshot other threads read, reusing its buffer (this
    /// runs once per event, so it does not allocate once the buffer is large enough).
    fn snapshot_rv(&self, rv: Option<&str>) {
        let mut snap = self.rv.lock().unwrap_or_else(|p| p.into_inner());
        match (rv, snap.as_mut()) {
            (Some(rv), Some(buf)) => {
                buf.clear();
                buf.push_str(rv);
            }
            (rv, _) => *snap = rv.map(str::to_owned),
        }
    }

    /// Call `callback(event)` for each event until it returns False, raises (the exception
    /// propagates unchanged), or the watch ends.
    pub fn run_callback(&self, py: Python<'_>, callback: &Bound<'_, PyAny>) -> PyResult<()> {
        let next = || {
            self.next_event(py)?
                .map(|e| Py::new(py, WatchEvent::from_core(e)))
                .transpose()
        };
        feed(py, callback, next, || self.close())
    }
}

/// What `Watch._poll_async` found (incluster.aio's loop over a watch).
mod step {
    /// An event: the value is the WatchEvent.
    pub const EVENT: u8 = 0;
    /// The watch is over.
    pub const END: u8 = 1;
    /// Wait until the socket is ready: the value is `(fd, writable, idle_seconds)`.
    pub const SOCKET: u8 = 2;
    /// Other I/O (a resume, a relist): wait `_resume_delay()` seconds, then `_wait_io()` on
    /// the worker pool.
    pub const IO: u8 = 3;
}

#[pymethods]
impl Watch {
    /// incluster.aio: the next step without waiting (see `step`), read on the event loop's
    /// thread: buffered events are decoded, and the socket is read only if it has bytes.
    fn _poll_async(&self, py: Python<'_>) -> PyResult<(u8, Py<PyAny>)> {
        let mut guard = match self.inner.try_lock() {
            Ok(g) => g,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return Err(busy("Watch")),
        };
        let none = || (step::END, py.None());
        loop {
            let Some(w) = guard.as_mut() else {
                return Ok(none());
            };
            let r = match w.poll_next(&mut PyDecoder(py)) {
                Ok(Next::Item(e)) => {
                    self.snapshot_rv(w.resource_version());
                    let e = Py::new(py, WatchEvent::from_core(e))?;
                    return Ok((step::EVENT, e.into_any()));
                }
                Ok(Next::End) => Ok(()),
                Ok(Next::NeedsIo) if w.wants_read() => match w.read_ready() {
                    Ok(None) => continue,
                    Ok(Some(r)) => {
                        let idle = w.idle_timeout().as_secs_f64();
                        let v = (r.fd, r.writable, idle).into_pyobject(py)?;
                        return Ok((step::SOCKET, v.into_any().unbind()));
                    }
                    Err(e) => Err(e),
                },
                Ok(Next::NeedsIo) => return Ok((step::IO, py.None())),
                Err(e) => Err(e),
            };
            *guard = None;
            return match r {
                Err(Error::Cancelled) if self.cancel.is_cancelled() => Ok(none()),
                Err(e) => Err(to_py(py, &e)),
                Ok(_) => Ok(none()),
            };
        }
    }

    /// incluster.aio: the delay (seconds) to wait on the event loop before `_wait_io`, or None.
    fn _resume_delay(&self) -> Option<f64> {
        let mut guard = self.inner.try_lock().ok()?;
        guard
            .as_mut()
            .and_then(|w| w.resume_delay())
            .map(|d| d.as_secs_f64())
    }

    /// incluster.aio: the I/O that is not a read (a resume attempt, a relist), on a worker
    /// thread with the GIL released. A cancelled call (its task was cancelled) leaves the
    /// watch as it was, to be resumed by the next step.
    fn _wait_io(&self, py: Python<'_>) -> PyResult<()> {
        let mut guard = match self.inner.try_lock() {
            Ok(g) => g,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return Err(busy("Watch")),
        };
        let Some(w) = guard.as_mut() else {
            return Ok(());
        };
        let cancel = &self.cancel;
        let r = run(py, || match w.wait_once() {
            Err(Error::Cancelled) if !cancel.is_cancelled() => Ok(true),
            Err(Error::Cancelled) => Ok(false),
            Err(e) => Err(e),
            Ok(()) => Ok(true),
        });
        match r {
            Ok(true) => Ok(()),
            Ok(false) => {
                *guard = None;
                Ok(())
            }
            Err(e) => {
                *guard = None;
                Err(e)
            }
        }
    }

    /// incluster.aio: the socket stayed silent for the idle timeout.
    fn _idle_expired(&self, py: Python<'_>) -> PyResult<()> {
        let mut guard = match self.inner.try_lock() {
            Ok(g) => g,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return Err(busy("Watch")),
        };
        let Some(w) = guard.as_mut() else {
            return Ok(());
        };
        let r = w.idle_expired();
        r.map_err(|e| {
            *guard = None;
            to_py(py, &e)
        })
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<WatchEvent> {
        match self.next_event(py)? {
            Some(e) => Ok(WatchEvent::from_core(e)),
            None => Err(PyStopIteration::new_err(())),
        }
    }

    /// Stop the watch; callable from any thread. A blocked iteration ends (StopIteration,
    /// not an exception) within about 100 ms.
    fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Stop the watch and close its connection; callable from any thread (a thread blocked
    /// iterating it ends as after `cancel()`, and drops the connection itself).
    fn close(&self) {
        self.cancel.cancel();
        if let Ok(mut g) = self.inner.try_lock() {
            *g = None;
        }
    }

    /// The resourceVersion the watch would resume from, if any (as of the last event handed
    /// out, when another thread is iterating it).
    #[getter]
    fn resource_version(&self) -> Option<String> {
        match self.inner.try_lock() {
            Ok(g) => g
                .as_ref()
                .and_then(|w| w.resource_version().map(str::to_owned))
                .or_else(|| self.rv.lock().unwrap_or_else(|p| p.into_inner()).clone()),
            Err(_) => self.rv.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        }
    }

    fn __repr__(&self) -> String {
        let state = if self.cancel.is_cancelled() {
            "cancelled"
        } else {
            match self.inner.try_lock() {
                Ok(g) if g.is_none() => "ended",
                _ => "open",
            }
        };
        match self.resource_version() {
            Some(rv) => format!("<incluster.Watch {} {state} rv={rv}>", self.path),
            None => format!("<incluster.Watch {} {state}>", self.path),
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close();
        false
    }
}

/// Open a watch (the first request is made now; errors raise here).
pub(crate) fn open(
    py: Python<'_>,
    client: &crate::core::client::Client,
    path: &str,
    opts: WatchOptions,
) -> PyResult<Watch> {
    let w = run(py, || CoreWatch::new(client, path, opts))?;
    Ok(from_core(w, path))
}

/// The Python watch over a core watch already started (the watch of a wait's list).
pub(crate) fn from_core(w: CoreWatch, path: &str) -> Watch {
    Watch {
        cancel: w.cancel_handle(),
        path: path.to_owned(),
        rv: Mutex::new(w.resource_version().map(str::to_owned)),
        inner: Mutex::new(Some(w)),
    }
}

//! `Client.watch(...)`: an iterator of `WatchEvent`s (also a context manager), or a callback.

use std::sync::Mutex;
use std::time::Duration;

use pyo3::exceptions::{PyStopIteration, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::core::cancel::CancelHandle;
use crate::core::error::Error;
use crate::core::watch::event::{
    Decoded, Decoder, Key, Parsed, RawDecoder, Tracked, event_type, parse,
};
use crate::core::watch::{Event, OnGone, Watch as CoreWatch, WatchOptions};
use crate::py::blocking::run;
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
    object: Py<PyAny>,
    raw: Raw,
    resource_version: String,
}

/// Decodes each event line once, straight into Python objects, and reads the metadata the
/// watch tracks from the dict it built.
struct PyDecoder;

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

impl Decoder for PyDecoder {
    type Object = (Py<PyAny>, Raw);

    fn decode_line(&mut self, line: &[u8]) -> crate::core::error::Result<Decoded<Self::Object>> {
        use serde::Deserializer as _;
        Python::attach(|py| {
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
        })
    }

    fn decode_object(&mut self, json: Vec<u8>) -> crate::core::error::Result<Self::Object> {
        Python::attach(|py| {
            let o = loads(py, &json).map_err(decode_err)?;
            Ok((o.unbind(), Raw::Object(json)))
        })
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
    fn from_core(e: PyEvent) -> Self {
        let (object, raw) = e.object;
        WatchEvent {
            kind: e.kind.as_str(),
            object,
            raw,
            resource_version: e.resource_version,
        }
    }
}

/// A running watch: iterate it, or use it as a context manager. Safe to `cancel()` from any
/// thread; iterate it from one thread at a time.
#[pyclass(frozen, module = "incluster._native")]
pub struct Watch {
    inner: Mutex<Option<CoreWatch>>,
    cancel: CancelHandle,
}

impl Watch {
    /// Wait for the next event (GIL released). `None` at the end (ended, cancelled, closed).
    fn next_event(&self, py: Python<'_>) -> PyResult<Option<PyEvent>> {
        let inner = &self.inner;
        // Fast path: when the next event is already buffered no I/O happens, so the GIL need
        // not be released (a watch delivers events in bursts; this saves two GIL round trips
        // per event).
        if let Ok(mut guard) = inner.try_lock()
            && let Some(w) = guard.as_mut()
            && w.ready()
        {
            return w.next_with(&mut PyDecoder).map_err(|e| to_py(py, &e));
        }
        let r = run(py, || {
            let mut guard = inner.lock().unwrap_or_else(|p| p.into_inner());
            match guard.as_mut() {
                None => Ok(None),
                Some(w) => match w.next_with(&mut PyDecoder) {
                    Err(Error::Cancelled) if w.cancel_handle().is_cancelled() => {
                        *guard = None;
                        Ok(None)
                    }
                    r => r,
                },
            }
        });
        if r.is_err() {
            // A failed watch is over: drop its connection.
            *self.inner.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
        r
    }

    /// Call `callback(event)` for each event until it returns False, raises (the exception
    /// propagates unchanged), or the watch ends.
    pub fn run_callback(&self, py: Python<'_>, callback: &Bound<'_, PyAny>) -> PyResult<()> {
        let stop = |slf: &Self| {
            slf.cancel.cancel();
            *slf.inner.lock().unwrap_or_else(|p| p.into_inner()) = None;
        };
        while let Some(ev) = self.next_event(py)? {
            let ev = Py::new(py, WatchEvent::from_core(ev))?;
            match callback.call1((ev,)) {
                Ok(r) if r.is(pyo3::types::PyBool::new(py, false)) => {
                    stop(self);
                    return Ok(());
                }
                Ok(_) => {}
                Err(e) => {
                    stop(self);
                    return Err(e);
                }
            }
        }
        Ok(())
    }
}

#[pymethods]
impl Watch {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<WatchEvent> {
        match self.next_event(py)? {
            Some(e) => Ok(WatchEvent::from_core(e)),
            None => Err(PyStopIteration::new_err(())),
        }
    }

    /// Stop the watch; callable from any thread. A blocked iteration ends (StopIteration)
    /// within about 100 ms.
    fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Stop the watch and close its connection.
    fn close(&self) {
        self.cancel.cancel();
        if let Ok(mut g) = self.inner.try_lock() {
            *g = None;
        }
    }

    /// The resourceVersion the watch would resume from, if any.
    #[getter]
    fn resource_version(&self) -> Option<String> {
        self.inner.try_lock().ok().and_then(|g| {
            g.as_ref()
                .and_then(|w| w.resource_version().map(str::to_owned))
        })
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

/// The keyword arguments of `Client.watch`, gathered.
pub(crate) struct WatchArgs<'a> {
    pub(crate) label_selector: Option<String>,
    pub(crate) field_selector: Option<String>,
    pub(crate) resource_version: Option<String>,
    pub(crate) resource_version_match: Option<String>,
    pub(crate) timeout_seconds: Option<u32>,
    pub(crate) allow_bookmarks: bool,
    pub(crate) bookmarks: bool,
    pub(crate) send_initial_events: bool,
    pub(crate) params: Vec<(String, String)>,
    pub(crate) max_event_bytes: Option<usize>,
    pub(crate) resume: bool,
    pub(crate) on_gone: &'a str,
    pub(crate) idle_timeout: Option<f64>,
    pub(crate) backoff: Option<(f64, f64)>,
}

impl WatchArgs<'_> {
    fn options(self) -> PyResult<WatchOptions> {
        let secs = |v: f64, name: &str| {
            if v.is_finite() && v >= 0.0 {
                Ok(Duration::from_secs_f64(v))
            } else {
                Err(PyValueError::new_err(format!(
                    "{name} must be seconds >= 0"
                )))
            }
        };
        let mut o = WatchOptions {
            label_selector: self.label_selector,
            field_selector: self.field_selector,
            resource_version: self.resource_version,
            resource_version_match: self.resource_version_match,
            timeout_seconds: self.timeout_seconds,
            allow_bookmarks: self.allow_bookmarks,
            deliver_bookmarks: self.bookmarks,
            send_initial_events: self.send_initial_events,
            extra_params: self.params,
            resume: self.resume,
            on_gone: match self.on_gone {
                "relist" => OnGone::Relist,
                "error" => OnGone::Error,
                other => {
                    return Err(PyValueError::new_err(format!(
                        "on_gone={other:?}: expected \"relist\" or \"error\""
                    )));
                }
            },
            ..WatchOptions::default()
        };
        if let Some(m) = self.max_event_bytes {
            o.max_event_bytes = m;
        }
        if let Some(t) = self.idle_timeout {
            o.idle_timeout = Some(secs(t, "idle_timeout")?);
        }
        if let Some((a, b)) = self.backoff {
            o.backoff_initial = secs(a, "backoff")?;
            o.backoff_max = secs(b, "backoff")?;
        }
        Ok(o)
    }
}

/// Open a watch (the first request is made now; errors raise here).
pub(crate) fn open(
    py: Python<'_>,
    client: &crate::core::client::Client,
    path: &str,
    args: WatchArgs<'_>,
) -> PyResult<Watch> {
    let opts = args.options()?;
    let w = run(py, || CoreWatch::new(client, path, opts))?;
    Ok(Watch {
        cancel: w.cancel_handle(),
        inner: Mutex::new(Some(w)),
    })
}

//! `Client.logs(...)`: an iterator of lines (str, or bytes), also a context manager, or a
//! callback.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use pyo3::exceptions::{PyStopIteration, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::core::cancel::CancelHandle;
use crate::core::error::Error;
use crate::core::logs::{LogOptions, LogStream};
use crate::py::blocking::run;
use crate::py::text::lossy;

/// Lines handed over per GIL round trip, at most.
const BATCH: usize = 4096;

/// A running log read: iterate it (lines as `str`, or `bytes`), or use it as a context
/// manager. `cancel()` from any thread; iterate from one thread at a time.
#[pyclass(frozen, module = "incluster._native")]
pub struct Logs {
    inner: Mutex<Option<LogStream>>,
    cancel: CancelHandle,
    as_bytes: bool,
    /// Lines already turned into Python objects, waiting for `__next__`.
    ready: Mutex<VecDeque<Py<PyAny>>>,
}

/// The batches of a `Logs`: each `__next__` is a list of the lines that arrived together.
/// `Logs.__iter__` chains them with `itertools.chain.from_iterable`, so iterating lines costs
/// C-level iteration per line rather than a call into the extension per line.
#[pyclass(frozen, module = "incluster._native")]
pub struct LogBatches {
    logs: Py<Logs>,
}

#[pymethods]
impl LogBatches {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyList>> {
        let logs = self.logs.get();
        // Lines a plain `next()` buffered come first.
        let early: Vec<Py<PyAny>> = logs
            .ready
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .collect();
        if !early.is_empty() {
            return pyo3::types::PyList::new(py, early);
        }
        match logs.batch(py)? {
            Some(lines) => Ok(lines),
            None => Err(PyStopIteration::new_err(())),
        }
    }
}

impl Logs {
    /// A line as this read's Python type.
    fn object<'py>(&self, py: Python<'py>, line: &[u8]) -> PyResult<Bound<'py, PyAny>> {
        if self.as_bytes {
            Ok(PyBytes::new(py, line).into_any())
        } else {
            lossy(py, line)
        }
    }

    /// Up to `max` lines that are already buffered, made into Python objects straight from the
    /// read buffer (no I/O, so the GIL stays held).
    fn take_buffered<'py>(
        &self,
        py: Python<'py>,
        max: usize,
        objects: &mut Vec<Bound<'py, PyAny>>,
    ) -> PyResult<()> {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let Some(s) = g.as_mut() else { return Ok(()) };
        let mut failed = None;
        let r = s.buffered_lines(max, &mut |l| {
            if failed.is_none() {
                match self.object(py, l) {
                    Ok(o) => objects.push(o),
                    Err(e) => failed = Some(e),
                }
            }
        });
        match (r, failed) {
            (_, Some(e)) => Err(e),
            (Ok(_), None) => Ok(()),
            (Err(Error::Cancelled), None) if self.cancel.is_cancelled() => {
                *g = None;
                Ok(())
            }
            (Err(e), None) => {
                *g = None;
                Err(crate::py::errors::to_py(py, &e))
            }
        }
    }

    /// The next batch of lines as a list; `None` at the end. Lines already buffered are made
    /// into objects at once; otherwise the GIL is released while waiting for the next line,
    /// and the lines that arrived with it follow it into the batch.
    fn batch<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, pyo3::types::PyList>>> {
        let mut objects = Vec::new();
        self.take_buffered(py, BATCH, &mut objects)?;
        if objects.is_empty() {
            let inner = &self.inner;
            let first = run(py, || {
                let mut g = inner.lock().unwrap_or_else(|p| p.into_inner());
                match g.as_mut() {
                    None => Ok(None),
                    Some(s) => match s.next_line() {
                        Err(Error::Cancelled) if s.cancel_handle().is_cancelled() => {
                            *g = None;
                            Ok(None)
                        }
                        r => r,
                    },
                }
            });
            let first = match first {
                Ok(Some(l)) => l,
                Ok(None) => return Ok(None),
                Err(e) => {
                    *self.inner.lock().unwrap_or_else(|p| p.into_inner()) = None;
                    return Err(e);
                }
            };
            objects.push(self.object(py, &first)?);
            self.take_buffered(py, BATCH - 1, &mut objects)?;
        }
        Ok(Some(pyo3::types::PyList::new(py, objects)?))
    }

    /// Refill `ready` with the next batch (GIL released while waiting). False at the end.
    fn refill(&self, py: Python<'_>) -> PyResult<bool> {
        let Some(list) = self.batch(py)? else {
            return Ok(false);
        };
        let mut ready = self.ready.lock().unwrap_or_else(|p| p.into_inner());
        for item in list.iter() {
            ready.push_back(item.unbind());
        }
        Ok(true)
    }

    fn next_line(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        loop {
            if let Some(l) = self
                .ready
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pop_front()
            {
                return Ok(Some(l));
            }
            if !self.refill(py)? {
                return Ok(None);
            }
        }
    }

    /// Call `callback(line)` for each line until it returns False or raises.
    pub fn run_callback(&self, py: Python<'_>, callback: &Bound<'_, PyAny>) -> PyResult<()> {
        let stop = || {
            self.cancel.cancel();
            *self.inner.lock().unwrap_or_else(|p| p.into_inner()) = None;
        };
        while let Some(line) = self.next_line(py)? {
            match callback.call1((line,)) {
                Ok(r) if r.is(pyo3::types::PyBool::new(py, false)) => {
                    stop();
                    return Ok(());
                }
                Ok(_) => {}
                Err(e) => {
                    stop();
                    return Err(e);
                }
            }
        }
        Ok(())
    }
}

#[pymethods]
impl Logs {
    fn __iter__(slf: Py<Self>, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let batches = Py::new(py, LogBatches { logs: slf })?;
        let chain = py
            .import("itertools")?
            .getattr("chain")?
            .getattr("from_iterable")?;
        Ok(chain.call1((batches,))?.unbind())
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.next_line(py)?
            .ok_or_else(|| PyStopIteration::new_err(()))
    }

    /// Stop from any thread; a blocked iteration ends within about 100 ms.
    fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Stop and close the connection.
    fn close(&self) {
        self.cancel.cancel();
        if let Ok(mut g) = self.inner.try_lock() {
            *g = None;
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

/// The keyword arguments of `Client.logs`.
pub(crate) struct LogArgs {
    pub(crate) container: Option<String>,
    pub(crate) follow: bool,
    pub(crate) previous: bool,
    pub(crate) since_seconds: Option<u64>,
    pub(crate) since_time: Option<String>,
    pub(crate) timestamps: bool,
    pub(crate) tail_lines: Option<u64>,
    pub(crate) limit_bytes: Option<u64>,
    pub(crate) insecure_skip_tls_verify_backend: bool,
    pub(crate) resume: Option<bool>,
    pub(crate) max_line_bytes: Option<usize>,
    pub(crate) idle_check: Option<f64>,
    pub(crate) backoff: Option<(f64, f64)>,
}

fn secs(v: f64, name: &str) -> PyResult<Duration> {
    if v.is_finite() && v >= 0.0 {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(PyValueError::new_err(format!(
            "{name} must be seconds >= 0"
        )))
    }
}

/// Open a log read (the first request is made now; errors raise here).
pub(crate) fn open(
    py: Python<'_>,
    client: &crate::core::client::Client,
    namespace: &str,
    pod: &str,
    a: LogArgs,
    as_bytes: bool,
) -> PyResult<Logs> {
    let mut o = LogOptions {
        container: a.container,
        follow: a.follow,
        previous: a.previous,
        since_seconds: a.since_seconds,
        since_time: a.since_time,
        timestamps: a.timestamps,
        tail_lines: a.tail_lines,
        limit_bytes: a.limit_bytes,
        insecure_skip_tls_verify_backend: a.insecure_skip_tls_verify_backend,
        // Resuming is what a follower wants; on by default with follow.
        resume: a.resume.unwrap_or(a.follow),
        ..LogOptions::default()
    };
    if let Some(m) = a.max_line_bytes {
        o.max_line_bytes = m.max(1);
    }
    if let Some(t) = a.idle_check {
        o.idle_check = secs(t, "idle_check")?;
    }
    if let Some((x, y)) = a.backoff {
        o.backoff_initial = secs(x, "backoff")?;
        o.backoff_max = secs(y, "backoff")?;
    }
    let s = run(py, || LogStream::open(client, namespace, pod, o))?;
    Ok(Logs {
        cancel: s.cancel_handle(),
        inner: Mutex::new(Some(s)),
        as_bytes,
        ready: Mutex::new(VecDeque::new()),
    })
}

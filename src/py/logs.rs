//! `Client.logs(...)`: an iterator of lines (str, or bytes), also a context manager, or a
//! callback.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, TryLockError};

use pyo3::exceptions::PyStopIteration;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::core::cancel::CancelHandle;
use crate::core::error::Error;
use crate::core::logs::stream::Ready;
use crate::core::logs::{LogOptions, LogStream};
use crate::py::blocking::{feed, run};
use crate::py::text::lossy;
use crate::py::watch::busy;

/// Lines handed over per GIL round trip, at most.
const BATCH: usize = 4096;

/// A running log read: iterate it (lines as `str`, or `bytes`), or use it as a context
/// manager. `cancel()` and `close()` from any thread; reading the same `Logs` from two threads
/// at once raises `RuntimeError` at once. It owns what it needs: it keeps running after its
/// client is closed, as in C.
#[pyclass(frozen, module = "incluster._native")]
pub struct Logs {
    /// Only ever `try_lock`ed while attached to the interpreter, so a thread holding the GIL
    /// never waits for a thread that is waiting for the GIL.
    state: Mutex<State>,
    cancel: CancelHandle,
    as_bytes: bool,
    /// `namespace/pod[/container]`, for `repr`.
    what: String,
}

struct State {
    stream: Option<LogStream>,
    /// Lines already turned into Python objects, waiting for `__next__`.
    ready: VecDeque<Py<PyAny>>,
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
        let mut state = logs.lock()?;
        // Lines a plain `next()` buffered come first.
        if !state.ready.is_empty() {
            let early: Vec<Py<PyAny>> = state.ready.drain(..).collect();
            return pyo3::types::PyList::new(py, early);
        }
        match logs.batch(py, &mut state)? {
            Some(lines) => Ok(lines),
            None => Err(PyStopIteration::new_err(())),
        }
    }
}

impl Logs {
    /// The state, or `RuntimeError` at once if another thread (or a callback of this one) is
    /// reading the stream.
    fn lock(&self) -> PyResult<MutexGuard<'_, State>> {
        match self.state.try_lock() {
            Ok(g) => Ok(g),
            Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
            Err(TryLockError::WouldBlock) => Err(busy("Logs")),
        }
    }

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
        stream: &mut Option<LogStream>,
        max: usize,
        objects: &mut Vec<Bound<'py, PyAny>>,
    ) -> PyResult<()> {
        let Some(s) = stream.as_mut() else {
            return Ok(());
        };
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
                *stream = None;
                Ok(())
            }
            (Err(e), None) => {
                *stream = None;
                Err(crate::py::errors::to_py(py, &e))
            }
        }
    }

    /// The next batch of lines as a list; `None` at the end. Lines already buffered are made
    /// into objects at once; otherwise the GIL is released while waiting for the next line,
    /// and the lines that arrived with it follow it into the batch.
    fn batch<'py>(
        &self,
        py: Python<'py>,
        state: &mut State,
    ) -> PyResult<Option<Bound<'py, pyo3::types::PyList>>> {
        let mut objects = Vec::new();
        self.take_buffered(py, &mut state.stream, BATCH, &mut objects)?;
        if objects.is_empty() {
            let Some(s) = state.stream.as_mut() else {
                return Ok(None);
            };
            let first = run(py, || match s.next_line() {
                Err(Error::Cancelled) if s.cancel_handle().is_cancelled() => Ok(None),
                r => r,
            });
            let first = match first {
                Ok(Some(l)) => l,
                Ok(None) => {
                    state.stream = None;
                    return Ok(None);
                }
                Err(e) => {
                    state.stream = None;
                    return Err(e);
                }
            };
            objects.push(self.object(py, &first)?);
            self.take_buffered(py, &mut state.stream, BATCH - 1, &mut objects)?;
        }
        Ok(Some(pyo3::types::PyList::new(py, objects)?))
    }

    fn next_line(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let mut state = self.lock()?;
        loop {
            if let Some(l) = state.ready.pop_front() {
                return Ok(Some(l));
            }
            let Some(list) = self.batch(py, &mut state)? else {
                return Ok(None);
            };
            state.ready.extend(list.iter().map(Bound::unbind));
        }
    }

    /// Call `callback(line)` for each line until it returns False or raises.
    pub fn run_callback(&self, py: Python<'_>, callback: &Bound<'_, PyAny>) -> PyResult<()> {
        feed(py, callback, || self.next_line(py), || self.close())
    }
}

/// What `Logs._poll_async` found (incluster.aio's loop over a log read).
mod step {
    /// Lines: the value is a list of them.
    pub const LINES: u8 = 0;
    /// The log is over.
    pub const END: u8 = 1;
    /// Wait until the socket is ready: the value is `(fd, writable, idle_seconds or None)`.
    pub const SOCKET: u8 = 2;
    /// The stream ended or broke: `_wait_io()` on the worker pool resumes or ends it.
    pub const IO: u8 = 3;
}

#[pymethods]
impl Logs {
    /// incluster.aio: the next step without waiting (see `step`), run on the event loop's
    /// thread: buffered lines become objects, and the socket is read only if it has bytes.
    fn _poll_async<'py>(&self, py: Python<'py>) -> PyResult<(u8, Bound<'py, PyAny>)> {
        let mut state = self.lock()?;
        if !state.ready.is_empty() {
            let early: Vec<Py<PyAny>> = state.ready.drain(..).collect();
            return Ok((step::LINES, pyo3::types::PyList::new(py, early)?.into_any()));
        }
        let mut objects = Vec::new();
        loop {
            self.take_buffered(py, &mut state.stream, BATCH, &mut objects)?;
            if !objects.is_empty() {
                return Ok((
                    step::LINES,
                    pyo3::types::PyList::new(py, objects)?.into_any(),
                ));
            }
            let Some(s) = state.stream.as_mut() else {
                return Ok((step::END, py.None().into_bound(py)));
            };
            let mut failed = None;
            let r = s.read_ready(&mut |l| match self.object(py, l) {
                Ok(o) => objects.push(o),
                Err(e) => failed = Some(e),
            });
            if let Some(e) = failed {
                return Err(e);
            }
            match r {
                Ok(Ready::Line) => {}
                Ok(Ready::End) => {
                    state.stream = None;
                    return Ok((step::END, py.None().into_bound(py)));
                }
                Ok(Ready::Socket(r)) => {
                    let idle = s.idle_timeout().map(|d| d.as_secs_f64());
                    let v = (r.fd, r.writable, idle).into_pyobject(py)?;
                    return Ok((step::SOCKET, v.into_any()));
                }
                Ok(Ready::NeedsIo) => return Ok((step::IO, py.None().into_bound(py))),
                Err(Error::Cancelled) if self.cancel.is_cancelled() => {
                    state.stream = None;
                    return Ok((step::END, py.None().into_bound(py)));
                }
                Err(e) => {
                    state.stream = None;
                    return Err(crate::py::errors::to_py(py, &e));
                }
            }
        }
    }

    /// incluster.aio: the backoff (seconds) to wait on the event loop before `_wait_io`, or
    /// None. From the first call on, a resume stops where it would sleep instead of holding
    /// its worker (`_wait_io` returns, and the next `_poll_async` asks for I/O again).
    fn _resume_delay(&self) -> PyResult<Option<f64>> {
        Ok(self
            .lock()?
            .stream
            .as_mut()
            .and_then(|s| s.resume_delay())
            .map(|d| d.as_secs_f64()))
    }

    /// incluster.aio: resume the lost stream (or end the log), on a worker thread with the GIL
    /// released. A cancelled call (its task was cancelled) leaves the resume for next time.
    fn _wait_io(&self, py: Python<'_>) -> PyResult<()> {
        let mut state = self.lock()?;
        let Some(s) = state.stream.as_mut() else {
            return Ok(());
        };
        let cancel = &self.cancel;
        let mut last: Option<Vec<u8>> = None;
        let r = run(py, || match s.wait_once(&mut |l| last = Some(l.to_vec())) {
            Err(Error::Cancelled) if !cancel.is_cancelled() => Ok(true),
            Err(Error::Cancelled) => Ok(false),
            Err(e) => Err(e),
            Ok(_) => Ok(true),
        });
        if let Some(l) = last {
            let o = self.object(py, &l)?.unbind();
            state.ready.push_back(o);
        }
        match r {
            Ok(true) => Ok(()),
            Ok(false) => {
                state.stream = None;
                Ok(())
            }
            Err(e) => {
                state.stream = None;
                Err(e)
            }
        }
    }

    /// incluster.aio: the socket stayed silent for the idle check.
    fn _idle_expired(&self) -> PyResult<()> {
        if let Some(s) = self.lock()?.stream.as_mut() {
            s.idle_expired();
        }
        Ok(())
    }

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

    /// Stop from any thread; a blocked iteration ends (StopIteration, not an exception) within
    /// about 100 ms.
    fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Stop and close the connection; callable from any thread (a thread blocked reading it
    /// ends as after `cancel()`, and drops the connection itself).
    fn close(&self) {
        self.cancel.cancel();
        if let Ok(mut g) = self.state.try_lock() {
            g.stream = None;
            g.ready.clear();
        }
    }

    fn __repr__(&self) -> String {
        let state = if self.cancel.is_cancelled() {
            "cancelled"
        } else {
            match self.state.try_lock() {
                Ok(g) if g.stream.is_none() && g.ready.is_empty() => "ended",
                _ => "open",
            }
        };
        format!("<incluster.Logs {} {state}>", self.what)
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

/// Open a log read (the first request is made now; errors raise here).
pub(crate) fn open(
    py: Python<'_>,
    client: &crate::core::client::Client,
    namespace: &str,
    pod: &str,
    opts: LogOptions,
    as_bytes: bool,
) -> PyResult<Logs> {
    let what = match &opts.container {
        Some(c) => format!("{namespace}/{pod}/{c}"),
        None => format!("{namespace}/{pod}"),
    };
    let s = run(py, || LogStream::open(client, namespace, pod, opts))?;
    Ok(Logs {
        cancel: s.cancel_handle(),
        state: Mutex::new(State {
            stream: Some(s),
            ready: VecDeque::new(),
        }),
        as_bytes,
        what,
    })
}

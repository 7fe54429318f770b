//! `Client.wait`: the core's wait, with the GIL released and Ctrl-C honoured.

use std::sync::{Mutex, PoisonError};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};

use crate::core::cancel::CancelHandle;
use crate::core::client::Client as CoreClient;
use crate::core::error::Error;
use crate::core::seconds::seconds;
use crate::core::wait::{Met, Target, WaitOptions, Waiting, target, wait as core_wait};
use crate::core::watch::{Listing, Watch};
use crate::py::blocking::run;
use crate::py::convert::loads;
use crate::py::errors::to_py;

/// Conditions given as one string or a sequence of strings.
fn conditions(what: &str, v: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<String>> {
    match v.filter(|v| !v.is_none()) {
        None => Ok(Vec::new()),
        Some(v) if v.is_instance_of::<PyString>() => Ok(vec![v.extract()?]),
        Some(v) => v.extract().map_err(|_| {
            PyTypeError::new_err(format!(
                "{what} must be a condition (str) or a sequence of them, not {}",
                v.get_type()
                    .name()
                    .map_or_else(|_| "?".to_owned(), |n| n.to_string())
            ))
        }),
    }
}

/// The checked options and the target of a wait (the target may need discovery: a request).
#[allow(clippy::too_many_arguments)]
fn prepare<'py>(
    py: Python<'py>,
    client: &CoreClient,
    what: &str,
    for_: Option<&Bound<'py, PyAny>>,
    any_: Option<&Bound<'py, PyAny>>,
    fail_on: Option<&Bound<'py, PyAny>>,
    label_selector: Option<&str>,
    namespace: Option<&str>,
    allow_empty: bool,
    timeout: Option<f64>,
) -> PyResult<(Target, WaitOptions)> {
    let all = conditions("for_", for_)?;
    let any = conditions("any_", any_)?;
    let fail = conditions("fail_on", fail_on)?;
    let py_err = |e: Error| to_py(py, &e);
    let mut opts = WaitOptions::parse(&all, &any, &fail).map_err(py_err)?;
    opts.allow_empty = allow_empty;
    if let Some(t) = timeout {
        opts.timeout = Some(seconds("timeout", t).map_err(py_err)?);
    }
    let t = target(client, what, namespace, label_selector).map_err(py_err)?;
    Ok((t, opts))
}

/// What `wait` returns for `met`: the object (a named target), else a list; each object an
/// `(object, conditions)` pair with `with_conditions`.
fn met_to_py<'py>(
    py: Python<'py>,
    met: &Met,
    named: bool,
    with_conditions: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let mut items = Vec::with_capacity(met.objects.len());
    for o in &met.objects {
        let obj = loads(py, &o.object).map_err(|e| {
            to_py(
                py,
                &Error::Decode(format!("the object that met the wait: {e}")),
            )
        })?;
        items.push(if with_conditions {
            let met = PyList::new(py, &o.met)?.into_any();
            PyTuple::new(py, [obj, met])?.into_any()
        } else {
            obj
        });
    }
    if named && items.len() == 1 {
        return Ok(items.remove(0));
    }
    Ok(PyList::new(py, items)?.into_any())
}

/// The body of `Client.wait` (its doc is on the method in `client.rs`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn wait<'py>(
    py: Python<'py>,
    client: &CoreClient,
    what: &str,
    for_: Option<&Bound<'py, PyAny>>,
    any_: Option<&Bound<'py, PyAny>>,
    fail_on: Option<&Bound<'py, PyAny>>,
    label_selector: Option<&str>,
    namespace: Option<&str>,
    allow_empty: bool,
    timeout: Option<f64>,
    with_conditions: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let (t, opts) = prepare(
        py,
        client,
        what,
        for_,
        any_,
        fail_on,
        label_selector,
        namespace,
        allow_empty,
        timeout,
    )?;
    let met = run(py, || core_wait(client, &t, &opts, &CancelHandle::new()))?;
    met_to_py(py, &met, t.name.is_some(), with_conditions)
}

/// `incluster.aio.Client.wait`'s native half: the core's wait machine ([`Waiting`]), stepped
/// by the coroutine. The list and the start of the watch are requests (run on the worker
/// pool); the watch itself is an ordinary `incluster.aio` watch read on the event loop, whose
/// events are fed to `_feed` there. So a waiting wait holds no thread.
#[pyclass(frozen, name = "_AioWait", module = "incluster._native")]
pub struct AioWait {
    client: CoreClient,
    waiting: Mutex<Waiting>,
    listing: Mutex<Option<Listing>>,
    with_conditions: bool,
}

impl AioWait {
    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `(True, result)` for a verdict of met, `(False, None)` while pending.
    fn verdict<'py>(&self, py: Python<'py>, met: Option<Met>) -> PyResult<(bool, Py<PyAny>)> {
        let named = self.lock().target().name.is_some();
        match met {
            Some(m) => Ok((
                true,
                met_to_py(py, &m, named, self.with_conditions)?.unbind(),
            )),
            None => Ok((false, py.None())),
        }
    }
}

#[pymethods]
impl AioWait {
    /// List the target (blocking: on a worker) and judge the list: `(True, result)` when it
    /// meets the conditions; `(False, None)` to go on with `_watch`. A zero timeout raises
    /// WaitTimeout here.
    fn _list(&self, py: Python<'_>) -> PyResult<(bool, Py<PyAny>)> {
        let (path, wopts) = {
            let w = self.lock();
            (w.collection().to_owned(), w.watch_options())
        };
        let listing = run(py, || Watch::list(&self.client, &path, wopts))?;
        let met = {
            let mut w = self.lock();
            let met = w.take_listing(&listing).map_err(|e| to_py(py, &e))?;
            if met.is_none() && w.once() {
                return Err(to_py(py, &w.timed_out()));
            }
            met
        };
        *self.listing.lock().unwrap_or_else(PoisonError::into_inner) = Some(listing);
        self.verdict(py, met)
    }

    /// Start the watch from the list's resourceVersion (blocking: on a worker).
    fn _watch(&self, py: Python<'_>) -> PyResult<crate::py::watch::Watch> {
        let listing = self
            .listing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .ok_or_else(|| to_py(py, &Error::invalid("wait: _watch before _list")))?;
        let path = self.lock().collection().to_owned();
        let w = run(py, || listing.watch(&self.client))?;
        Ok(crate::py::watch::from_core(w, &path))
    }

    /// Take in one event of that watch (on the loop's thread; no I/O): `(True, result)` when
    /// the conditions are met now, `(False, None)` while pending; Unmeetable when they never
    /// can be.
    fn _feed(
        &self,
        py: Python<'_>,
        event: &Bound<'_, crate::py::watch::WatchEvent>,
    ) -> PyResult<(bool, Py<PyAny>)> {
        let err = |e: Error| to_py(py, &e);
        let (kind, raw) = event.get().core_parts().map_err(err)?;
        let met = self.lock().take_event(kind, &raw).map_err(err)?;
        self.verdict(py, met)
    }

    /// The WaitTimeout to raise when the timeout passed.
    fn _timed_out(&self, py: Python<'_>) -> Py<PyAny> {
        to_py(py, &self.lock().timed_out())
            .into_value(py)
            .into_any()
    }

    /// The error to raise when the watch ended before a verdict.
    fn _ended(&self, py: Python<'_>) -> Py<PyAny> {
        to_py(py, &self.lock().watch_ended())
            .into_value(py)
            .into_any()
    }
}

/// The `_AioWait` for `incluster.aio.Client.wait` (arguments checked, target resolved).
#[allow(clippy::too_many_arguments)]
pub(crate) fn aio_wait<'py>(
    py: Python<'py>,
    client: &CoreClient,
    what: &str,
    for_: Option<&Bound<'py, PyAny>>,
    any_: Option<&Bound<'py, PyAny>>,
    fail_on: Option<&Bound<'py, PyAny>>,
    label_selector: Option<&str>,
    namespace: Option<&str>,
    allow_empty: bool,
    timeout: Option<f64>,
    with_conditions: bool,
) -> PyResult<AioWait> {
    let (t, opts) = prepare(
        py,
        client,
        what,
        for_,
        any_,
        fail_on,
        label_selector,
        namespace,
        allow_empty,
        timeout,
    )?;
    let waiting = Waiting::new(t, opts).map_err(|e| to_py(py, &e))?;
    Ok(AioWait {
        client: client.clone(),
        waiting: Mutex::new(waiting),
        listing: Mutex::new(None),
        with_conditions,
    })
}

//! `Client.wait`: the core's wait, with the GIL released and Ctrl-C honoured.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};

use crate::core::cancel::CancelHandle;
use crate::core::client::Client as CoreClient;
use crate::core::error::Error;
use crate::core::seconds::seconds;
use crate::core::wait::{WaitOptions, target, wait as core_wait};
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
    let met = run(py, || core_wait(client, &t, &opts, &CancelHandle::new()))?;
    let mut items = Vec::with_capacity(met.objects.len());
    for o in &met.objects {
        let obj = loads(py, &o.object)
            .map_err(|e| py_err(Error::Decode(format!("the object that met the wait: {e}"))))?;
        items.push(if with_conditions {
            let met = PyList::new(py, &o.met)?.into_any();
            PyTuple::new(py, [obj, met])?.into_any()
        } else {
            obj
        });
    }
    if t.name.is_some() && items.len() == 1 {
        return Ok(items.remove(0));
    }
    Ok(PyList::new(py, items)?.into_any())
}

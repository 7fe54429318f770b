//! The one mapping from core errors to the Python exceptions of `incluster._errors`.
//!
//! The exception classes are plain Python (so they pickle, subclass and type-check like any
//! other); this module only picks the class and fills in its attributes.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use crate::core::error::{Error, ErrorClass};
use crate::py::convert::loads;

/// The exception class name for an error: the core's [`ErrorClass`] named in Python.
/// Classes without a Python class of their own use the nearest base (`ApiError`).
pub fn class_name(e: &Error) -> &'static str {
    use ErrorClass as C;
    match e.class() {
        C::InvalidArgument => "InvalidArgument",
        C::Config => "ConfigError",
        C::Transport => "TransportError",
        C::Timeout => "TimeoutError",
        C::Tls => "TlsError",
        C::Unauthorized => "Unauthorized",
        C::Forbidden => "Forbidden",
        C::NotFound => "NotFound",
        C::AlreadyExists => "AlreadyExists",
        C::Conflict => "Conflict",
        C::Gone => "Gone",
        C::TooManyRequests => "TooManyRequests",
        C::Invalid | C::ServerError | C::OtherStatus => "ApiError",
        C::Decode => "DecodeError",
        C::Cancelled => "Cancelled",
        C::WaitTimeout => "WaitTimeout",
        C::Unmeetable => "Unmeetable",
    }
}

fn build(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let module = py.import("incluster._errors")?;
    let class = module.getattr(class_name(e))?;
    let message = e.to_string();
    let instance = match e.api() {
        Some(api) => {
            // `details` is the Status object's `details` (name, kind, causes,
            // retryAfterSeconds) as a dict, read straight from the body.
            let details = api
                .details
                .as_ref()
                .and_then(|_| loads(py, &api.body).ok())
                .and_then(|status| status.get_item("details").ok())
                .unwrap_or_else(|| py.None().into_bound(py));
            let args = PyTuple::new(
                py,
                [
                    message.into_pyobject(py)?.into_any(),
                    api.status.into_pyobject(py)?.into_any(),
                    api.reason.as_str().into_pyobject(py)?.into_any(),
                    api.message.as_str().into_pyobject(py)?.into_any(),
                    details,
                    PyBytes::new(py, &api.body).into_any(),
                ],
            )?;
            class.call1(args)?
        }
        None => class.call1((message,))?,
    };
    Ok(PyErr::from_value(instance))
}

/// Turn a core error into the matching Python exception.
pub fn to_py(py: Python<'_>, e: &Error) -> PyErr {
    build(py, e).unwrap_or_else(|import_failure| import_failure)
}

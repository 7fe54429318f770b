//! Resources by name from Python: the string in a path's place is a path when it starts with
//! `/`, else a kubectl name the core resolves (`Client::resolve`); `Client.resolve` and
//! `Client.apply` themselves. Only conversion: the rules are the core's.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use serde_json::Value;

use crate::core::apply::{ApplyOptions, parse_manifests};
use crate::core::client::Client as CoreClient;
use crate::core::error::Error;
use crate::py::blocking::run;
use crate::py::convert::{dumps, loads};
use crate::py::errors::to_py;

/// The path `what` stands for. A path with neither keyword is taken as it is without
/// releasing the GIL (the common case costs nothing); anything else goes through the core,
/// which may ask discovery (with the GIL released).
pub(crate) fn target(
    py: Python<'_>,
    client: &CoreClient,
    what: &str,
    namespace: Option<&str>,
    all_namespaces: bool,
) -> PyResult<String> {
    if what.starts_with('/') && namespace.is_none() && !all_namespaces {
        return Ok(what.to_owned());
    }
    run(py, || client.target_path(what, namespace, all_namespaces))
}

/// `Client.resolve`: a dict of the path and the resource's facts.
pub(crate) fn resolve<'py>(
    py: Python<'py>,
    client: &CoreClient,
    what: &str,
    namespace: Option<&str>,
    all_namespaces: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let r = run(py, || client.resolve(what, namespace, all_namespaces))?;
    let d = PyDict::new(py);
    d.set_item("path", &r.path)?;
    d.set_item("name", &r.name)?;
    d.set_item("namespace", &r.namespace)?;
    match &r.resource {
        Some(res) => {
            d.set_item("group", &res.group)?;
            d.set_item("version", &res.version)?;
            d.set_item("resource", &res.plural)?;
            d.set_item("kind", &res.kind)?;
            d.set_item("namespaced", res.namespaced)?;
        }
        None => {
            for k in ["group", "version", "resource", "kind", "namespaced"] {
                d.set_item(k, py.None())?;
            }
        }
    }
    Ok(d)
}

/// The objects of `manifest`: YAML or JSON text (several documents), one object (a dict), or
/// a list of them. Checked by the core before anything is sent.
fn objects(manifest: &Bound<'_, PyAny>) -> PyResult<Result<Vec<Value>, Error>> {
    if let Ok(s) = manifest.cast::<PyString>() {
        return Ok(parse_manifests(&s.to_cow()?));
    }
    if manifest.cast::<PyDict>().is_err() && manifest.cast::<PyList>().is_err() {
        return Err(PyTypeError::new_err(
            "apply() takes a manifest as str (YAML or JSON), a dict or a list of dicts",
        ));
    }
    let json = String::from_utf8(dumps(manifest)?).unwrap_or_default();
    // The core reads JSON as YAML and unfolds lists and `kind: List` alike.
    let wrapped = if manifest.cast::<PyList>().is_ok() {
        format!(r#"{{"apiVersion":"v1","kind":"List","items":{json}}}"#)
    } else {
        json
    };
    Ok(parse_manifests(&wrapped))
}

/// `Client.apply`: the applied objects as the server returned them, in order.
pub(crate) fn apply<'py>(
    py: Python<'py>,
    client: &CoreClient,
    manifest: &Bound<'py, PyAny>,
    field_manager: Option<String>,
    force: bool,
    namespace: Option<String>,
) -> PyResult<Bound<'py, PyList>> {
    let objs = objects(manifest)?.map_err(|e| to_py(py, &e))?;
    let opts = ApplyOptions {
        field_manager,
        force,
        namespace,
    };
    let applied = run(py, || client.apply_all(&objs, &opts, |_| Ok(())))?;
    let out = PyList::empty(py);
    for a in &applied {
        let obj = loads(py, &a.object).map_err(|e| {
            to_py(
                py,
                &Error::Decode(format!("the answer to the apply of {}: {e}", a.describe())),
            )
        })?;
        out.append(obj)?;
    }
    Ok(out)
}

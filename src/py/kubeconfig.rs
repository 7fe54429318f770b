//! `Client.from_kubeconfig`, default discovery and `Client.source`: argument conversion only;
//! `core::kubeconfig` does the work.

use std::path::PathBuf;

use pyo3::exceptions::PyUserWarning;
use pyo3::prelude::*;

use crate::core::client::Client as CoreClient;
use crate::core::config::Config;
use crate::core::info::source_json;
use crate::core::seconds::positive_seconds;
use crate::py::blocking::run;
use crate::py::convert::loads;
use crate::py::errors::to_py;

/// Warn (a `UserWarning`) when the kubeconfig turned certificate checks off: the same text as
/// the CLI's warning.
pub(crate) fn warn_if_insecure(py: Python<'_>, cfg: &Config) -> PyResult<()> {
    if let Some(w) = cfg.kubeconfig_insecure_warning() {
        PyErr::warn(
            py,
            &py.get_type::<PyUserWarning>(),
            &std::ffi::CString::new(w)?,
            1,
        )?;
    }
    Ok(())
}

/// The discovered configuration (in-cluster, else the kubeconfig), read with the GIL released.
pub(crate) fn discover(py: Python<'_>, sa_dir: Option<PathBuf>) -> PyResult<Config> {
    let cfg = run(py, || Config::discover(sa_dir.as_deref()))?;
    warn_if_insecure(py, &cfg)?;
    Ok(cfg)
}

/// The client `Client.from_kubeconfig(path, context)` returns.
pub(crate) fn client_from_kubeconfig(
    py: Python<'_>,
    path: Option<PathBuf>,
    context: Option<String>,
    namespace: Option<String>,
    timeout: Option<f64>,
) -> PyResult<CoreClient> {
    let mut cfg = run(py, || {
        Config::from_kubeconfig(path.as_deref(), context.as_deref())
    })?;
    warn_if_insecure(py, &cfg)?;
    if let Some(ns) = namespace {
        cfg = cfg.with_namespace(&ns);
    }
    if let Some(t) = timeout {
        cfg.request_timeout = Some(positive_seconds("timeout", t).map_err(|e| to_py(py, &e))?);
    }
    CoreClient::new(cfg).map_err(|e| to_py(py, &e))
}

/// `Client.source`: where the settings came from, as a dict.
pub(crate) fn source<'py>(py: Python<'py>, client: &CoreClient) -> PyResult<Bound<'py, PyAny>> {
    let json = source_json(&client.config().source).to_string();
    loads(py, json.as_bytes()).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}

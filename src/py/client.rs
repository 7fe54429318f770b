//! `incluster.Client` and `incluster.Response`.

// Python keyword arguments map one to one onto parameters here.
#![allow(clippy::too_many_arguments)]

use std::path::PathBuf;

use std::ffi::CString;

use pyo3::exceptions::{PyTypeError, PyUserWarning};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

use crate::core::api::access::{Access, AccessQuery, can_i, whoami};
use crate::core::api::patch::Patch;
use crate::core::api::request::{Request, Response as CoreResponse};
use crate::core::client::Client as CoreClient;
use crate::core::config::{Config, RateLimit};
use crate::core::error::Error;
use crate::core::logs::LogOptions;
use crate::core::seconds::{positive_seconds, seconds};
use crate::core::watch::WatchOptions;
use crate::py::aio::{self, AioCall, AioLoop};
use crate::py::blocking::run;
use crate::py::convert::{dumps, loads};
use crate::py::errors::to_py;
use crate::py::logs::{Logs, open as open_logs};
use crate::py::names;
use crate::py::watch::{Watch, open as open_watch};

/// A client for the Kubernetes API server. Thread-safe (share one between threads); a context
/// manager (leaving it is `close()`).
///
/// With no `server`, the in-cluster configuration is discovered: KUBERNETES_SERVICE_HOST and
/// _PORT, and `token`, `ca.crt`, `namespace` in the ServiceAccount directory; outside a pod,
/// the kubeconfig (KUBECONFIG, else ~/.kube/config; see `Client.from_kubeconfig`). The other
/// arguments override it.
///
/// Args:
///     server: API server URL. For an https:// URL in a pod, the pod's ServiceAccount token,
///         CA and namespace are kept unless `token`/`token_file`, `ca_file`/`ca_pem` or
///         `namespace` override them (as kubectl's --server does); with no ServiceAccount
///         token and no token given, ConfigError (never anonymous without a word).
///         http://127.0.0.1:8001 is the anonymous `kubectl proxy` route.
///     token: a fixed bearer token.
///     token_file: a token file, re-read when it changes (and once more after a 401).
///     ca_file: the CA bundle to trust (PEM); the only roots used.
///     ca_pem: the CA bundle as PEM text or bytes.
///     namespace: the default namespace (`Client.namespace`).
///     serviceaccount_dir: where the ServiceAccount files are (default
///         $INCLUSTER_SERVICEACCOUNT_DIR, else /var/run/secrets/kubernetes.io/serviceaccount).
///     connect_timeout: seconds (default 10).
///     timeout: seconds for a whole request (default 60); must be > 0.
///     max_attempts: tries for 429/503/504 answers with Retry-After (default 10; >= 1).
///     rate_limit: `(qps, burst)` client-side token bucket (default none); qps > 0, burst >= 1.
///     danger_insecure_skip_tls_verify: do not check the server's certificate. Debugging only.
///
/// Raises:
///     ConfigError: naming the missing or broken piece.
///     InvalidArgument: a bad value (`timeout=0`, `rate_limit=(0, 0)`, token= with
///         token_file=, ...).
#[pyclass(frozen, module = "incluster._native")]
pub struct Client {
    pub(crate) inner: CoreClient,
}

/// A raw answer: status, headers and body bytes.
#[pyclass(frozen, module = "incluster._native")]
pub struct Response {
    inner: CoreResponse,
}

#[pymethods]
impl Response {
    /// HTTP status code.
    #[getter]
    fn status(&self) -> u16 {
        self.inner.status
    }

    /// Headers as a dict (lower-case names; repeated headers joined with ", ").
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in &self.inner.headers {
            match d.get_item(k)? {
                Some(prev) => d.set_item(k, format!("{}, {v}", prev.extract::<String>()?))?,
                None => d.set_item(k, v)?,
            }
        }
        Ok(d)
    }

    /// The body bytes.
    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.body)
    }

    /// The body decoded as UTF-8 (invalid bytes replaced).
    #[getter]
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.inner.body).into_owned()
    }

    /// The body parsed as JSON (None for an empty body). A body that is not JSON raises
    /// DecodeError (a ValueError) naming the Content-Type.
    fn json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        parse(py, &self.inner, None)
    }

    fn __repr__(&self) -> String {
        format!(
            "<incluster.Response [{}] {} bytes>",
            self.inner.status,
            self.inner.body.len()
        )
    }
}

/// The JSON body of the answer to `req` (None for an empty body). A body that is not JSON
/// names the request and its Content-Type (the core's message) and points to `request_raw`,
/// the way to read such a body from Python.
fn parse<'py>(
    py: Python<'py>,
    resp: &CoreResponse,
    req: Option<&Request>,
) -> PyResult<Bound<'py, PyAny>> {
    if resp.body.is_empty() {
        return Ok(py.None().into_bound(py));
    }
    loads(py, &resp.body).map_err(|e| {
        let err = match (resp.not_json_for(req, e), req) {
            (Error::Decode(m), Some(_)) => {
                Error::Decode(format!("{m} (request_raw() returns the raw body)"))
            }
            (other, _) => other,
        };
        to_py(py, &err)
    })
}

/// An argument error, raised as `incluster.InvalidArgument` (a `ValueError`) like every
/// argument error the core finds.
fn invalid(py: Python<'_>, msg: impl Into<String>) -> PyErr {
    to_py(py, &Error::invalid(msg))
}

/// Query parameters from a dict or a sequence of pairs; values go through `str()`, except
/// booleans, which become `true`/`false` as the API expects, and `None`, whose key is left
/// out (as `requests` does), so `params={"limit": None}` means "no limit", not `limit=None`.
fn query_params(p: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<(String, String)>> {
    let Some(p) = p.filter(|p| !p.is_none()) else {
        return Ok(Vec::new());
    };
    let value = |v: &Bound<'_, PyAny>| -> PyResult<String> {
        if let Ok(b) = v.extract::<bool>() {
            Ok(if b { "true" } else { "false" }.into())
        } else {
            Ok(v.str()?.to_cow()?.into_owned())
        }
    };
    let mut out = Vec::new();
    if let Ok(d) = p.cast::<PyDict>() {
        for (k, v) in d.iter() {
            if !v.is_none() {
                out.push((k.str()?.to_cow()?.into_owned(), value(&v)?));
            }
        }
    } else {
        for item in p.try_iter()? {
            let (k, v): (String, Bound<'_, PyAny>) = item?.extract().map_err(|_| {
                PyTypeError::new_err("params must be a dict or a sequence of (key, value) pairs")
            })?;
            if !v.is_none() {
                out.push((k, value(&v)?));
            }
        }
    }
    Ok(out)
}

/// The body from `json=` or `data=` (not both), with its content type.
fn body(
    py: Python<'_>,
    json: Option<&Bound<'_, PyAny>>,
    data: Option<&Bound<'_, PyAny>>,
    content_type: Option<&str>,
) -> PyResult<Option<(Vec<u8>, Option<String>)>> {
    let json = json.filter(|j| !j.is_none());
    let data = data.filter(|d| !d.is_none());
    match (json, data) {
        (Some(_), Some(_)) => Err(invalid(py, "give json= or data=, not both")),
        (Some(j), None) => Ok(Some((
            dumps(j)?,
            Some(content_type.unwrap_or("application/json").to_owned()),
        ))),
        (None, Some(d)) => {
            let bytes = if let Ok(s) = d.cast::<PyString>() {
                s.to_cow()?.as_bytes().to_vec()
            } else if let Ok(b) = d.extract::<Vec<u8>>() {
                b
            } else {
                return Err(PyTypeError::new_err("data= must be bytes or str"));
            };
            Ok(Some((bytes, content_type.map(str::to_owned))))
        }
        (None, None) => Ok(None),
    }
}

/// One request/response call of the client, its Python arguments already converted: what the
/// sync methods send at once and `incluster.aio` sends on a worker without the GIL. Prepared
/// (with the GIL) by the `prepare_*` functions below, which both fronts share.
#[derive(Debug)]
pub(crate) enum Call {
    /// A request whose answer is parsed as JSON (`request`, `get`, `post`, ...).
    Json(Request),
    /// A request whose answer is returned as a `Response` (`request_raw`).
    Raw(Request),
    /// `whoami`.
    WhoAmI,
    /// `can_i`.
    CanI(AccessQuery),
}

/// What the core answered to a [`Call`], before any Python object is made from it.
#[derive(Debug)]
pub(crate) enum Answer {
    /// The answer to `Call::Json` or `Call::Raw`.
    Response(CoreResponse),
    /// The answer to `Call::WhoAmI`.
    WhoAmI(serde_json::Value),
    /// The answer to `Call::CanI`.
    CanI(Access),
}

impl Call {
    /// The same call with its answer returned as a `Response` (`request_raw`), not parsed.
    fn raw(self) -> Call {
        match self {
            Call::Json(req) => Call::Raw(req),
            other => other,
        }
    }

    /// Send the call with `client`'s policy (token, retries, rate limit, timeouts). Pure Rust:
    /// needs no GIL, so the caller may run it on any thread.
    pub(crate) fn send(&self, client: &CoreClient) -> crate::core::error::Result<Answer> {
        match self {
            Call::Json(req) | Call::Raw(req) => client.request(req).map(Answer::Response),
            Call::WhoAmI => whoami(client).map(Answer::WhoAmI),
            Call::CanI(q) => can_i(client, q).map(Answer::CanI),
        }
    }

    /// The Python result of `answer` (with the GIL), as the sync method returns it.
    pub(crate) fn finish<'py>(
        &self,
        py: Python<'py>,
        answer: Answer,
    ) -> PyResult<Bound<'py, PyAny>> {
        match (self, answer) {
            (Call::Json(req), Answer::Response(resp)) => parse(py, &resp, Some(req)),
            (Call::Raw(_), Answer::Response(inner)) => {
                Ok(Bound::new(py, Response { inner })?.into_any())
            }
            (_, Answer::WhoAmI(v)) => loads(py, &serde_json::to_vec(&v).unwrap_or_default())
                .map_err(|e| to_py(py, &Error::Decode(e.to_string()))),
            (_, Answer::CanI(answer)) => {
                for w in &answer.warnings {
                    // The core's warnings are plain text without NUL bytes; one that had any
                    // would lose the warning, never the answer.
                    if let Ok(msg) = CString::new(w.as_str()) {
                        PyErr::warn(py, &py.get_type::<PyUserWarning>(), &msg, 1)?;
                    }
                }
                Ok(pyo3::types::PyBool::new(py, answer.allowed)
                    .to_owned()
                    .into_any())
            }
            // `send` answers each call with its own kind; this cannot be reached, but an
            // error is better than a panic across the FFI boundary.
            _ => Err(to_py(
                py,
                &Error::Decode("internal error: an answer of the wrong kind".into()),
            )),
        }
    }
}

/// `can_i`'s arguments as a call.
fn prepare_can_i(
    verb: &str,
    resource: &str,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
) -> Call {
    Call::CanI(AccessQuery {
        verb: verb.to_owned(),
        resource: resource.to_owned(),
        namespace,
        name: name.unwrap_or_default(),
        subresource: subresource.unwrap_or_default(),
    })
}

impl Client {
    /// Send `call` now, with the GIL released (Ctrl-C honoured), and make its Python result.
    fn call<'py>(&self, py: Python<'py>, call: Call) -> PyResult<Bound<'py, PyAny>> {
        let inner = &self.inner;
        let answer = run(py, || call.send(inner))?;
        call.finish(py, answer)
    }

    /// `request`'s, `request_raw`'s, `post`'s and `put`'s arguments as a call (a JSON one).
    fn prepare_request(
        &self,
        py: Python<'_>,
        method: &str,
        path: &str,
        params: Option<&Bound<'_, PyAny>>,
        json: Option<&Bound<'_, PyAny>>,
        data: Option<&Bound<'_, PyAny>>,
        content_type: Option<&str>,
        namespace: Option<&str>,
        all_namespaces: bool,
    ) -> PyResult<Call> {
        let path = &names::target(py, &self.inner, path, namespace, all_namespaces)?;
        Self::build(py, method, path, params, json, data, content_type).map(Call::Json)
    }

    /// `get`'s arguments as a call.
    fn prepare_get(
        &self,
        py: Python<'_>,
        path: &str,
        params: Option<&Bound<'_, PyAny>>,
        namespace: Option<&str>,
        all_namespaces: bool,
    ) -> PyResult<Call> {
        let path = &names::target(py, &self.inner, path, namespace, all_namespaces)?;
        Self::build(py, "GET", path, params, None, None, None).map(Call::Json)
    }

    /// `delete`'s arguments as a call.
    fn prepare_delete(
        &self,
        py: Python<'_>,
        path: &str,
        json: Option<&Bound<'_, PyAny>>,
        params: Option<&Bound<'_, PyAny>>,
        namespace: Option<&str>,
        all_namespaces: bool,
    ) -> PyResult<Call> {
        let path = &names::target(py, &self.inner, path, namespace, all_namespaces)?;
        Self::build(py, "DELETE", path, params, json, None, None).map(Call::Json)
    }

    /// `patch`'s arguments as a call.
    fn prepare_patch(
        &self,
        py: Python<'_>,
        path: &str,
        json: Option<&Bound<'_, PyAny>>,
        data: Option<&Bound<'_, PyAny>>,
        patch_type: &str,
        field_manager: Option<&str>,
        force: bool,
        params: Option<&Bound<'_, PyAny>>,
        namespace: Option<&str>,
    ) -> PyResult<Call> {
        let patch = Patch::parse(patch_type, field_manager, force).map_err(|e| to_py(py, &e))?;
        let Some((b, _)) = body(py, json, data, None)? else {
            return Err(invalid(py, "patch needs json= or data="));
        };
        let path = names::target(py, &self.inner, path, namespace, false)?;
        let mut req = Request::patch(&path, &patch, b);
        req.query.extend(query_params(params)?);
        Ok(Call::Json(req))
    }

    fn build(
        py: Python<'_>,
        method: &str,
        path: &str,
        params_: Option<&Bound<'_, PyAny>>,
        json: Option<&Bound<'_, PyAny>>,
        data: Option<&Bound<'_, PyAny>>,
        content_type: Option<&str>,
    ) -> PyResult<Request> {
        let mut req = Request::new(method, path);
        req.query = query_params(params_)?;
        if let Some((b, ct)) = body(py, json, data, content_type)? {
            req = req.with_body(b, ct.as_deref());
        }
        Ok(req)
    }
}

#[pymethods]
impl Client {
    #[new]
    #[pyo3(signature = (*, server=None, token=None, token_file=None, ca_file=None, ca_pem=None,
        namespace=None, serviceaccount_dir=None, connect_timeout=None, timeout=None,
        max_attempts=None, rate_limit=None, danger_insecure_skip_tls_verify=false))]
    fn new(
        py: Python<'_>,
        server: Option<&str>,
        token: Option<&str>,
        token_file: Option<PathBuf>,
        ca_file: Option<PathBuf>,
        ca_pem: Option<&Bound<'_, PyAny>>,
        namespace: Option<&str>,
        serviceaccount_dir: Option<PathBuf>,
        connect_timeout: Option<f64>,
        timeout: Option<f64>,
        max_attempts: Option<u32>,
        rate_limit: Option<(f64, u32)>,
        danger_insecure_skip_tls_verify: bool,
    ) -> PyResult<Self> {
        let err = |e: Error| to_py(py, &e);
        let mut cfg = match server {
            Some(s) => Config::for_server(s, serviceaccount_dir.as_deref()).map_err(err)?,
            None => crate::py::kubeconfig::discover(py, serviceaccount_dir.clone())?,
        };
        if token.is_some() && token_file.is_some() {
            return Err(invalid(py, "give token= or token_file=, not both"));
        }
        if let Some(t) = token {
            cfg = cfg.with_token(t);
        }
        if let Some(f) = token_file {
            cfg = cfg.with_token_file(f);
        }
        match (ca_file, ca_pem) {
            (Some(_), Some(_)) => {
                return Err(invalid(py, "give ca_file= or ca_pem=, not both"));
            }
            (Some(f), None) => cfg = cfg.with_ca_file(f),
            (None, Some(p)) => {
                let pem = if let Ok(s) = p.cast::<PyString>() {
                    s.to_cow()?.as_bytes().to_vec()
                } else {
                    p.extract::<Vec<u8>>()
                        .map_err(|_| PyTypeError::new_err("ca_pem= must be str or bytes"))?
                };
                cfg = cfg.with_ca_pem(pem);
            }
            (None, None) => {}
        }
        if let Some(ns) = namespace {
            cfg = cfg.with_namespace(ns);
        }
        if let Some(t) = connect_timeout {
            cfg.connect_timeout =
                positive_seconds("connect_timeout", t).map_err(|e| to_py(py, &e))?;
        }
        if let Some(t) = timeout {
            cfg.request_timeout = Some(positive_seconds("timeout", t).map_err(|e| to_py(py, &e))?);
        }
        if let Some(n) = max_attempts {
            cfg = cfg.with_max_attempts(n).map_err(err)?;
        }
        if let Some((qps, burst)) = rate_limit {
            cfg.rate_limit = Some(RateLimit::new(qps, burst).map_err(err)?);
        }
        if danger_insecure_skip_tls_verify {
            cfg = cfg.danger_insecure_skip_tls_verify();
        }
        Ok(Client {
            inner: CoreClient::new(cfg).map_err(err)?,
        })
    }

    /// A client from a kubeconfig: the file `path` (default: the KUBECONFIG list, merged as
    /// kubectl merges it, else ~/.kube/config) and the context `context` (default: its
    /// current-context); `namespace` and `timeout` (seconds, also an exec plugin's limit)
    /// override. Raises ConfigError naming the file, context or user and the problem.
    #[staticmethod]
    #[pyo3(signature = (path=None, context=None, *, namespace=None, timeout=None))]
    fn from_kubeconfig(
        py: Python<'_>,
        path: Option<PathBuf>,
        context: Option<String>,
        namespace: Option<String>,
        timeout: Option<f64>,
    ) -> PyResult<Self> {
        let inner =
            crate::py::kubeconfig::client_from_kubeconfig(py, path, context, namespace, timeout)?;
        Ok(Client { inner })
    }

    /// Where the settings came from: {"type": "in-cluster"}, {"type": "explicit"} or
    /// {"type": "kubeconfig", "files": [...], "context": "..."}.
    #[getter]
    fn source<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::py::kubeconfig::source(py, &self.inner)
    }

    /// The default namespace.
    #[getter]
    fn namespace(&self) -> &str {
        self.inner.namespace()
    }

    /// The server's base URL.
    #[getter]
    fn server(&self) -> &str {
        self.inner.server()
    }

    /// Any request; returns the parsed JSON body (None for an empty body).
    ///
    /// Args:
    ///     method: GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS (any case); anything else
    ///         raises InvalidArgument before anything is sent.
    ///     path: the API path, starting with /.
    ///     params: query parameters, a dict or (key, value) pairs; booleans are sent as
    ///         true/false, and a key whose value is None is left out.
    ///     json: a body to send as JSON.
    ///     data: a raw body (bytes or str); not with `json`.
    ///     content_type: the body's Content-Type (default application/json).
    ///
    /// Raises:
    ///     ApiError (NotFound, Forbidden, ...) for a non-2xx answer; DecodeError (a
    ///     ValueError) for a body that is not JSON (use request_raw for those);
    ///     InvalidArgument, TimeoutError, TransportError, TlsError.
    #[pyo3(signature = (method, path, *, params=None, json=None, data=None, content_type=None,
        namespace=None, all_namespaces=false))]
    fn request<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        path: &str,
        params: Option<&Bound<'py, PyAny>>,
        json: Option<&Bound<'py, PyAny>>,
        data: Option<&Bound<'py, PyAny>>,
        content_type: Option<&str>,
        namespace: Option<&str>,
        all_namespaces: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let call = self.prepare_request(
            py,
            method,
            path,
            params,
            json,
            data,
            content_type,
            namespace,
            all_namespaces,
        )?;
        self.call(py, call)
    }

    /// Any request; returns a Response with the status, headers and raw body (for answers
    /// that are not JSON: logs, /metrics, /healthz). Arguments as for `request`. A non-2xx
    /// answer raises ApiError.
    #[pyo3(signature = (method, path, *, params=None, json=None, data=None, content_type=None,
        namespace=None, all_namespaces=false))]
    fn request_raw<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        path: &str,
        params: Option<&Bound<'py, PyAny>>,
        json: Option<&Bound<'py, PyAny>>,
        data: Option<&Bound<'py, PyAny>>,
        content_type: Option<&str>,
        namespace: Option<&str>,
        all_namespaces: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let call = self.prepare_request(
            py,
            method,
            path,
            params,
            json,
            data,
            content_type,
            namespace,
            all_namespaces,
        )?;
        self.call(py, call.raw())
    }

    /// GET; returns the parsed JSON body.
    ///
    /// Args:
    ///     path: the API path, starting with /.
    ///     params: query parameters (dict or pairs; None values are left out), e.g.
    ///         `{"labelSelector": "app=web", "limit": 50}`.
    ///
    /// Raises:
    ///     ApiError and its subclasses for a non-2xx answer; DecodeError (a ValueError) when
    ///     the body is not JSON, naming the path and Content-Type (request_raw reads it).
    #[pyo3(signature = (path, *, params=None, namespace=None, all_namespaces=false))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        path: &str,
        params: Option<&Bound<'py, PyAny>>,
        namespace: Option<&str>,
        all_namespaces: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let call = self.prepare_get(py, path, params, namespace, all_namespaces)?;
        self.call(py, call)
    }

    /// POST `json` (or raw `data` with `content_type`); returns the parsed JSON body.
    /// `params` as for `get`.
    #[pyo3(signature = (path, json=None, *, data=None, content_type=None, params=None,
        namespace=None, all_namespaces=false))]
    fn post<'py>(
        &self,
        py: Python<'py>,
        path: &str,
        json: Option<&Bound<'py, PyAny>>,
        data: Option<&Bound<'py, PyAny>>,
        content_type: Option<&str>,
        params: Option<&Bound<'py, PyAny>>,
        namespace: Option<&str>,
        all_namespaces: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let call = self.prepare_request(
            py,
            "POST",
            path,
            params,
            json,
            data,
            content_type,
            namespace,
            all_namespaces,
        )?;
        self.call(py, call)
    }

    /// PUT `json` (or raw `data` with `content_type`); returns the parsed JSON body.
    /// `params` as for `get`.
    #[pyo3(signature = (path, json=None, *, data=None, content_type=None, params=None,
        namespace=None, all_namespaces=false))]
    fn put<'py>(
        &self,
        py: Python<'py>,
        path: &str,
        json: Option<&Bound<'py, PyAny>>,
        data: Option<&Bound<'py, PyAny>>,
        content_type: Option<&str>,
        params: Option<&Bound<'py, PyAny>>,
        namespace: Option<&str>,
        all_namespaces: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let call = self.prepare_request(
            py,
            "PUT",
            path,
            params,
            json,
            data,
            content_type,
            namespace,
            all_namespaces,
        )?;
        self.call(py, call)
    }

    /// DELETE (optionally with a DeleteOptions body as `json`); returns the parsed JSON body
    /// (the deleted object, or a Status). `params` as for `get`.
    #[pyo3(signature = (path, *, json=None, params=None, namespace=None, all_namespaces=false))]
    fn delete<'py>(
        &self,
        py: Python<'py>,
        path: &str,
        json: Option<&Bound<'py, PyAny>>,
        params: Option<&Bound<'py, PyAny>>,
        namespace: Option<&str>,
        all_namespaces: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let call = self.prepare_delete(py, path, json, params, namespace, all_namespaces)?;
        self.call(py, call)
    }

    /// PATCH; returns the patched object.
    ///
    /// Args:
    ///     path: the object's path.
    ///     json: the patch (or raw `data`).
    ///     patch_type: "merge" (default, RFC 7386), "json" (RFC 6902 operations),
    ///         "strategic" or "apply" (server-side apply).
    ///     field_manager: sent as fieldManager for every patch type; apply defaults to
    ///         "incluster" (the server requires one).
    ///     force: apply only: take over fields other managers own.
    ///     params: extra query parameters, as for `get`.
    ///
    /// Raises:
    ///     InvalidArgument: an unknown patch_type, force=True with a type other than
    ///         "apply", no body, or json= with data=.
    ///     ApiError and its subclasses (Conflict for an apply conflict without force).
    #[pyo3(signature = (path, json=None, *, data=None, patch_type="merge", field_manager=None,
        force=false, params=None, namespace=None))]
    fn patch<'py>(
        &self,
        py: Python<'py>,
        path: &str,
        json: Option<&Bound<'py, PyAny>>,
        data: Option<&Bound<'py, PyAny>>,
        patch_type: &str,
        field_manager: Option<&str>,
        force: bool,
        params: Option<&Bound<'py, PyAny>>,
        namespace: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let call = self.prepare_patch(
            py,
            path,
            json,
            data,
            patch_type,
            field_manager,
            force,
            params,
            namespace,
        )?;
        self.call(py, call)
    }

    /// Who the server says the caller is (SelfSubjectReview): a dict with username, uid,
    /// groups, extra, source ("SelfSubjectReview" or "token claims") and the token's decoded
    /// claims (never the token).
    fn whoami<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.call(py, Call::WhoAmI)
    }

    /// Whether the caller may do `verb` on `resource` (SelfSubjectAccessReview, as
    /// `kubectl auth can-i`).
    ///
    /// Args:
    ///     verb: get, list, watch, create, update, patch, delete, ... in any case; a verb the
    ///         API does not know is asked anyway and warns (UserWarning "verb 'foo' is not a
    ///         known verb"), as kubectl does.
    ///     resource: "pods", "deployments.apps" (RESOURCE.GROUP) or a non-resource URL
    ///         starting with / ("/healthz").
    ///     namespace: None for the client's namespace, "" for cluster-wide.
    ///     name: one object's name.
    ///     subresource: "log", "status", "exec", ...
    #[pyo3(signature = (verb, resource, *, namespace=None, name=None, subresource=None))]
    fn can_i<'py>(
        &self,
        py: Python<'py>,
        verb: &str,
        resource: &str,
        namespace: Option<String>,
        name: Option<String>,
        subresource: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.call(
            py,
            prepare_can_i(verb, resource, namespace, name, subresource),
        )
    }

    /// `request` (and `post`, `put`) for `incluster.aio`: the arguments are converted here, on the loop's thread;
    /// the request runs on a worker without the GIL, and `ctx` settles `future` with its
    /// result on the loop. Returns the handle that cancels it.
    #[pyo3(signature = (ctx, future, method, path, *, params=None, json=None, data=None,
        content_type=None, namespace=None, all_namespaces=false))]
    fn _aio_request(
        &self,
        py: Python<'_>,
        ctx: &Bound<'_, AioLoop>,
        future: Py<PyAny>,
        method: &str,
        path: &str,
        params: Option<&Bound<'_, PyAny>>,
        json: Option<&Bound<'_, PyAny>>,
        data: Option<&Bound<'_, PyAny>>,
        content_type: Option<&str>,
        namespace: Option<&str>,
        all_namespaces: bool,
    ) -> PyResult<AioCall> {
        let call = self.prepare_request(
            py,
            method,
            path,
            params,
            json,
            data,
            content_type,
            namespace,
            all_namespaces,
        )?;
        aio::start(ctx, future, &self.inner, call)
    }

    /// `request_raw` for `incluster.aio` (see `_aio_request`).
    #[pyo3(signature = (ctx, future, method, path, *, params=None, json=None, data=None,
        content_type=None, namespace=None, all_namespaces=false))]
    fn _aio_request_raw(
        &self,
        py: Python<'_>,
        ctx: &Bound<'_, AioLoop>,
        future: Py<PyAny>,
        method: &str,
        path: &str,
        params: Option<&Bound<'_, PyAny>>,
        json: Option<&Bound<'_, PyAny>>,
        data: Option<&Bound<'_, PyAny>>,
        content_type: Option<&str>,
        namespace: Option<&str>,
        all_namespaces: bool,
    ) -> PyResult<AioCall> {
        let call = self.prepare_request(
            py,
            method,
            path,
            params,
            json,
            data,
            content_type,
            namespace,
            all_namespaces,
        )?;
        aio::start(ctx, future, &self.inner, call.raw())
    }

    /// `get` for `incluster.aio` (see `_aio_request`).
    #[pyo3(signature = (ctx, future, path, *, params=None, namespace=None,
        all_namespaces=false))]
    fn _aio_get(
        &self,
        py: Python<'_>,
        ctx: &Bound<'_, AioLoop>,
        future: Py<PyAny>,
        path: &str,
        params: Option<&Bound<'_, PyAny>>,
        namespace: Option<&str>,
        all_namespaces: bool,
    ) -> PyResult<AioCall> {
        let call = self.prepare_get(py, path, params, namespace, all_namespaces)?;
        aio::start(ctx, future, &self.inner, call)
    }

    /// `delete` for `incluster.aio` (see `_aio_request`).
    #[pyo3(signature = (ctx, future, path, *, json=None, params=None, namespace=None,
        all_namespaces=false))]
    fn _aio_delete(
        &self,
        py: Python<'_>,
        ctx: &Bound<'_, AioLoop>,
        future: Py<PyAny>,
        path: &str,
        json: Option<&Bound<'_, PyAny>>,
        params: Option<&Bound<'_, PyAny>>,
        namespace: Option<&str>,
        all_namespaces: bool,
    ) -> PyResult<AioCall> {
        let call = self.prepare_delete(py, path, json, params, namespace, all_namespaces)?;
        aio::start(ctx, future, &self.inner, call)
    }

    /// `patch` for `incluster.aio` (see `_aio_request`).
    #[pyo3(signature = (ctx, future, path, json=None, *, data=None, patch_type="merge",
        field_manager=None, force=false, params=None, namespace=None))]
    fn _aio_patch(
        &self,
        py: Python<'_>,
        ctx: &Bound<'_, AioLoop>,
        future: Py<PyAny>,
        path: &str,
        json: Option<&Bound<'_, PyAny>>,
        data: Option<&Bound<'_, PyAny>>,
        patch_type: &str,
        field_manager: Option<&str>,
        force: bool,
        params: Option<&Bound<'_, PyAny>>,
        namespace: Option<&str>,
    ) -> PyResult<AioCall> {
        let call = self.prepare_patch(
            py,
            path,
            json,
            data,
            patch_type,
            field_manager,
            force,
            params,
            namespace,
        )?;
        aio::start(ctx, future, &self.inner, call)
    }

    /// `whoami` for `incluster.aio` (see `_aio_request`).
    fn _aio_whoami(&self, ctx: &Bound<'_, AioLoop>, future: Py<PyAny>) -> PyResult<AioCall> {
        aio::start(ctx, future, &self.inner, Call::WhoAmI)
    }

    /// `can_i` for `incluster.aio` (see `_aio_request`).
    #[pyo3(signature = (ctx, future, verb, resource, *, namespace=None, name=None,
        subresource=None))]
    fn _aio_can_i(
        &self,
        ctx: &Bound<'_, AioLoop>,
        future: Py<PyAny>,
        verb: &str,
        resource: &str,
        namespace: Option<String>,
        name: Option<String>,
        subresource: Option<String>,
    ) -> PyResult<AioCall> {
        let call = prepare_can_i(verb, resource, namespace, name, subresource);
        aio::start(ctx, future, &self.inner, call)
    }

    /// Watch a collection: returns a Watch, an iterator of WatchEvent (type, object, raw,
    /// resource_version) and a context manager; or, with `callback=`, calls it for each event
    /// until it returns False or raises (the exception propagates unchanged), then returns
    /// None.
    ///
    /// The watch resumes from the last resourceVersion when the stream ends or breaks, and on
    /// 410 Gone relists and yields the differences between RESYNC_START and RESYNC_END events.
    /// `Watch.cancel()` (from any thread) ends the iteration without raising;
    /// `Watch.close()` also closes the connection; `Watch.resource_version` is the last one
    /// seen (where a new watch would resume). While it waits, other threads run and Ctrl-C
    /// raises KeyboardInterrupt; iterate it from one thread at a time (another thread gets
    /// RuntimeError at once).
    ///
    /// Args:
    ///     path: a collection path (no query in it), e.g. /api/v1/namespaces/NS/pods; a path
    ///         naming one object (.../pods/web-0) watches that object (its collection with
    ///         fieldSelector=metadata.name=web-0, as kubectl get pod web-0 --watch).
    ///     label_selector, field_selector: the API's selectors.
    ///     resource_version: start after it (default: the current state first, as ADDED).
    ///     resource_version_match, send_initial_events: the streaming-list options.
    ///     timeout_seconds: per request (default random 240-360 s); the watch resumes after.
    ///     allow_bookmarks: ask for BOOKMARKs (default on); bookmarks=True yields them.
    ///     params: extra query parameters (None values are left out).
    ///     max_event_bytes: the largest event accepted (default 64 MiB).
    ///     resume: resume after the stream ends or breaks (default on).
    ///     on_gone: "relist" (default) or "error" (raise Gone).
    ///     idle_timeout: seconds without bytes before the connection counts as dead.
    ///     backoff: (first, max) seconds between reconnects (default 0.8, 30).
    ///     callback: called with each WatchEvent; return False to stop.
    ///
    /// Raises:
    ///     ApiError and its subclasses when the watch cannot start (401, 403, 404, ...);
    ///     InvalidArgument for a bad option.
    #[pyo3(signature = (path, *, label_selector=None, field_selector=None, resource_version=None,
        resource_version_match=None, timeout_seconds=None, allow_bookmarks=true, bookmarks=false,
        send_initial_events=false, params=None, max_event_bytes=None, resume=true,
        on_gone="relist", idle_timeout=None, backoff=None, callback=None, namespace=None,
        all_namespaces=false))]
    fn watch(
        &self,
        py: Python<'_>,
        path: &str,
        label_selector: Option<String>,
        field_selector: Option<String>,
        resource_version: Option<String>,
        resource_version_match: Option<String>,
        timeout_seconds: Option<u32>,
        allow_bookmarks: bool,
        bookmarks: bool,
        send_initial_events: bool,
        params: Option<&Bound<'_, PyAny>>,
        max_event_bytes: Option<usize>,
        resume: bool,
        on_gone: &str,
        idle_timeout: Option<f64>,
        backoff: Option<(f64, f64)>,
        callback: Option<&Bound<'_, PyAny>>,
        namespace: Option<&str>,
        all_namespaces: bool,
    ) -> PyResult<Option<Py<Watch>>> {
        let mut opts = WatchOptions {
            label_selector,
            field_selector,
            resource_version,
            resource_version_match,
            timeout_seconds,
            allow_bookmarks,
            deliver_bookmarks: bookmarks,
            send_initial_events,
            extra_params: query_params(params)?,
            resume,
            on_gone: on_gone.parse().map_err(|e| to_py(py, &e))?,
            ..WatchOptions::default()
        };
        if let Some(m) = max_event_bytes {
            opts.max_event_bytes = m;
        }
        let secs = |name: &str, v: f64| seconds(name, v).map_err(|e| to_py(py, &e));
        if let Some(t) = idle_timeout {
            opts.idle_timeout = Some(secs("idle_timeout", t)?);
        }
        if let Some((a, b)) = backoff {
            opts.backoff_initial = secs("backoff", a)?;
            opts.backoff_max = secs("backoff", b)?;
        }
        let path = &names::target(py, &self.inner, path, namespace, all_namespaces)?;
        let w = open_watch(py, &self.inner, path, opts)?;
        match callback {
            Some(cb) => {
                w.run_callback(py, cb)?;
                Ok(None)
            }
            None => Ok(Some(Py::new(py, w)?)),
        }
    }

    /// Read a pod's log: returns a Logs, an iterator of lines without their newline (str;
    /// bytes with `as_bytes=True`) and a context manager; or, with `callback=`, calls it for
    /// each line until it returns False or raises, then returns None. `Logs.cancel()` (from
    /// any thread) ends the iteration without raising; `Logs.close()` also closes the
    /// connection.
    ///
    /// Args:
    ///     pod: the pod's name.
    ///     namespace: default the client's.
    ///     container: needed when the pod has several.
    ///     follow: keep reading as the container writes (until it terminates).
    ///     previous: the previous (crashed) container's log.
    ///     since_seconds, since_time (RFC 3339), tail_lines, limit_bytes, timestamps,
    ///         insecure_skip_tls_verify_backend: the PodLogOptions fields.
    ///     resume: with follow (default on when following), resume a stream that ends or
    ///         breaks while the container runs, without losing or repeating a line.
    ///     max_line_bytes: longer lines are split (default 1 MiB).
    ///     idle_check: seconds between checks that a silent follow is still alive.
    ///     backoff: (first, max) seconds between resumes.
    ///     as_bytes: yield bytes instead of str (text never fails on invalid UTF-8: U+FFFD).
    ///     callback: called with each line; return False to stop.
    ///
    /// Raises:
    ///     NotFound (no such pod), ApiError 400 (wrong container; the message names the
    ///     pod's containers), Forbidden, InvalidArgument for a bad option.
    #[pyo3(signature = (pod, *, namespace=None, container=None, follow=false, previous=false,
        since_seconds=None, since_time=None, timestamps=false, tail_lines=None, limit_bytes=None,
        insecure_skip_tls_verify_backend=false, resume=None, max_line_bytes=None,
        idle_check=None, backoff=None, as_bytes=false, callback=None))]
    fn logs(
        &self,
        py: Python<'_>,
        pod: &str,
        namespace: Option<&str>,
        container: Option<String>,
        follow: bool,
        previous: bool,
        since_seconds: Option<u64>,
        since_time: Option<String>,
        timestamps: bool,
        tail_lines: Option<u64>,
        limit_bytes: Option<u64>,
        insecure_skip_tls_verify_backend: bool,
        resume: Option<bool>,
        max_line_bytes: Option<usize>,
        idle_check: Option<f64>,
        backoff: Option<(f64, f64)>,
        as_bytes: bool,
        callback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<Py<Logs>>> {
        let mut opts = LogOptions {
            container,
            follow,
            previous,
            since_seconds,
            since_time,
            timestamps,
            tail_lines,
            limit_bytes,
            insecure_skip_tls_verify_backend,
            ..LogOptions::default()
        };
        if let Some(r) = resume {
            opts.resume = r;
        }
        if let Some(m) = max_line_bytes {
            opts.max_line_bytes = m.max(1);
        }
        let secs = |name: &str, v: f64| seconds(name, v).map_err(|e| to_py(py, &e));
        if let Some(t) = idle_check {
            opts.idle_check = secs("idle_check", t)?;
        }
        if let Some((a, b)) = backoff {
            opts.backoff_initial = secs("backoff", a)?;
            opts.backoff_max = secs("backoff", b)?;
        }
        let ns = namespace.unwrap_or(self.inner.namespace()).to_owned();
        let l = open_logs(py, &self.inner, &ns, pod, opts, as_bytes)?;
        match callback {
            Some(cb) => {
                l.run_callback(py, cb)?;
                Ok(None)
            }
            None => Ok(Some(Py::new(py, l)?)),
        }
    }

    /// Resolve a path or a kubectl resource name (see `incluster.Client.resolve` in the
    /// stubs): a dict of path, name, namespace, group, version, resource, kind, namespaced.
    #[pyo3(signature = (what, *, namespace=None, all_namespaces=false))]
    fn resolve<'py>(
        &self,
        py: Python<'py>,
        what: &str,
        namespace: Option<&str>,
        all_namespaces: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        names::resolve(py, &self.inner, what, namespace, all_namespaces)
    }

    /// Server-side apply a manifest (YAML/JSON text, a dict or a list of dicts); returns the
    /// applied objects (see the stubs).
    #[pyo3(signature = (manifest, *, field_manager=None, force=false, namespace=None))]
    fn apply<'py>(
        &self,
        py: Python<'py>,
        manifest: &Bound<'py, PyAny>,
        field_manager: Option<String>,
        force: bool,
        namespace: Option<String>,
    ) -> PyResult<Bound<'py, pyo3::types::PyList>> {
        names::apply(py, &self.inner, manifest, field_manager, force, namespace)
    }

    /// Wait until an object meets conditions, or every object a label selector picks
    /// (kubectl wait's semantics; list + watch underneath, resuming after drops and 410s,
    /// never polling). Other threads run meanwhile; Ctrl-C raises KeyboardInterrupt.
    ///
    /// Args:
    ///     target: an object path (/apis/batch/v1/namespaces/NS/jobs/NAME; waited for if it
    ///         does not exist yet) or a collection path (every object in it, or those
    ///         `label_selector` picks), or the same by name ("job/pi", "deploy/web", "pods"
    ///         with `label_selector`), in `namespace` (default the client's).
    ///     for_: a condition or a list of them, all of which must hold: "create", "delete",
    ///         "condition=NAME[=STATUS]" (case-insensitive; ignored while its
    ///         observedGeneration is behind metadata.generation), "jsonpath={EXPR}[=VALUE]".
    ///     any_: conditions of which one must hold (AND-ed with `for_`).
    ///     fail_on: conditions that end the wait with Unmeetable when one holds.
    ///     label_selector: with a collection path.
    ///     namespace: for resource names (not with a path).
    ///     allow_empty: with a selector, no matching object at all counts as met.
    ///     timeout: seconds (default None: no limit; 0 checks once).
    ///     with_conditions: return (object, conditions met) pairs instead of objects: every
    ///         `for_` condition, then the `any_` one that held.
    ///
    /// Returns:
    ///     The object that met the conditions (its last state; for "delete" of an object
    ///     that never existed, its kind, apiVersion and name); a list of them for a collection.
    ///
    /// Raises:
    ///     WaitTimeout: the timeout passed (also a builtin TimeoutError).
    ///     Unmeetable: the object was deleted while waiting, or a `fail_on` condition held.
    ///     InvalidArgument: a bad target or condition, or a jsonpath selecting several values.
    ///     ApiError and its subclasses, as for any request.
    #[pyo3(signature = (target, for_=None, *, any_=None, fail_on=None, label_selector=None,
        namespace=None, allow_empty=false, timeout=None, with_conditions=false))]
    fn wait<'py>(
        &self,
        py: Python<'py>,
        target: &str,
        for_: Option<&Bound<'py, PyAny>>,
        any_: Option<&Bound<'py, PyAny>>,
        fail_on: Option<&Bound<'py, PyAny>>,
        label_selector: Option<&str>,
        namespace: Option<&str>,
        allow_empty: bool,
        timeout: Option<f64>,
        with_conditions: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::py::wait::wait(
            py,
            &self.inner,
            target,
            for_,
            any_,
            fail_on,
            label_selector,
            namespace,
            allow_empty,
            timeout,
            with_conditions,
        )
    }

    /// incluster.aio: the native half of `wait` (see `crate::py::wait::AioWait`); the
    /// arguments are `wait`'s, checked now.
    #[pyo3(signature = (target, for_=None, *, any_=None, fail_on=None, label_selector=None,
        namespace=None, allow_empty=false, timeout=None, with_conditions=false))]
    fn _aio_wait<'py>(
        &self,
        py: Python<'py>,
        target: &str,
        for_: Option<&Bound<'py, PyAny>>,
        any_: Option<&Bound<'py, PyAny>>,
        fail_on: Option<&Bound<'py, PyAny>>,
        label_selector: Option<&str>,
        namespace: Option<&str>,
        allow_empty: bool,
        timeout: Option<f64>,
        with_conditions: bool,
    ) -> PyResult<crate::py::wait::AioWait> {
        crate::py::wait::aio_wait(
            py,
            &self.inner,
            target,
            for_,
            any_,
            fail_on,
            label_selector,
            namespace,
            allow_empty,
            timeout,
            with_conditions,
        )
    }

    /// Leader election on the Lease `name` (coordination.k8s.io/v1, client-go's algorithm):
    /// `with client.leader_election("name") as lead:` blocks until this process leads, and
    /// releases the Lease on exit. See `LeaderElection`.
    #[pyo3(signature = (name, *, namespace=None, identity=None, lease_duration=15.0,
        renew_deadline=10.0, retry_period=2.0, timeout=None, on_started=None, on_stopped=None,
        on_new_leader=None))]
    fn leader_election(
        &self,
        py: Python<'_>,
        name: &str,
        namespace: Option<String>,
        identity: Option<String>,
        lease_duration: f64,
        renew_deadline: f64,
        retry_period: f64,
        timeout: Option<f64>,
        on_started: Option<Py<PyAny>>,
        on_stopped: Option<Py<PyAny>>,
        on_new_leader: Option<Py<PyAny>>,
    ) -> PyResult<crate::py::lease::LeaderElection> {
        let callbacks = crate::py::lease::Callbacks {
            on_started,
            on_stopped,
            on_new_leader,
        };
        crate::py::lease::new(
            py,
            &self.inner,
            name,
            namespace,
            identity,
            (lease_duration, renew_deadline, retry_period),
            timeout,
            callbacks,
        )
    }

    /// Run a command in a container to completion, like `subprocess.run`: returns an
    /// `ExecResult` (`returncode`, `stdout`, `stderr` as bytes). A non-zero exit raises
    /// `subprocess.CalledProcessError` only with `check=True`. `stdin` (bytes, str, a file
    /// object or None) is fed and then closed. See `incluster.Client.exec` in the stubs.
    #[pyo3(signature = (pod, command, *, container=None, namespace=None, stdin=None,
        timeout=None, check=false))]
    fn exec(
        &self,
        py: Python<'_>,
        pod: &str,
        command: Vec<String>,
        container: Option<String>,
        namespace: Option<String>,
        stdin: Option<&Bound<'_, PyAny>>,
        timeout: Option<f64>,
        check: bool,
    ) -> PyResult<crate::py::exec::ExecResult> {
        crate::py::exec::exec(
            py,
            &self.inner,
            pod,
            command,
            container,
            namespace,
            stdin,
            timeout,
            check,
        )
    }

    /// Start a command and return an `ExecStream` (write, close_stdin, resize, iterate
    /// `(channel, bytes)`, wait).
    #[pyo3(signature = (pod, command, *, container=None, namespace=None, stdin=false,
        tty=false))]
    fn exec_stream(
        &self,
        py: Python<'_>,
        pod: &str,
        command: Vec<String>,
        container: Option<String>,
        namespace: Option<String>,
        stdin: bool,
        tty: bool,
    ) -> PyResult<crate::py::exec::ExecStream> {
        let opts = crate::core::exec::ExecOptions {
            pod: pod.to_owned(),
            container,
            namespace,
            command,
            stdin,
            tty,
        };
        crate::py::exec::exec_stream(py, &self.inner, opts)
    }

    /// Attach to a container's main process; returns an `ExecStream`.
    #[pyo3(signature = (pod, *, container=None, namespace=None, stdin=false, tty=false))]
    fn attach(
        &self,
        py: Python<'_>,
        pod: &str,
        container: Option<String>,
        namespace: Option<String>,
        stdin: bool,
        tty: bool,
    ) -> PyResult<crate::py::exec::ExecStream> {
        let opts = crate::core::exec::AttachOptions {
            pod: pod.to_owned(),
            container,
            namespace,
            stdin,
            tty,
        };
        crate::py::exec::attach(py, &self.inner, opts)
    }

    /// Connect to `port` of `pod`: a socket-like `PortForwardSocket`.
    #[pyo3(signature = (pod, port, *, namespace=None))]
    fn port_forward(
        &self,
        py: Python<'_>,
        pod: &str,
        port: u16,
        namespace: Option<&str>,
    ) -> PyResult<crate::py::portforward::PortForwardSocket> {
        crate::py::portforward::connect(py, &self.inner, pod, port, namespace)
    }

    /// Listen on 127.0.0.1 (`local_port`, 0: a free one) and forward each connection to
    /// `port` of `pod`: a `PortForwarder` context manager.
    #[pyo3(signature = (pod, port, *, local_port=0, namespace=None))]
    fn port_forward_listen(
        &self,
        py: Python<'_>,
        pod: &str,
        port: u16,
        local_port: u16,
        namespace: Option<&str>,
    ) -> PyResult<crate::py::portforward::PortForwarder> {
        crate::py::portforward::listen(py, &self.inner, pod, port, local_port, namespace)
    }

    /// Refuse further requests (they raise InvalidArgument). Idempotent. Watches and log
    /// reads already open keep running: each owns its connection, as in C.
    fn close(&self) {
        self.inner.close();
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close();
        false
    }

    fn __repr__(&self) -> String {
        format!(
            "<incluster.Client server={:?} namespace={:?}>",
            self.inner.server(),
            self.inner.namespace()
        )
    }
}

//! `incluster.Client` and `incluster.Response`.

// Python keyword arguments map one to one onto parameters here.
#![allow(clippy::too_many_arguments)]

use std::path::PathBuf;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

use crate::core::api::access::{AccessQuery, can_i, whoami};
use crate::core::api::patch::PatchType;
use crate::core::api::request::{Request, Response as CoreResponse};
use crate::core::client::Client as CoreClient;
use crate::core::config::{Config, RateLimit};
use crate::core::error::Error;
use crate::core::logs::LogOptions;
use crate::core::seconds::{positive_seconds, seconds};
use crate::core::watch::WatchOptions;
use crate::py::blocking::run;
use crate::py::convert::{dumps, loads};
use crate::py::errors::to_py;
use crate::py::logs::{Logs, open as open_logs};
use crate::py::watch::{Watch, open as open_watch};

/// A client for the Kubernetes API server. Thread-safe: share one between threads.
#[pyclass(frozen, module = "incluster._native")]
pub struct Client {
    inner: CoreClient,
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

    /// The body parsed as JSON.
    fn json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        parse(py, &self.inner)
    }

    fn __repr__(&self) -> String {
        format!(
            "<incluster.Response [{}] {} bytes>",
            self.inner.status,
            self.inner.body.len()
        )
    }
}

fn parse<'py>(py: Python<'py>, resp: &CoreResponse) -> PyResult<Bound<'py, PyAny>> {
    if resp.body.is_empty() {
        return Ok(py.None().into_bound(py));
    }
    loads(py, &resp.body).map_err(|e| to_py(py, &resp.not_json(e)))
}

/// Query parameters from a dict or a sequence of pairs; values go through `str()`, except
/// booleans, which become `true`/`false` as the API expects.
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
            out.push((k.str()?.to_cow()?.into_owned(), value(&v)?));
        }
    } else {
        for item in p.try_iter()? {
            let (k, v): (String, Bound<'_, PyAny>) = item?.extract().map_err(|_| {
                PyTypeError::new_err("params must be a dict or a sequence of (key, value) pairs")
            })?;
            out.push((k, value(&v)?));
        }
    }
    Ok(out)
}

/// The body from `json=` or `data=` (not both), with its content type.
fn body(
    json: Option<&Bound<'_, PyAny>>,
    data: Option<&Bound<'_, PyAny>>,
    content_type: Option<&str>,
) -> PyResult<Option<(Vec<u8>, Option<String>)>> {
    let json = json.filter(|j| !j.is_none());
    let data = data.filter(|d| !d.is_none());
    match (json, data) {
        (Some(_), Some(_)) => Err(PyValueError::new_err("give json= or data=, not both")),
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

impl Client {
    fn send(&self, py: Python<'_>, req: Request) -> PyResult<CoreResponse> {
        let inner = &self.inner;
        run(py, || inner.request(&req))
    }

    fn build(
        method: &str,
        path: &str,
        params_: Option<&Bound<'_, PyAny>>,
        json: Option<&Bound<'_, PyAny>>,
        data: Option<&Bound<'_, PyAny>>,
        content_type: Option<&str>,
    ) -> PyResult<Request> {
        let mut req = Request::new(method, path);
        req.query = query_params(params_)?;
        if let Some((b, ct)) = body(json, data, content_type)? {
            req = req.with_body(b, ct.as_deref());
        }
        Ok(req)
    }
}

#[pymethods]
impl Client {
    /// See `python/incluster/_native.pyi` for the documentation of every argument.
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
            Some(s) => Config::new(s).map_err(err)?,
            None => Config::in_cluster(serviceaccount_dir.as_deref()).map_err(err)?,
        };
        if token.is_some() && token_file.is_some() {
            return Err(PyValueError::new_err(
                "give token= or token_file=, not both",
            ));
        }
        if let Some(t) = token {
            cfg = cfg.with_token(t);
        }
        if let Some(f) = token_file {
            cfg = cfg.with_token_file(f);
        }
        match (ca_file, ca_pem) {
            (Some(_), Some(_)) => {
                return Err(PyValueError::new_err("give ca_file= or ca_pem=, not both"));
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
            cfg.max_attempts = n.max(1);
        }
        if let Some((qps, burst)) = rate_limit {
            if !(qps.is_finite() && qps > 0.0) {
                return Err(PyValueError::new_err("rate_limit qps must be > 0"));
            }
            cfg.rate_limit = Some(RateLimit { qps, burst });
        }
        if danger_insecure_skip_tls_verify {
            cfg = cfg.danger_insecure_skip_tls_verify();
        }
        Ok(Client {
            inner: CoreClient::new(cfg).map_err(err)?,
        })
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
    #[pyo3(signature = (method, path, *, params=None, json=None, data=None, content_type=None))]
    fn request<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        path: &str,
        params: Option<&Bound<'py, PyAny>>,
        json: Option<&Bound<'py, PyAny>>,
        data: Option<&Bound<'py, PyAny>>,
        content_type: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = Self::build(method, path, params, json, data, content_type)?;
        parse(py, &self.send(py, req)?)
    }

    /// Any request; returns a Response with the status, headers and raw body.
    #[pyo3(signature = (method, path, *, params=None, json=None, data=None, content_type=None))]
    fn request_raw(
        &self,
        py: Python<'_>,
        method: &str,
        path: &str,
        params: Option<&Bound<'_, PyAny>>,
        json: Option<&Bound<'_, PyAny>>,
        data: Option<&Bound<'_, PyAny>>,
        content_type: Option<&str>,
    ) -> PyResult<Response> {
        let req = Self::build(method, path, params, json, data, content_type)?;
        Ok(Response {
            inner: self.send(py, req)?,
        })
    }

    /// GET; returns the parsed JSON body.
    #[pyo3(signature = (path, *, params=None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        path: &str,
        params: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = Self::build("GET", path, params, None, None, None)?;
        parse(py, &self.send(py, req)?)
    }

    /// POST; returns the parsed JSON body.
    #[pyo3(signature = (path, json=None, *, data=None, content_type=None, params=None))]
    fn post<'py>(
        &self,
        py: Python<'py>,
        path: &str,
        json: Option<&Bound<'py, PyAny>>,
        data: Option<&Bound<'py, PyAny>>,
        content_type: Option<&str>,
        params: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = Self::build("POST", path, params, json, data, content_type)?;
        parse(py, &self.send(py, req)?)
    }

    /// PUT; returns the parsed JSON body.
    #[pyo3(signature = (path, json=None, *, data=None, content_type=None, params=None))]
    fn put<'py>(
        &self,
        py: Python<'py>,
        path: &str,
        json: Option<&Bound<'py, PyAny>>,
        data: Option<&Bound<'py, PyAny>>,
        content_type: Option<&str>,
        params: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = Self::build("PUT", path, params, json, data, content_type)?;
        parse(py, &self.send(py, req)?)
    }

    /// DELETE (optionally with a DeleteOptions body); returns the parsed JSON body.
    #[pyo3(signature = (path, *, json=None, params=None))]
    fn delete<'py>(
        &self,
        py: Python<'py>,
        path: &str,
        json: Option<&Bound<'py, PyAny>>,
        params: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = Self::build("DELETE", path, params, json, None, None)?;
        parse(py, &self.send(py, req)?)
    }

    /// PATCH with a patch type: "merge" (default), "json", "strategic" or "apply".
    #[pyo3(signature = (path, json=None, *, data=None, patch_type="merge", field_manager=None,
        force=false, params=None))]
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
    ) -> PyResult<Bound<'py, PyAny>> {
        let pt = PatchType::from_name(patch_type, field_manager, force).ok_or_else(|| {
            PyValueError::new_err(format!(
                "patch_type {patch_type:?} is not one of \"json\", \"merge\", \"strategic\", \"apply\""
            ))
        })?;
        let Some((b, _)) = body(json, data, None)? else {
            return Err(PyValueError::new_err("patch needs json= or data="));
        };
        let mut req = Request::patch(path, &pt, b);
        req.query.extend(query_params(params)?);
        parse(py, &self.send(py, req)?)
    }

    /// Who the server says the caller is (SelfSubjectReview), with the token's claims.
    fn whoami<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let inner = &self.inner;
        let v = run(py, || whoami(inner))?;
        loads(py, &serde_json::to_vec(&v).unwrap_or_default())
            .map_err(|e| to_py(py, &Error::Decode(e.to_string())))
    }

    /// Whether the caller may do `verb` on `resource` (SelfSubjectAccessReview).
    #[pyo3(signature = (verb, resource, *, namespace=None, name=None, subresource=None))]
    fn can_i(
        &self,
        py: Python<'_>,
        verb: &str,
        resource: &str,
        namespace: Option<String>,
        name: Option<String>,
        subresource: Option<String>,
    ) -> PyResult<bool> {
        let q = AccessQuery {
            verb: verb.to_owned(),
            resource: resource.to_owned(),
            namespace,
            name: name.unwrap_or_default(),
            subresource: subresource.unwrap_or_default(),
        };
        let inner = &self.inner;
        Ok(run(py, || can_i(inner, &q))?.allowed)
    }

    /// Watch a collection: an iterator of WatchEvent (see the stubs for every option), or,
    /// with `callback=`, call it for each event until it returns False or raises.
    #[pyo3(signature = (path, *, label_selector=None, field_selector=None, resource_version=None,
        resource_version_match=None, timeout_seconds=None, allow_bookmarks=true, bookmarks=false,
        send_initial_events=false, params=None, max_event_bytes=None, resume=true,
        on_gone="relist", idle_timeout=None, backoff=None, callback=None))]
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
        let w = open_watch(py, &self.inner, path, opts)?;
        match callback {
            Some(cb) => {
                w.run_callback(py, cb)?;
                Ok(None)
            }
            None => Ok(Some(Py::new(py, w)?)),
        }
    }

    /// Read a pod's log: an iterator of lines (str; bytes with `as_bytes=True`), or, with
    /// `callback=`, call it for each line until it returns False or raises.
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

    /// Refuse further requests. Idempotent. Watches and log reads already open keep running:
    /// each owns its connection, as in C.
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

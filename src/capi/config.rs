//! `incluster_config`: explicit or discovered settings, adjusted before building a client.

use std::ffi::c_char;
use std::path::Path;
use std::time::Duration;

use crate::capi::error::incluster_error;
use crate::capi::guard::{Failure, bytes, guard, opt_str, req_str};
use crate::capi::handle::{Handle, Out};
use crate::capi::result::incluster_result;
use crate::core::auth::secret::Secret;
use crate::core::config::{Config, RateLimit, TokenConfig};
use crate::core::error::Error;
use crate::core::tls::Trust;
use crate::core::tls::roots::CaSource;

/// Settings for a client. Owned by one thread at a time (the setters change it in place, so
/// no two threads may call them on one config at once); free with `incluster_config_free`
/// (building a client copies what it needs, so the config may be freed right after).
pub struct incluster_config {
    pub(crate) inner: Config,
}

impl Handle for incluster_config {
    const PARAM: &'static str = "config";
}

/// Start a configuration for an explicit server URL (`https://host:port` or, for the
/// `kubectl proxy` route, `http://127.0.0.1:8001`), as kubectl's `--server` does in a pod:
/// for an `https://` server the pod's ServiceAccount token, `ca.crt` and namespace are kept
/// when the token file exists (`$INCLUSTER_SERVICEACCOUNT_DIR`, else the kubelet's path), and
/// the setters override each. Without a ServiceAccount token, `incluster_client_new` fails
/// with `INCLUSTER_ERR_CONFIG` unless a token is set or `incluster_config_clear_token` asks
/// for anonymous requests, so a client never goes out as `system:anonymous` silently. An
/// `http://` server is anonymous (the pod's token is never sent over plain HTTP).
///
/// On success writes a new config to `*out` (free with `incluster_config_free`).
/// Errors: `INCLUSTER_ERR_NULL_ARGUMENT`, `INCLUSTER_ERR_INVALID_UTF8`, `INCLUSTER_ERR_CONFIG`
/// (bad URL). Thread-safe.
///
/// # Safety
/// `server` is a NUL-terminated string; `out` points to writable storage for one pointer;
/// `err` is NULL or points to writable storage for one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_config_new(
    server: *const c_char,
    out: *mut *mut incluster_config,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract for both pointers.
        let (out, server) = unsafe { (Out::new(out, "out")?, req_str(server, "server")?) };
        let inner = Config::for_server(server, None)?;
        out.write(incluster_config { inner }.into_raw());
        Ok(())
    })
}

/// Discover the in-cluster configuration: `KUBERNETES_SERVICE_HOST`/`_PORT`, and `token`,
/// `ca.crt`, `namespace` from the ServiceAccount directory (`serviceaccount_dir`, or NULL for
/// `$INCLUSTER_SERVICEACCOUNT_DIR`, else `/var/run/secrets/kubernetes.io/serviceaccount`).
///
/// On success writes a new config to `*out`. Errors: `INCLUSTER_ERR_CONFIG` with a message
/// naming the missing piece, `INCLUSTER_ERR_NULL_ARGUMENT`, `INCLUSTER_ERR_INVALID_UTF8`.
/// Thread-safe.
///
/// # Safety
/// `serviceaccount_dir` is NULL or a NUL-terminated string; `out` points to writable storage
/// for one pointer; `err` is NULL or points to writable storage for one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_config_in_cluster(
    serviceaccount_dir: *const c_char,
    out: *mut *mut incluster_config,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract for both pointers.
        let (out, dir) = unsafe {
            (
                Out::new(out, "out")?,
                opt_str(serviceaccount_dir, "serviceaccount_dir")?,
            )
        };
        let inner = Config::in_cluster(dir.map(Path::new))?;
        out.write(incluster_config { inner }.into_raw());
        Ok(())
    })
}

/// Run a setter on a non-NULL config, changing its fields in place (no copy of the config,
/// whose CA bundle may be large). A setter that fails leaves the config as it was.
///
/// # Safety
/// `config` is NULL or a live config owned by the calling thread.
unsafe fn with_config(
    config: *mut incluster_config,
    err: *mut *mut incluster_error,
    f: impl FnOnce(&mut Config) -> Result<(), Failure>,
) -> incluster_result {
    guard(err, || {
        // SAFETY: the caller promises `config` is NULL or a live config it owns.
        let c = unsafe { incluster_config::arg_mut(config) }?;
        f(&mut c.inner)
    })
}

/// Use a fixed bearer token. Errors: `INCLUSTER_ERR_CONFIG` if it is empty or not sendable in
/// a header (checked when the client is built), NULL and UTF-8 errors.
/// NULL `config` or `token` is `INCLUSTER_ERR_NULL_ARGUMENT`. Changes the config in place: call it
/// from the thread that owns the config, never while another thread uses it.
///
/// # Safety
/// `config` is a live config owned by the calling thread; `token` a NUL-terminated string;
/// `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_config_set_token(
    config: *mut incluster_config,
    token: *const c_char,
    err: *mut *mut incluster_error,
) -> incluster_result {
    // SAFETY: caller contract for every pointer.
    unsafe {
        with_config(config, err, |c| {
            c.token = TokenConfig::Token(Secret::new(req_str(token, "token")?));
            Ok(())
        })
    }
}

/// Read the token from a file, re-read whenever the file changes (kubelet rotation) and once
/// more after a 401.
/// NULL `config` or `path` is `INCLUSTER_ERR_NULL_ARGUMENT`. Changes the config in place: call it
/// from the thread that owns the config, never while another thread uses it.
///
/// # Safety
/// `config` is a live config owned by the calling thread; `path` a NUL-terminated string;
/// `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_config_set_token_file(
    config: *mut incluster_config,
    path: *const c_char,
    err: *mut *mut incluster_error,
) -> incluster_result {
    // SAFETY: caller contract for every pointer.
    unsafe {
        with_config(config, err, |c| {
            c.token = TokenConfig::File(req_str(path, "path")?.into());
            Ok(())
        })
    }
}

/// Make requests without a token (anonymous; the `kubectl proxy` route, or a server that
/// allows anonymous access): drops a kept ServiceAccount token, and lets a client for an
/// `https://` server be built without one.
/// NULL `config` is `INCLUSTER_ERR_NULL_ARGUMENT`. Changes the config in place: call it from the
/// thread that owns the config, never while another thread uses it.
///
/// # Safety
/// `config` is a live config owned by the calling thread; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_config_clear_token(
    config: *mut incluster_config,
    err: *mut *mut incluster_error,
) -> incluster_result {
    // SAFETY: caller contract.
    unsafe {
        with_config(config, err, |c| {
            c.token = TokenConfig::None;
            c.require_token = false;
            Ok(())
        })
    }
}

/// Trust only the CA certificates in this PEM file (re-read when it changes).
/// NULL `config` or `path` is `INCLUSTER_ERR_NULL_ARGUMENT`. Changes the config in place: call it
/// from the thread that owns the config, never while another thread uses it.
///
/// # Safety
/// `config` is a live config owned by the calling thread; `path` a NUL-terminated string;
/// `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_config_set_ca_file(
    config: *mut incluster_config,
    path: *const c_char,
    err: *mut *mut incluster_error,
) -> incluster_result {
    // SAFETY: caller contract for every pointer.
    unsafe {
        with_config(config, err, |c| {
            c.trust = Some(Trust::Ca(CaSource::File(req_str(path, "path")?.into())));
            Ok(())
        })
    }
}

/// Trust only the CA certificates in this PEM buffer (copied).
/// NULL `config`, or NULL `pem` with a non-zero `len`, is `INCLUSTER_ERR_NULL_ARGUMENT`.
/// Changes the config in place: call it from the thread that owns the config, never while
/// another thread uses it.
///
/// # Safety
/// `config` is a live config owned by the calling thread; `pem` points to `len` readable
/// bytes; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_config_set_ca_pem(
    config: *mut incluster_config,
    pem: *const u8,
    len: usize,
    err: *mut *mut incluster_error,
) -> incluster_result {
    // SAFETY: caller contract for every pointer.
    unsafe {
        with_config(config, err, |c| {
            c.trust = Some(Trust::Ca(CaSource::Pem(bytes(pem, len, "pem")?.to_vec())));
            Ok(())
        })
    }
}

/// Set the default namespace (`incluster_client_namespace` returns it).
/// NULL `config` or `ns` is `INCLUSTER_ERR_NULL_ARGUMENT`. Changes the config in place: call it
/// from the thread that owns the config, never while another thread uses it.
///
/// # Safety
/// `config` is a live config owned by the calling thread; `ns` a NUL-terminated string;
/// `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_config_set_namespace(
    config: *mut incluster_config,
    ns: *const c_char,
    err: *mut *mut incluster_error,
) -> incluster_result {
    // SAFETY: caller contract for every pointer.
    unsafe {
        with_config(config, err, |c| {
            c.namespace = req_str(ns, "ns")?.to_owned();
            Ok(())
        })
    }
}

/// Set the connect timeout and the whole-request timeout in milliseconds. `request_ms` 0
/// means no limit; `connect_ms` 0 is an `INCLUSTER_ERR_INVALID_ARGUMENT`.
/// Defaults: 10 s connect, 60 s per request.
/// NULL `config` is `INCLUSTER_ERR_NULL_ARGUMENT`. Changes the config in place: call it from the
/// thread that owns the config, never while another thread uses it.
///
/// # Safety
/// `config` is a live config owned by the calling thread; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_config_set_timeouts(
    config: *mut incluster_config,
    connect_ms: u32,
    request_ms: u32,
    err: *mut *mut incluster_error,
) -> incluster_result {
    // SAFETY: caller contract.
    unsafe {
        with_config(config, err, |c| {
            if connect_ms == 0 {
                return Err(Error::invalid("connect_ms must be > 0").into());
            }
            c.connect_timeout = Duration::from_millis(connect_ms.into());
            c.request_timeout = (request_ms > 0).then(|| Duration::from_millis(request_ms.into()));
            Ok(())
        })
    }
}

/// Limit this client to `qps` requests per second with bursts of `burst` (token bucket,
/// shared by all threads using the client). Off by default. `qps` must be a number > 0 and
/// `burst` at least 1, else `INCLUSTER_ERR_INVALID_ARGUMENT` (the same rule as Python's
/// `rate_limit=`). Changes the config in place: call it from the thread that owns the config,
/// never while another thread uses it.
/// NULL `config` is `INCLUSTER_ERR_NULL_ARGUMENT`.
///
/// # Safety
/// `config` is a live config owned by the calling thread; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_config_set_rate_limit(
    config: *mut incluster_config,
    qps: f64,
    burst: u32,
    err: *mut *mut incluster_error,
) -> incluster_result {
    // SAFETY: caller contract.
    unsafe {
        with_config(config, err, |c| {
            c.rate_limit = Some(RateLimit::new(qps, burst)?);
            Ok(())
        })
    }
}

/// DANGER: accept any server certificate. This removes all protection against a man in the
/// middle and exists for debugging only. Never on unless this function is called.
/// NULL `config` is `INCLUSTER_ERR_NULL_ARGUMENT`. Changes the config in place: call it from the
/// thread that owns the config, never while another thread uses it.
///
/// # Safety
/// `config` is a live config owned by the calling thread; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_config_danger_insecure_skip_tls_verify(
    config: *mut incluster_config,
    err: *mut *mut incluster_error,
) -> incluster_result {
    // SAFETY: caller contract.
    unsafe {
        with_config(config, err, |c| {
            c.trust = Some(Trust::DangerInsecureSkipVerify);
            Ok(())
        })
    }
}

/// Free a config. NULL is a no-op. Clients built from it are not affected. No other thread
/// may be using it.
///
/// # Safety
/// `config` is NULL or a config from `incluster_config_new`/`_in_cluster`, freed at most once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_config_free(config: *mut incluster_config) {
    // SAFETY: made by `Handle::into_raw`; freed once per the contract.
    unsafe { incluster_config::free(config) }
}

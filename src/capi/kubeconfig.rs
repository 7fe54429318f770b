//! Kubeconfig and discovery from C: `incluster_config_from_kubeconfig`,
//! `incluster_config_discover`, the `incluster_client_new_*` shortcuts for them, and
//! `incluster_client_source`. The core does the work (`core::kubeconfig`); this only converts.

use std::ffi::c_char;
use std::path::Path;

use crate::capi::client::incluster_client;
use crate::capi::config::incluster_config;
use crate::capi::error::incluster_error;
use crate::capi::guard::{guard, guard_value, opt_str};
use crate::capi::handle::{Handle, Out};
use crate::capi::result::incluster_result;
use crate::capi::strings::owned_string;
use crate::core::client::Client;
use crate::core::config::Config;
use crate::core::info::source_json;

/// Start a configuration from a kubeconfig: the file `path` (NULL: the `KUBECONFIG` list,
/// merged as kubectl merges it, else `~/.kube/config`) and the context `context` (NULL: the
/// file's `current-context`). Tokens, `tokenFile`, client certificates, exec credential
/// plugins, `tls-server-name` and `proxy-url` are supported; an `auth-provider` or basic
/// auth is an error naming it. The setters then adjust the config as for any other.
///
/// On success writes a new config to `*out` (free with `incluster_config_free`).
/// Errors: `INCLUSTER_ERR_CONFIG` with a message naming the file, the context or user and the
/// problem (never a token or key); `INCLUSTER_ERR_NULL_ARGUMENT` for a NULL `out`;
/// `INCLUSTER_ERR_INVALID_UTF8`. NULL `path` and `context` choose the defaults above.
/// Thread-safe.
///
/// # Safety
/// `path` and `context` are NULL or NUL-terminated strings; `out` points to writable storage
/// for one pointer; `err` is NULL or points to writable storage for one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_config_from_kubeconfig(
    path: *const c_char,
    context: *const c_char,
    out: *mut *mut incluster_config,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract for every pointer.
        let (out, path, context) = unsafe {
            (
                Out::new(out, "out")?,
                opt_str(path, "path")?,
                opt_str(context, "context")?,
            )
        };
        let inner = Config::from_kubeconfig(path.map(Path::new), context)?;
        out.write(incluster_config { inner }.into_raw());
        Ok(())
    })
}

/// Discover the configuration the way every front does by default: in-cluster when
/// `KUBERNETES_SERVICE_HOST` is set (the ServiceAccount directory `serviceaccount_dir`, NULL
/// for the default), else the kubeconfig (`KUBECONFIG`, else `~/.kube/config`) with its
/// current context. So one program runs unchanged in a pod and on a laptop.
///
/// On success writes a new config to `*out`. Errors: `INCLUSTER_ERR_CONFIG` naming the missing
/// piece (in a pod) or the kubeconfig problem; `INCLUSTER_ERR_NULL_ARGUMENT` for a NULL `out`;
/// `INCLUSTER_ERR_INVALID_UTF8`. Thread-safe.
///
/// # Safety
/// `serviceaccount_dir` is NULL or a NUL-terminated string; `out` points to writable storage
/// for one pointer; `err` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_config_discover(
    serviceaccount_dir: *const c_char,
    out: *mut *mut incluster_config,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract for every pointer.
        let (out, dir) = unsafe {
            (
                Out::new(out, "out")?,
                opt_str(serviceaccount_dir, "serviceaccount_dir")?,
            )
        };
        let inner = Config::discover(dir.map(Path::new))?;
        out.write(incluster_config { inner }.into_raw());
        Ok(())
    })
}

/// Build a client from a kubeconfig (see `incluster_config_from_kubeconfig` for `path` and
/// `context`, both may be NULL). Files named by the kubeconfig (CA, token file, client
/// certificate) are read now; an exec plugin runs at the first request.
///
/// On success writes the client to `*out` (free with `incluster_client_free`). Errors as for
/// `incluster_config_from_kubeconfig`. NULL `out` is `INCLUSTER_ERR_NULL_ARGUMENT`.
/// Thread-safe.
///
/// # Safety
/// `path` and `context` are NULL or NUL-terminated strings; `out` points to writable storage
/// for one pointer; `err` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_client_new_from_kubeconfig(
    path: *const c_char,
    context: *const c_char,
    out: *mut *mut incluster_client,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract for every pointer.
        let (out, path, context) = unsafe {
            (
                Out::new(out, "out")?,
                opt_str(path, "path")?,
                opt_str(context, "context")?,
            )
        };
        let client = Client::new(Config::from_kubeconfig(path.map(Path::new), context)?)?;
        out.write(incluster_client::wrap(client).into_raw());
        Ok(())
    })
}

/// Build a client from the discovered configuration (see `incluster_config_discover`):
/// in-cluster in a pod, else the kubeconfig.
///
/// On success writes the client to `*out` (free with `incluster_client_free`); NULL `out` is
/// `INCLUSTER_ERR_NULL_ARGUMENT`. Errors: `INCLUSTER_ERR_CONFIG` naming the problem.
/// Thread-safe.
///
/// # Safety
/// `out` points to writable storage for one pointer; `err` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_client_new_default(
    out: *mut *mut incluster_client,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract.
        let out = unsafe { Out::new(out, "out") }?;
        out.write(incluster_client::wrap(Client::new(Config::discover(None)?)?).into_raw());
        Ok(())
    })
}

/// Where the client's settings came from, as JSON: `{"type":"in-cluster"}`,
/// `{"type":"explicit"}` or `{"type":"kubeconfig","files":[...],"context":"..."}` (the same
/// object as `incluster info`'s `source`). Owned: free with `incluster_string_free`. NULL
/// `client` gives NULL. Thread-safe.
///
/// # Safety
/// `client` is NULL or a live client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_client_source(client: *const incluster_client) -> *mut c_char {
    guard_value(std::ptr::null_mut(), || {
        // SAFETY: caller contract.
        match unsafe { incluster_client::opt(client) } {
            Some(c) => owned_string(&source_json(&c.inner.config().source).to_string()),
            None => std::ptr::null_mut(),
        }
    })
}

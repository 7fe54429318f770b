//! `incluster_client`: the thread-safe handle every request goes through.

use std::ffi::{CString, c_char};

use crate::capi::config::incluster_config;
use crate::capi::error::incluster_error;
use crate::capi::guard::{cstring_lossy, guard, guard_value};
use crate::capi::handle::{Handle, Out};
use crate::capi::result::incluster_result;
use crate::core::client::Client;

/// A client for one API server: immutable and thread-safe. Share one pointer between any number
/// of threads; free it once, after every call using it has returned.
pub struct incluster_client {
    pub(crate) inner: Client,
    namespace: CString,
    server: CString,
}

impl Handle for incluster_client {
    const PARAM: &'static str = "client";
}

impl incluster_client {
    pub(crate) fn wrap(inner: Client) -> Self {
        incluster_client {
            namespace: cstring_lossy(inner.namespace()),
            server: cstring_lossy(inner.server()),
            inner,
        }
    }
}

/// Build a client from the in-cluster configuration (the ServiceAccount files and
/// `KUBERNETES_SERVICE_HOST`/`_PORT`). The token and `ca.crt` are read now, so a missing or
/// broken file fails here with `INCLUSTER_ERR_CONFIG` and a message naming it.
///
/// On success writes the client to `*out` (free with `incluster_client_free`); NULL `out` is
/// `INCLUSTER_ERR_NULL_ARGUMENT`. Thread-safe.
///
/// # Safety
/// `out` points to writable storage for one pointer; `err` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_client_new_in_cluster(
    out: *mut *mut incluster_client,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract.
        let out = unsafe { Out::new(out, "out") }?;
        out.write(incluster_client::wrap(Client::in_cluster()?).into_raw());
        Ok(())
    })
}

/// Build a client from an explicit configuration. The config is not consumed (free it
/// yourself, before or after the client). Errors as for `incluster_client_new_in_cluster`,
/// and `INCLUSTER_ERR_NULL_ARGUMENT` for a NULL `config` or `out`. Thread-safe, as long as
/// no other thread is changing `config` at the same time.
///
/// # Safety
/// `config` is a live config; `out` points to writable storage for one pointer; `err` is NULL
/// or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_client_new(
    config: *const incluster_config,
    out: *mut *mut incluster_client,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract for both pointers.
        let (out, c) = unsafe { (Out::new(out, "out")?, incluster_config::arg(config)?) };
        out.write(incluster_client::wrap(Client::new(c.inner.clone())?).into_raw());
        Ok(())
    })
}

/// The client's default namespace. Borrowed: valid until `incluster_client_free`. NULL
/// `client` gives `""`. Thread-safe.
///
/// # Safety
/// `client` is NULL or a live client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_client_namespace(
    client: *const incluster_client,
) -> *const c_char {
    guard_value(c"".as_ptr(), || {
        // SAFETY: caller contract.
        unsafe { incluster_client::opt(client) }.map_or(c"".as_ptr(), |c| c.namespace.as_ptr())
    })
}

/// The server's base URL. Borrowed: valid until `incluster_client_free`. NULL `client` gives
/// `""`. Thread-safe.
///
/// # Safety
/// `client` is NULL or a live client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_client_server(client: *const incluster_client) -> *const c_char {
    guard_value(c"".as_ptr(), || {
        // SAFETY: caller contract.
        unsafe { incluster_client::opt(client) }.map_or(c"".as_ptr(), |c| c.server.as_ptr())
    })
}

/// Free a client and its connection pool. NULL is a no-op. No other thread may be using the
/// client when it is freed; watches and log streams opened from it keep what they need and
/// stay usable.
///
/// # Safety
/// `client` is NULL or a client from `incluster_client_new*`, freed at most once, with no call
/// using it still running.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_client_free(client: *mut incluster_client) {
    // SAFETY: made by `Handle::into_raw`; freed once per the contract.
    unsafe { incluster_client::free(client) }
}

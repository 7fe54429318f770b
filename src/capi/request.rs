//! `incluster_request` and friends: any API call, returning an `incluster_response`.

use std::ffi::{c_char, c_int};

use crate::capi::client::incluster_client;
use crate::capi::error::incluster_error;
use crate::capi::guard::{Failure, bytes, guard, opt_str, read_pairs, req_str};
use crate::capi::handle::{Handle, Out};
use crate::capi::response::incluster_response;
use crate::capi::result::incluster_result;
use crate::core::api::patch::{Patch, PatchType};
use crate::core::api::request::Request;
use crate::core::error::Error;

/// Patch types for `incluster_patch` (see "Patch operations" in the Kubernetes API
/// conventions).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum incluster_patch_type {
    /// RFC 6902 JSON Patch (`application/json-patch+json`).
    INCLUSTER_PATCH_JSON = 1,
    /// RFC 7386 JSON Merge Patch (`application/merge-patch+json`).
    INCLUSTER_PATCH_MERGE = 2,
    /// Strategic merge patch (`application/strategic-merge-patch+json`).
    INCLUSTER_PATCH_STRATEGIC = 3,
    /// Server-side apply (`application/apply-patch+yaml`; JSON is valid YAML).
    INCLUSTER_PATCH_APPLY = 4,
}

/// Read a NULL-terminated `key, value, key, value, ..., NULL` array.
///
/// # Safety
/// `params` is NULL or a NULL-terminated array of NUL-terminated strings.
unsafe fn read_params(params: *const *const c_char) -> Result<Vec<(String, String)>, Failure> {
    // SAFETY: forwarded contract.
    Ok(unsafe { read_pairs(params, "params") }?
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

fn run(
    client: &incluster_client,
    req: &Request,
    out: Out<*mut incluster_response>,
) -> Result<(), Failure> {
    let resp = client.inner.request(req)?;
    out.write(incluster_response::from_core(resp).into_raw());
    Ok(())
}

/// Make any API request.
///
/// - `method`: `"GET"`, `"HEAD"`, `"POST"`, `"PUT"`, `"PATCH"`, `"DELETE"` or `"OPTIONS"`
///   (any case); anything else is `INCLUSTER_ERR_INVALID_ARGUMENT` naming it, before
///   anything is sent.
/// - `path`: the API path, starting with `/` (a `?query` in it is sent as given), or a
///   resource by name (`pods`, `cm/x`, `deploy/web`, `jobs.batch`, a CRD's names), resolved
///   in the client's namespace as `incluster_resolve` does (which also takes a namespace and
///   all-namespaces); an unknown name is `INCLUSTER_ERR_INVALID_ARGUMENT` listing the close
///   matches.
/// - `params`: NULL, or a NULL-terminated array `{"key", "value", ..., NULL}` of query
///   parameters; keys and values are percent-encoded.
/// - `body`/`body_len`: the request body; NULL with length 0 sends none (a non-NULL pointer
///   with length 0 sends an empty body); NULL with a length is refused
///   (`INCLUSTER_ERR_NULL_ARGUMENT`), since it is a caller's mistake, not a wish for no body.
/// - `content_type`: NULL for `application/json`.
///
/// On a 2xx answer writes the response to `*out` (free with `incluster_response_free`).
/// A non-2xx answer returns its code (`INCLUSTER_ERR_NOT_FOUND`, `INCLUSTER_ERR_FORBIDDEN`,
/// `INCLUSTER_ERR_API`, ...) with the HTTP status, the `Status` reason and message and the raw
/// body in `*err`. Transport, TLS, timeout and argument errors have their own codes.
/// A 401 re-reads the token file and retries once; 429/503/504 with `Retry-After` are retried.
/// A NULL `client`, `method`, `path` or `out` is `INCLUSTER_ERR_NULL_ARGUMENT`.
/// Blocks the calling thread; thread-safe (many threads may share one client).
///
/// # Safety
/// `client` is a live client; `method`, `path` NUL-terminated strings; `params` NULL or a
/// NULL-terminated array of NUL-terminated strings; `body` NULL or `body_len` readable bytes;
/// `content_type` NULL or NUL-terminated; `out` writable; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_request(
    client: *const incluster_client,
    method: *const c_char,
    path: *const c_char,
    params: *const *const c_char,
    body: *const u8,
    body_len: usize,
    content_type: *const c_char,
    out: *mut *mut incluster_response,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract for every pointer.
        let (client, out, method, path, query, body, ct) = unsafe {
            (
                incluster_client::arg(client)?,
                Out::new(out, "out")?,
                req_str(method, "method")?,
                req_str(path, "path")?,
                read_params(params)?,
                // A body is sent when the pointer is not NULL (so an empty body is possible);
                // `bytes` refuses NULL with a length.
                (!body.is_null() || body_len > 0)
                    .then(|| bytes(body, body_len, "body"))
                    .transpose()?,
                opt_str(content_type, "content_type")?,
            )
        };
        let path = &client.inner.target_path(path, None, false)?;
        let mut req = Request::new(method, path);
        req.query = query;
        if let Some(body) = body {
            req = req.with_body(body.to_vec(), ct);
        }
        run(client, &req, out)
    })
}

/// `GET path`: the common case of `incluster_request`. Same paths and names, results,
/// ownership, NULL handling and thread-safety.
///
/// # Safety
/// `client` is a live client; `path` a NUL-terminated string; `out` writable; `err` NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_get(
    client: *const incluster_client,
    path: *const c_char,
    out: *mut *mut incluster_response,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract for every pointer.
        let (client, out, path) = unsafe {
            (
                incluster_client::arg(client)?,
                Out::new(out, "out")?,
                req_str(path, "path")?,
            )
        };
        let path = &client.inner.target_path(path, None, false)?;
        run(client, &Request::new("GET", path), out)
    })
}

/// `PATCH path` (a path or a name, as for `incluster_request`) with the content type of `patch_type` (one of `incluster_patch_type`).
/// `field_manager` is sent as `fieldManager` for every patch type (NULL sends none, except
/// for `INCLUSTER_PATCH_APPLY`, which the server rejects without one: NULL gives
/// `"incluster"`); an empty one is refused. `force` takes over fields other managers own and
/// is only valid for `INCLUSTER_PATCH_APPLY`: `true` with another type is
/// `INCLUSTER_ERR_INVALID_ARGUMENT` naming `force` and the type, as is an unknown
/// `patch_type`. Results, ownership, NULL handling and thread-safety as for
/// `incluster_request`.
///
/// # Safety
/// `client` is a live client; `path` a NUL-terminated string; `body` NULL or `body_len`
/// readable bytes; `field_manager` NULL or NUL-terminated; `out` writable; `err` NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_patch(
    client: *const incluster_client,
    path: *const c_char,
    patch_type: c_int,
    body: *const u8,
    body_len: usize,
    field_manager: *const c_char,
    force: bool,
    out: *mut *mut incluster_response,
    err: *mut *mut incluster_error,
) -> incluster_result {
    use incluster_patch_type as P;
    guard(err, || {
        // SAFETY: caller contract for every pointer.
        let (client, out, path, body, fm) = unsafe {
            (
                incluster_client::arg(client)?,
                Out::new(out, "out")?,
                req_str(path, "path")?,
                bytes(body, body_len, "body")?,
                opt_str(field_manager, "field_manager")?,
            )
        };
        let kind = match patch_type {
            x if x == P::INCLUSTER_PATCH_JSON as c_int => PatchType::Json,
            x if x == P::INCLUSTER_PATCH_MERGE as c_int => PatchType::Merge,
            x if x == P::INCLUSTER_PATCH_STRATEGIC as c_int => PatchType::StrategicMerge,
            x if x == P::INCLUSTER_PATCH_APPLY as c_int => PatchType::Apply,
            other => {
                return Err(
                    Error::invalid(format!("patch_type {other} is not a patch type")).into(),
                );
            }
        };
        let patch = Patch::new(kind, fm, force)?;
        let path = &client.inner.target_path(path, None, false)?;
        run(client, &Request::patch(path, &patch, body.to_vec()), out)
    })
}

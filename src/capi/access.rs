//! `incluster_whoami` and `incluster_can_i`.

use std::ffi::c_char;

use crate::capi::client::incluster_client;
use crate::capi::error::incluster_error;
use crate::capi::guard::{guard, opt_str, req_str};
use crate::capi::handle::{Handle, Out};
use crate::capi::result::incluster_result;
use crate::capi::strings::owned_string;
use crate::core::api::access::{AccessQuery, can_i, whoami};

/// The caller's identity as a JSON object: `username`, `uid`, `groups`, `extra`, `source`
/// (`"SelfSubjectReview"`, or `"token claims"` on servers without that API) and the token's
/// decoded `claims` (never the token itself).
///
/// On success writes a NUL-terminated JSON string to `*json_out`; free it with
/// `incluster_string_free`. Errors as for `incluster_request`; NULL `client` or `json_out` is
/// `INCLUSTER_ERR_NULL_ARGUMENT`. Blocks the calling thread; thread-safe.
///
/// # Safety
/// `client` is a live client; `json_out` points to writable storage for one pointer; `err` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_whoami(
    client: *const incluster_client,
    json_out: *mut *mut c_char,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract for both pointers.
        let (c, out) = unsafe {
            (
                incluster_client::arg(client)?,
                Out::new(json_out, "json_out")?,
            )
        };
        let v = whoami(&c.inner)?;
        out.write(owned_string(&v.to_string()));
        Ok(())
    })
}

/// Ask the server whether the caller may do `verb` on `resource` (SelfSubjectAccessReview, as
/// `kubectl auth can-i`).
///
/// - `verb`: any case (`"GET"` is asked as `"get"`).
/// - `resource`: `"pods"`, `"deployments.apps"` (RESOURCE.GROUP), or a non-resource URL such
///   as `"/healthz"`.
/// - `namespace`: NULL for the client's namespace, `""` for cluster-wide.
/// - `name`, `subresource`: NULL or `""` for none.
///
/// On success writes the answer to `*allowed` and, when `reason_out` is not NULL, the
/// authorizer's reason to `*reason_out` (free with `incluster_string_free`). A verb the API
/// does not know is asked anyway, and the reason then starts with the warning kubectl
/// prints, `"warning: verb 'foo' is not a known verb"` (joined to the authorizer's reason
/// by `"; "`). A "no" is a success with `*allowed == false`. NULL `client`, `verb`, `resource`
/// or `allowed` is `INCLUSTER_ERR_NULL_ARGUMENT`. Blocks the calling thread; thread-safe.
///
/// # Safety
/// `client` is a live client; `verb`, `resource` NUL-terminated strings; `namespace`, `name`,
/// `subresource` NULL or NUL-terminated; `allowed` writable; `reason_out` NULL or writable;
/// `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_can_i(
    client: *const incluster_client,
    verb: *const c_char,
    resource: *const c_char,
    namespace: *const c_char,
    name: *const c_char,
    subresource: *const c_char,
    allowed: *mut bool,
    reason_out: *mut *mut c_char,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract for every pointer.
        let (c, allowed, reason_out, q) = unsafe {
            (
                incluster_client::arg(client)?,
                Out::new(allowed, "allowed")?,
                Out::optional(reason_out),
                AccessQuery {
                    verb: req_str(verb, "verb")?.to_owned(),
                    resource: req_str(resource, "resource")?.to_owned(),
                    namespace: opt_str(namespace, "namespace")?.map(str::to_owned),
                    name: opt_str(name, "name")?.unwrap_or_default().to_owned(),
                    subresource: opt_str(subresource, "subresource")?
                        .unwrap_or_default()
                        .to_owned(),
                },
            )
        };
        let a = can_i(&c.inner, &q)?;
        allowed.write(a.allowed);
        if let Some(reason_out) = reason_out {
            let mut parts: Vec<String> =
                a.warnings.iter().map(|w| format!("warning: {w}")).collect();
            if !a.reason.is_empty() {
                parts.push(a.reason);
            }
            reason_out.write(owned_string(&parts.join("; ")));
        }
        Ok(())
    })
}

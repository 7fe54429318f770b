//! Resources by name from C: `incluster_resolve` (a path or a kubectl name to the path to
//! request and the resource's facts) and `incluster_apply` (server-side apply of a manifest).
//! `incluster_request`, `incluster_get`, `incluster_patch` and `incluster_watch_open` take
//! the same names where they take a path. Only conversion: the rules are the core's.

use std::ffi::{CString, c_char, c_int};

use crate::capi::client::incluster_client;
use crate::capi::error::incluster_error;
use crate::capi::guard::{Failure, bytes, cstring_lossy, guard, guard_value, opt_str, req_str};
use crate::capi::handle::{Handle, Out};
use crate::capi::result::incluster_result;
use crate::core::apply::{ApplyOptions, parse_manifests};

/// The fields `incluster_resolved_get` reads.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum incluster_resolved_field {
    /// The path to request or watch: the object's for `TYPE/NAME`, else the collection's.
    INCLUSTER_RESOLVED_PATH = 0,
    /// The object's name (NULL for a collection or a path).
    INCLUSTER_RESOLVED_NAME = 1,
    /// The namespace in the path (NULL when cluster-scoped, across all namespaces, or a path).
    INCLUSTER_RESOLVED_NAMESPACE = 2,
    /// The API group (`""` for the core group; NULL for a path).
    INCLUSTER_RESOLVED_GROUP = 3,
    /// The version (NULL for a path).
    INCLUSTER_RESOLVED_VERSION = 4,
    /// The plural resource name (NULL for a path).
    INCLUSTER_RESOLVED_RESOURCE = 5,
    /// The kind (NULL for a path).
    INCLUSTER_RESOLVED_KIND = 6,
}

/// What `incluster_resolve` found: owned by the caller, freed with `incluster_resolved_free`.
/// Immutable: any thread may read it while no thread frees it.
pub struct incluster_resolved {
    fields: [Option<CString>; 7],
    namespaced: c_int,
}

impl Handle for incluster_resolved {
    const PARAM: &'static str = "resolved";
}

/// Resolve `what` — an API path (starting with `/`, returned unchanged without any request)
/// or a resource by name in kubectl's forms (`pods`, `po`, `pod/web-0`, `deploy/web`,
/// `deployments.apps/web`, `jobs.batch`, `deployments.v1.apps`, a CRD's plural, singular,
/// short name or kind; case-insensitive) — through the server's discovery documents (cached
/// per client, fetched again once when a name is not found, so a CRD created a moment ago is
/// found).
///
/// - `namespace_`: for namespaced resources; NULL for the client's namespace. Ignored by
///   cluster-scoped resources.
/// - `all_namespaces`: the collection across all namespaces (an object name is refused).
/// - With a path, a non-NULL `namespace_` or `all_namespaces` is refused.
///
/// On success writes a new `incluster_resolved` to `*out` (free with
/// `incluster_resolved_free`). An unknown or ambiguous name is
/// `INCLUSTER_ERR_INVALID_ARGUMENT` whose message lists the close matches (`no resource
/// "deploymnet"; did you mean deployments.apps?`) — never `INCLUSTER_ERR_NOT_FOUND`, which
/// is a missing object. Discovery's own failures keep their codes (transport, forbidden, ...).
/// A NULL `client`, `what` or `out` is `INCLUSTER_ERR_NULL_ARGUMENT`. May block (discovery
/// requests); thread-safe.
///
/// # Safety
/// `client` is a live client; `what` a NUL-terminated string; `namespace_` NULL or
/// NUL-terminated; `out` writable; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_resolve(
    client: *const incluster_client,
    what: *const c_char,
    namespace_: *const c_char,
    all_namespaces: bool,
    out: *mut *mut incluster_resolved,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract for every pointer.
        let (client, out, what, ns) = unsafe {
            (
                incluster_client::arg(client)?,
                Out::new(out, "out")?,
                req_str(what, "what")?,
                opt_str(namespace_, "namespace_")?,
            )
        };
        let r = client.inner.resolve(what, ns, all_namespaces)?;
        let c = |s: &str| Some(cstring_lossy(s));
        let res = r.resource.as_ref();
        let resolved = incluster_resolved {
            fields: [
                c(&r.path),
                r.name.as_deref().and_then(c),
                r.namespace.as_deref().and_then(c),
                res.and_then(|x| c(&x.group)),
                res.and_then(|x| c(&x.version)),
                res.and_then(|x| c(&x.plural)),
                res.and_then(|x| c(&x.kind)),
            ],
            namespaced: res.map_or(-1, |x| c_int::from(x.namespaced)),
        };
        out.write(resolved.into_raw());
        Ok(())
    })
}

/// One field of a resolution (`field` is an `incluster_resolved_field`): borrowed, valid until
/// `incluster_resolved_free`. NULL when the field is absent (see each field), for a NULL
/// `resolved`, or an unknown `field`. Reads only; any thread.
///
/// # Safety
/// `resolved` is NULL or a live `incluster_resolved`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_resolved_get(
    resolved: *const incluster_resolved,
    field: c_int,
) -> *const c_char {
    guard_value(std::ptr::null(), || {
        // SAFETY: caller contract.
        let Some(r) = (unsafe { incluster_resolved::opt(resolved) }) else {
            return std::ptr::null();
        };
        usize::try_from(field)
            .ok()
            .and_then(|i| r.fields.get(i))
            .and_then(Option::as_ref)
            .map_or(std::ptr::null(), |s| s.as_ptr())
    })
}

/// 1 when the resource is namespaced, 0 when cluster-scoped, -1 when unknown (the input was a
/// path) or `resolved` is NULL. Reads only; any thread.
///
/// # Safety
/// `resolved` is NULL or a live `incluster_resolved`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_resolved_namespaced(
    resolved: *const incluster_resolved,
) -> c_int {
    guard_value(-1, || {
        // SAFETY: caller contract.
        unsafe { incluster_resolved::opt(resolved) }.map_or(-1, |r| r.namespaced)
    })
}

/// Free a resolution and the strings borrowed from it. NULL is a no-op. No other thread may be
/// reading it.
///
/// # Safety
/// `resolved` is NULL or from `incluster_resolve`, freed at most once, not in use elsewhere.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_resolved_free(resolved: *mut incluster_resolved) {
    // SAFETY: made by `Handle::into_raw`; freed once per the contract.
    unsafe { incluster_resolved::free(resolved) }
}

/// Server-side apply a manifest, as `kubectl apply --server-side`: `manifest`/`manifest_len`
/// is UTF-8 YAML or JSON text (several `---` documents; a `kind: List`'s items one by one).
/// Each object's resource is found from its `apiVersion` and `kind` through discovery (CRDs
/// included) and applied with one PATCH (`application/apply-patch+yaml`).
///
/// - `field_manager`: NULL for `"incluster"`.
/// - `force`: take over fields other managers own instead of failing with
///   `INCLUSTER_ERR_CONFLICT`.
/// - `namespace_`: for namespaced objects that name none; NULL for the client's. An object
///   naming another namespace is `INCLUSTER_ERR_INVALID_ARGUMENT`.
/// - `applied`: NULL, or receives the number of objects applied (on success).
///
/// Every object is checked for `apiVersion`, `kind` and `metadata.name` before the first is
/// sent; then they are applied in order, stopping at the first failure, whose error message
/// names the document (`document 2 (ConfigMap b): ...`; counted from 1). The objects before
/// it stay applied. Text that is not YAML/JSON or a document that is not an object is
/// `INCLUSTER_ERR_INVALID_ARGUMENT`; text that is not UTF-8 `INCLUSTER_ERR_INVALID_UTF8`.
/// A NULL `client`, or NULL `manifest` with a length, is `INCLUSTER_ERR_NULL_ARGUMENT`.
/// Blocks; thread-safe.
///
/// # Safety
/// `client` is a live client; `manifest` NULL (with length 0) or `manifest_len` readable
/// bytes; `field_manager` and `namespace_` NULL or NUL-terminated; `applied` NULL or
/// writable; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_apply(
    client: *const incluster_client,
    manifest: *const u8,
    manifest_len: usize,
    field_manager: *const c_char,
    force: bool,
    namespace_: *const c_char,
    applied: *mut usize,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract for every pointer.
        let (client, text, fm, ns, applied) = unsafe {
            (
                incluster_client::arg(client)?,
                bytes(manifest, manifest_len, "manifest")?,
                opt_str(field_manager, "field_manager")?,
                opt_str(namespace_, "namespace_")?,
                Out::optional(applied),
            )
        };
        let text = std::str::from_utf8(text).map_err(|_| Failure::Utf8("manifest"))?;
        let objects = parse_manifests(text)?;
        let opts = ApplyOptions {
            field_manager: fm.map(str::to_owned),
            force,
            namespace: ns.map(str::to_owned),
        };
        let done = client.inner.apply_all(&objects, &opts, |_| Ok(()))?;
        if let Some(a) = applied {
            a.write(done.len());
        }
        Ok(())
    })
}

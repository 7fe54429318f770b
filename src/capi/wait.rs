//! Waiting from C: `incluster_wait` blocks until the target meets the conditions (the core's
//! `wait`), with an `incluster_canceller` to stop it from another thread.

use std::ffi::{CString, c_char};

use crate::capi::client::incluster_client;
use crate::capi::error::incluster_error;
use crate::capi::guard::{cstring_lossy, guard, guard_value, read_pairs, req_str};
use crate::capi::handle::{Handle, Out};
use crate::capi::result::incluster_result;
use crate::core::cancel::CancelHandle;
use crate::core::wait::{WaitOptions, target, wait};

/// A cancel flag for a blocking call (`incluster_wait`): any thread may cancel it while the
/// call runs on another. Thread-safe; free it after the call that uses it has returned.
pub struct incluster_canceller {
    inner: CancelHandle,
}

impl Handle for incluster_canceller {
    const PARAM: &'static str = "canceller";
}

/// What met the conditions: for each object, its JSON and the conditions it met. Owned by the
/// caller (free with `incluster_wait_result_free`); read it from one thread at a time.
pub struct incluster_wait_result {
    objects: Vec<Vec<u8>>,
    met: Vec<Vec<CString>>,
}

impl Handle for incluster_wait_result {
    const PARAM: &'static str = "result";
}

/// A new canceller, not cancelled, written to `*out` (free with `incluster_canceller_free`).
/// A NULL `out` is `INCLUSTER_ERR_NULL_ARGUMENT`. Thread-safe.
///
/// # Safety
/// `out` writable; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_canceller_new(
    out: *mut *mut incluster_canceller,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract.
        let out = unsafe { Out::new(out, "out") }?;
        let c = incluster_canceller {
            inner: CancelHandle::new(),
        };
        out.write(c.into_raw());
        Ok(())
    })
}

/// Cancel: a call using this canceller returns `INCLUSTER_ERR_CANCELLED` within about 100 ms
/// (a later call using it returns that at once). Callable from any thread; idempotent; NULL
/// is a no-op.
///
/// # Safety
/// `canceller` is NULL or a live canceller (not being freed concurrently).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_canceller_cancel(canceller: *const incluster_canceller) {
    guard_value((), || {
        // SAFETY: caller contract; only the atomic flag is touched.
        if let Some(c) = unsafe { incluster_canceller::opt(canceller) } {
            c.inner.cancel();
        }
    })
}

/// Free a canceller. NULL is a no-op. No call may be using it any more, on any thread.
///
/// # Safety
/// `canceller` is NULL or from `incluster_canceller_new`, freed once, with no call using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_canceller_free(canceller: *mut incluster_canceller) {
    // SAFETY: made by `Handle::into_raw`; freed once per the contract.
    unsafe { incluster_canceller::free(canceller) }
}

/// Wait until `target` meets the conditions in `options`, list + watch underneath (resuming
/// after drops, relisting after a 410; never polling).
///
/// `target` is an object path (`/apis/batch/v1/namespaces/NS/jobs/NAME`: that object, waited
/// for if it does not exist yet) or a collection path (every object it holds, or those the
/// `labelSelector` option picks: all must meet the conditions), or the same by name
/// (`job/pi`, `deploy/web`, `pods`; see `incluster_resolve`) in the `namespace` option's
/// namespace (default the client's).
///
/// `options` is a NULL-terminated `{"key", "value", ..., NULL}` array:
/// - `for` (repeatable; all must hold), `forAny` (repeatable; one must hold), `failOn`
///   (repeatable; one holding ends the wait with `INCLUSTER_ERR_UNMEETABLE`), each a
///   condition as the CLI's `--for` spells it: `create`, `delete`, `condition=NAME[=STATUS]`,
///   `jsonpath={EXPR}[=VALUE]`; at least one `for` or `forAny`;
/// - `labelSelector`; `namespace` (for resource names; not with a path);
/// - `allowEmpty` (`false`): with a selector, no matching object counts as met;
/// - `timeoutMs` (absent: no limit; `0`: check once);
/// - the watch options of `incluster_watch_open` (`incluster.backoffInitialMs`, ...).
///
/// On `INCLUSTER_OK` writes to `*out` what met the conditions (free with
/// `incluster_wait_result_free`). Otherwise: `INCLUSTER_ERR_WAIT_TIMEOUT` (the timeout
/// passed), `INCLUSTER_ERR_UNMEETABLE` (the object was deleted while waiting, or a `failOn`
/// condition held: the message names it), `INCLUSTER_ERR_CANCELLED` (`canceller` was
/// cancelled), `INCLUSTER_ERR_INVALID_ARGUMENT` (a bad target, option or condition, or a
/// `jsonpath=` condition that selects several values), or the request's own error. A NULL
/// `client`, `target` or `out` is `INCLUSTER_ERR_NULL_ARGUMENT`; `options` must hold a
/// condition; `canceller` may be NULL. Blocks; thread-safe (the client may be shared).
///
/// # Safety
/// `client` a live client; `target` a NUL-terminated string; `options` NULL or as above;
/// `canceller` NULL or a live canceller; `out` writable; `err` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_wait(
    client: *const incluster_client,
    target_path: *const c_char,
    options: *const *const c_char,
    canceller: *const incluster_canceller,
    out: *mut *mut incluster_wait_result,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        // SAFETY: caller contract for every pointer.
        let (c, what, pairs, out, cancel) = unsafe {
            (
                incluster_client::arg(client)?,
                req_str(target_path, "target")?,
                read_pairs(options, "options")?,
                Out::new(out, "out")?,
                incluster_canceller::opt(canceller),
            )
        };
        let mut opts = WaitOptions::default();
        let (mut selector, mut namespace) = (None, None);
        for (k, v) in pairs {
            match k {
                "labelSelector" => selector = Some(v),
                "namespace" => namespace = Some(v),
                _ => opts.set(k, v)?,
            }
        }
        let t = target(&c.inner, what, namespace, selector)?;
        let cancel = cancel.map_or_else(CancelHandle::new, |c| c.inner.clone());
        let met = wait(&c.inner, &t, &opts, &cancel)?;
        let result = incluster_wait_result {
            met: met
                .objects
                .iter()
                .map(|o| o.met.iter().map(|m| cstring_lossy(m)).collect())
                .collect(),
            objects: met.objects.into_iter().map(|o| o.object).collect(),
        };
        out.write(result.into_raw());
        Ok(())
    })
}

/// How many objects met the conditions: 1 for an object path; for a selector, every object
/// it picked (0 when `allowEmpty` let the empty set meet them, or after `delete`). NULL
/// gives 0. Call it from the thread that owns the result.
///
/// # Safety
/// `result` is NULL or a live result.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_wait_result_count(
    result: *const incluster_wait_result,
) -> usize {
    guard_value(0, || {
        // SAFETY: caller contract.
        unsafe { incluster_wait_result::opt(result) }.map_or(0, |r| r.objects.len())
    })
}

/// The JSON of object `index` as last seen (for `delete`: its last known state, or its kind,
/// apiVersion and name when it never existed), not NUL-terminated, with its length in
/// `*len`. Borrowed: valid until the result is freed. NULL (and `*len` = 0) for a NULL
/// `result` or an index out of range; `len` may be NULL. Call it from the thread that owns
/// the result.
///
/// # Safety
/// `result` is NULL or a live result; `len` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_wait_result_object(
    result: *const incluster_wait_result,
    index: usize,
    len: *mut usize,
) -> *const u8 {
    guard_value(std::ptr::null(), || {
        // SAFETY: caller contract.
        let obj = unsafe { incluster_wait_result::opt(result) }.and_then(|r| r.objects.get(index));
        // SAFETY: caller contract: NULL or writable.
        if let Some(len) = unsafe { len.as_mut() } {
            *len = obj.map_or(0, Vec::len);
        }
        obj.map_or(std::ptr::null(), |o| o.as_ptr())
    })
}

/// Condition `which` that object `index` met, as `for` spells it (`"condition=Failed=True"`):
/// every `for` condition in order, then the `forAny` one that held. Borrowed: valid until the
/// result is freed. NULL past the last one, for an index out of range, or a NULL `result`.
/// Call it from the thread that owns the result.
///
/// # Safety
/// `result` is NULL or a live result.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_wait_result_met(
    result: *const incluster_wait_result,
    index: usize,
    which: usize,
) -> *const c_char {
    guard_value(std::ptr::null(), || {
        // SAFETY: caller contract.
        unsafe { incluster_wait_result::opt(result) }
            .and_then(|r| r.met.get(index))
            .and_then(|m| m.get(which))
            .map_or(std::ptr::null(), |s| s.as_ptr())
    })
}

/// Free a result. NULL is a no-op. No other thread may be using it.
///
/// # Safety
/// `result` is NULL or from `incluster_wait`, freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_wait_result_free(result: *mut incluster_wait_result) {
    // SAFETY: made by `Handle::into_raw`; freed once per the contract.
    unsafe { incluster_wait_result::free(result) }
}

//! Field extraction for C programs without a JSON library: JSON Pointer and JSONPath over any
//! JSON buffer (a response body, a watch event's object, ...).

use std::ffi::c_char;

use serde_json::Value;

use crate::capi::error::incluster_error;
use crate::capi::guard::{Failure, bytes, cstring_lossy, guard, req_str};
use crate::capi::response::incluster_response;
use crate::capi::result::incluster_result;
use crate::core::error::Error;
use crate::core::extract::jsonpath::Template;
use crate::core::extract::pointer::{lookup, to_text};

/// Parse the buffer and look up the pointer: `Ok(None)` when absent.
///
/// # Safety
/// As for the extern functions below.
unsafe fn find(
    json: *const u8,
    len: usize,
    pointer: *const c_char,
    f: impl FnOnce(&Value) -> Result<(), Failure>,
) -> Result<bool, Failure> {
    // SAFETY: forwarded contract.
    let (buf, ptr) = unsafe { (bytes(json, len, "json")?, req_str(pointer, "pointer")?) };
    let doc: Value = serde_json::from_slice(buf)
        .map_err(|e| Error::Decode(format!("the buffer is not JSON: {e}")))?;
    match lookup(&doc, ptr)? {
        Some(v) => {
            f(v)?;
            Ok(true)
        }
        None => Ok(false),
    }
}

fn run(
    err: *mut *mut incluster_error,
    f: impl FnOnce() -> Result<bool, Failure>,
) -> incluster_result {
    let mut found = true;
    let rc = guard(err, || {
        found = f()?;
        Ok(())
    });
    if rc == incluster_result::INCLUSTER_OK && !found {
        incluster_result::INCLUSTER_ABSENT
    } else {
        rc
    }
}

/// The value at `pointer` converted by `convert` into `*out`; a value `convert` refuses is
/// `INCLUSTER_ERR_DECODE` naming it and `what` was expected.
///
/// # Safety
/// As for `incluster_json_get_string`, with `out` pointing to a `T`.
unsafe fn get_scalar<T>(
    json: *const u8,
    len: usize,
    pointer: *const c_char,
    out: *mut T,
    err: *mut *mut incluster_error,
    what: &str,
    convert: fn(&Value) -> Option<T>,
) -> incluster_result {
    run(err, || {
        if out.is_null() {
            return Err(Failure::Null("out"));
        }
        // SAFETY: forwarded contract; `out` checked.
        unsafe {
            find(json, len, pointer, |v| match convert(v) {
                Some(x) => {
                    *out = x;
                    Ok(())
                }
                None => Err(Error::Decode(format!("the value is {v}, not {what}")).into()),
            })
        }
    })
}

/// The value at the RFC 6901 `pointer` (`/metadata/name`, `/items/0/status/phase`) in a JSON
/// buffer, as text: a string as it is, any other value as compact JSON. On `INCLUSTER_OK`
/// writes an owned NUL-terminated string to `*out` (free with `incluster_string_free`).
/// `INCLUSTER_ABSENT` when there is no such value (not an error; `*out` untouched);
/// `INCLUSTER_ERR_DECODE` when the buffer is not JSON; `INCLUSTER_ERR_INVALID_ARGUMENT` for a
/// malformed pointer (the message names the position). Thread-safe.
///
/// # Safety
/// `json` points to `len` readable bytes; `pointer` is NUL-terminated; `out` writable; `err`
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_json_get_string(
    json: *const u8,
    len: usize,
    pointer: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut incluster_error,
) -> incluster_result {
    run(err, || {
        if out.is_null() {
            return Err(Failure::Null("out"));
        }
        // SAFETY: forwarded contract; `out` checked.
        unsafe {
            find(json, len, pointer, |v| {
                *out = cstring_lossy(&to_text(v)).into_raw();
                Ok(())
            })
        }
    })
}

/// The integer at `pointer`. `INCLUSTER_ABSENT` when absent; `INCLUSTER_ERR_DECODE` when the
/// value is not an integer that fits in 64 bits (the message says what it is). Thread-safe.
///
/// # Safety
/// As for `incluster_json_get_string`, with `out` pointing to an `int64_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_json_get_int(
    json: *const u8,
    len: usize,
    pointer: *const c_char,
    out: *mut i64,
    err: *mut *mut incluster_error,
) -> incluster_result {
    // SAFETY: forwarded contract.
    unsafe { get_scalar(json, len, pointer, out, err, "an integer", Value::as_i64) }
}

/// The boolean at `pointer`. `INCLUSTER_ABSENT` when absent; `INCLUSTER_ERR_DECODE` when it is
/// not a boolean. Thread-safe.
///
/// # Safety
/// As for `incluster_json_get_string`, with `out` pointing to a `bool`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_json_get_bool(
    json: *const u8,
    len: usize,
    pointer: *const c_char,
    out: *mut bool,
    err: *mut *mut incluster_error,
) -> incluster_result {
    // SAFETY: forwarded contract.
    unsafe { get_scalar(json, len, pointer, out, err, "a boolean", Value::as_bool) }
}

/// Render a kubectl-style JSONPath template (`{.metadata.name}`,
/// `{range .items[*]}{.metadata.name}{"\n"}{end}`) over a JSON buffer into an owned string
/// (free with `incluster_string_free`). Missing fields render as nothing, as in kubectl.
/// `INCLUSTER_ERR_INVALID_ARGUMENT` for a malformed template (the message names the
/// position). Thread-safe.
///
/// # Safety
/// `json` points to `len` readable bytes; `template_` is NUL-terminated; `out` writable; `err`
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_jsonpath(
    json: *const u8,
    len: usize,
    template_: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut incluster_error,
) -> incluster_result {
    guard(err, || {
        if out.is_null() {
            return Err(Failure::Null("out"));
        }
        // SAFETY: forwarded contract.
        let (buf, t) = unsafe { (bytes(json, len, "json")?, req_str(template_, "template")?) };
        let template = Template::parse(t)?;
        let doc: Value = serde_json::from_slice(buf)
            .map_err(|e| Error::Decode(format!("the buffer is not JSON: {e}")))?;
        // SAFETY: checked non-NULL above.
        unsafe { *out = cstring_lossy(&template.render(&doc)).into_raw() };
        Ok(())
    })
}

/// `incluster_json_get_string` on a response's body.
///
/// # Safety
/// `resp` is a live response; the rest as for `incluster_json_get_string`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_response_get_string(
    resp: *const incluster_response,
    pointer: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut incluster_error,
) -> incluster_result {
    if resp.is_null() {
        return guard(err, || Err(Failure::Null("resp")));
    }
    let mut len = 0usize;
    // SAFETY: live response per the contract.
    let body = unsafe { crate::capi::response::incluster_response_body(resp, &mut len) };
    // SAFETY: the body pointer and length come from the live response.
    unsafe { incluster_json_get_string(body, len, pointer, out, err) }
}

/// `incluster_json_get_string` on a watch event's object.
///
/// # Safety
/// `event` is a live event (inside its callback, or before the next `_next` / `_free`); the
/// rest as for `incluster_json_get_string`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_watch_event_get_string(
    event: *const crate::capi::watch::incluster_watch_event,
    pointer: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut incluster_error,
) -> incluster_result {
    // SAFETY: caller contract.
    let Some(ev) = (unsafe { event.as_ref() }) else {
        return guard(err, || Err(Failure::Null("event")));
    };
    // SAFETY: the event's object pointer and length are valid while the event is.
    unsafe { incluster_json_get_string(ev.object, ev.object_len, pointer, out, err) }
}

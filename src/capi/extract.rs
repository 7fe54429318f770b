//! Field extraction for C programs without a JSON library: JSON Pointer and JSONPath over any
//! JSON buffer (a response body, a watch event's object, ...).

use std::ffi::c_char;

use serde_json::Value;

use crate::capi::error::incluster_error;
use crate::capi::guard::{Failure, bytes, guard, req_str};
use crate::capi::handle::{Handle, Out};
use crate::capi::response::incluster_response;
use crate::capi::result::incluster_result;
use crate::capi::strings::owned_string;
use crate::capi::watch::incluster_watch_event;
use crate::core::error::Error;
use crate::core::extract::jsonpath::Template;
use crate::core::extract::pointer::{lookup, to_text};

/// Parse the buffer and look up the pointer; hand the value to `f`, or answer
/// `INCLUSTER_ABSENT` (not an error) when there is none.
///
/// # Safety
/// As for the extern functions below.
unsafe fn find(
    json: *const u8,
    len: usize,
    pointer: *const c_char,
    f: impl FnOnce(&Value) -> Result<(), Failure>,
) -> Result<incluster_result, Failure> {
    // SAFETY: forwarded contract.
    let (buf, ptr) = unsafe { (bytes(json, len, "json")?, req_str(pointer, "pointer")?) };
    let doc: Value = serde_json::from_slice(buf)
        .map_err(|e| Error::Decode(format!("the buffer is not JSON: {e}")))?;
    match lookup(&doc, ptr)? {
        Some(v) => {
            f(v)?;
            Ok(incluster_result::INCLUSTER_OK)
        }
        None => Ok(incluster_result::INCLUSTER_ABSENT),
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
    guard(err, || {
        // SAFETY: forwarded contract for every pointer.
        unsafe {
            let out = Out::new(out, "out")?;
            find(json, len, pointer, |v| match convert(v) {
                Some(x) => {
                    out.write(x);
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
/// malformed pointer (the message names the position). A NULL `pointer` or `out`, or NULL
/// `json` with a non-zero `len`, is `INCLUSTER_ERR_NULL_ARGUMENT`. Thread-safe.
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
    guard(err, || {
        // SAFETY: forwarded contract for every pointer.
        unsafe {
            let out = Out::new(out, "out")?;
            find(json, len, pointer, |v| {
                out.write(owned_string(&to_text(v)));
                Ok(())
            })
        }
    })
}

/// The integer at `pointer`. `INCLUSTER_ABSENT` when absent; `INCLUSTER_ERR_DECODE` when the
/// value is not an integer that fits in 64 bits (the message says what it is). NULL arguments
/// as for `incluster_json_get_string`. Thread-safe.
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
/// not a boolean. NULL arguments as for `incluster_json_get_string`. Thread-safe.
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
/// position). A NULL `template_` or `out`, or NULL `json` with a non-zero `len`, is
/// `INCLUSTER_ERR_NULL_ARGUMENT`. Thread-safe.
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
        // SAFETY: forwarded contract for every pointer.
        let (out, buf, t) = unsafe {
            (
                Out::new(out, "out")?,
                bytes(json, len, "json")?,
                req_str(template_, "template")?,
            )
        };
        let template = Template::parse(t)?;
        let doc: Value = serde_json::from_slice(buf)
            .map_err(|e| Error::Decode(format!("the buffer is not JSON: {e}")))?;
        out.write(owned_string(&template.render(&doc)));
        Ok(())
    })
}

/// `incluster_json_get_string` on a response's body. A NULL `resp` is
/// `INCLUSTER_ERR_NULL_ARGUMENT`; the rest as for `incluster_json_get_string`. Reads only:
/// callable from any thread while no thread frees `resp`.
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
    // SAFETY: caller contract.
    let Some(r) = (unsafe { incluster_response::opt(resp) }) else {
        return guard(err, || Err::<(), _>(Failure::Null("resp")));
    };
    let body = r.body();
    // SAFETY: the body lives as long as the response; the rest is forwarded.
    unsafe { incluster_json_get_string(body.as_ptr(), body.len(), pointer, out, err) }
}

/// `incluster_json_get_string` on a watch event's object. A NULL `event` is
/// `INCLUSTER_ERR_NULL_ARGUMENT`; the rest as for `incluster_json_get_string`. Call it where
/// the event is valid: in the callback, or on the thread that owns the watch.
///
/// # Safety
/// `event` is a live event (inside its callback, or before the next `_next` / `_free`); the
/// rest as for `incluster_json_get_string`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_watch_event_get_string(
    event: *const incluster_watch_event,
    pointer: *const c_char,
    out: *mut *mut c_char,
    err: *mut *mut incluster_error,
) -> incluster_result {
    // SAFETY: caller contract.
    let Some(ev) = (unsafe { event.as_ref() }) else {
        return guard(err, || Err::<(), _>(Failure::Null("event")));
    };
    // SAFETY: the event's object pointer and length are valid while the event is.
    unsafe { incluster_json_get_string(ev.object, ev.object_len, pointer, out, err) }
}

//! `incluster_error`: the details of a failed call.

use std::ffi::{CString, c_char};

use crate::capi::guard::{cstring_lossy, guard_value};
use crate::capi::handle::{Handle, Out};
use crate::capi::result::incluster_result;
use crate::core::error::Error;

/// Details of a failed call: result code, HTTP status, Kubernetes `Status` reason, message and
/// the raw response body. Owned by the caller; free with `incluster_error_free`. Immutable:
/// the accessors only read it, so any thread may call them while no thread frees it.
pub struct incluster_error {
    pub(crate) code: incluster_result,
    status: u16,
    reason: CString,
    message: CString,
    body: Vec<u8>,
    retry_after: i64,
}

impl Handle for incluster_error {
    const PARAM: &'static str = "err";
}

impl incluster_error {
    /// Build from a core error.
    pub(crate) fn from_core(e: &Error) -> Self {
        let api = e.api();
        incluster_error {
            code: incluster_result::from_error(e),
            status: e.status(),
            reason: cstring_lossy(api.map_or("", |a| a.reason.as_str())),
            message: cstring_lossy(&e.to_string()),
            body: api.map(|a| a.body.clone()).unwrap_or_default(),
            retry_after: api
                .and_then(|a| a.retry_after_seconds())
                .map_or(-1, |s| i64::try_from(s).unwrap_or(i64::MAX)),
        }
    }

    /// Build from a code and a message (argument errors, panics).
    pub(crate) fn plain(code: incluster_result, message: &str) -> Self {
        incluster_error {
            code,
            status: 0,
            reason: CString::default(),
            message: cstring_lossy(message),
            body: Vec::new(),
            retry_after: -1,
        }
    }
}

/// The result code of the failure (never `INCLUSTER_OK`).
///
/// NULL `err` gives `INCLUSTER_ERR_NULL_ARGUMENT`. Reads only; callable from any thread while
/// no thread frees `err`.
///
/// # Safety
/// `err` is NULL or a pointer received from an incluster call and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_error_code(err: *const incluster_error) -> incluster_result {
    guard_value(incluster_result::INCLUSTER_ERR_NULL_ARGUMENT, || {
        // SAFETY: the caller promises `err` is NULL or valid.
        unsafe { incluster_error::opt(err) }
            .map_or(incluster_result::INCLUSTER_ERR_NULL_ARGUMENT, |e| e.code)
    })
}

/// The HTTP status of an API error, 0 for other failures (and for NULL). Reads only; callable
/// from any thread while no thread frees `err`.
///
/// # Safety
/// `err` is NULL or a pointer received from an incluster call and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_error_status(err: *const incluster_error) -> u16 {
    guard_value(0, || {
        // SAFETY: the caller promises `err` is NULL or valid.
        unsafe { incluster_error::opt(err) }.map_or(0, |e| e.status)
    })
}

/// The Kubernetes `Status` reason (`"NotFound"`, `"Forbidden"`, `"AlreadyExists"`, ...), or
/// `""` when the failure was not an API error. Borrowed: valid until `incluster_error_free`.
/// NULL `err` gives `""`. A 409 for a name that is taken has the reason `"AlreadyExists"`
/// (with `INCLUSTER_ERR_CONFLICT`). Reads only; callable from any thread while no thread frees
/// `err`.
///
/// # Safety
/// `err` is NULL or a pointer received from an incluster call and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_error_reason(err: *const incluster_error) -> *const c_char {
    guard_value(c"".as_ptr(), || {
        // SAFETY: the caller promises `err` is NULL or valid.
        unsafe { incluster_error::opt(err) }.map_or(c"".as_ptr(), |e| e.reason.as_ptr())
    })
}

/// A message for people, naming what failed (the file, the server, the request and the
/// server's `Status` message). Never contains the token. Borrowed: valid until
/// `incluster_error_free`. NULL `err` gives `""`. Reads only; callable from any thread while
/// no thread frees `err`.
///
/// # Safety
/// `err` is NULL or a pointer received from an incluster call and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_error_message(err: *const incluster_error) -> *const c_char {
    guard_value(c"".as_ptr(), || {
        // SAFETY: the caller promises `err` is NULL or valid.
        unsafe { incluster_error::opt(err) }.map_or(c"".as_ptr(), |e| e.message.as_ptr())
    })
}

/// The raw body of the failed response (often a JSON `Status`); empty for non-API failures.
/// Writes the length to `*len` when `len` is not NULL. Borrowed: valid until
/// `incluster_error_free`. Never NULL (an empty body is a valid pointer with length 0; so is
/// the answer for a NULL `err`). Reads only; callable from any thread while no thread frees
/// `err`.
///
/// # Safety
/// `err` is NULL or a pointer received from an incluster call and not yet freed; `len` is NULL
/// or points to writable memory for one `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_error_body(
    err: *const incluster_error,
    len: *mut usize,
) -> *const u8 {
    guard_value(c"".as_ptr().cast(), || {
        // SAFETY: the caller promises both pointers are NULL or valid.
        let (ptr, n) = match unsafe { incluster_error::opt(err) } {
            Some(e) if !e.body.is_empty() => (e.body.as_ptr(), e.body.len()),
            _ => (c"".as_ptr().cast(), 0),
        };
        // SAFETY: `len` is NULL or writable per the contract.
        if let Some(len) = unsafe { Out::optional(len) } {
            len.write(n);
        }
        ptr
    })
}

/// `details.retryAfterSeconds` from the server's `Status`, or -1 when there is none (and for
/// NULL). Reads only; callable from any thread while no thread frees `err`.
///
/// # Safety
/// `err` is NULL or a pointer received from an incluster call and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_error_retry_after_seconds(err: *const incluster_error) -> i64 {
    guard_value(-1, || {
        // SAFETY: the caller promises `err` is NULL or valid.
        unsafe { incluster_error::opt(err) }.map_or(-1, |e| e.retry_after)
    })
}

/// Free an error and the strings and body borrowed from it. NULL is a no-op. No other thread
/// may be reading it.
///
/// # Safety
/// `err` is NULL or a pointer received from an incluster call, freed at most once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_error_free(err: *mut incluster_error) {
    // SAFETY: made by `guard` through `Handle::into_raw`; freed once per the contract.
    unsafe { incluster_error::free(err) }
}

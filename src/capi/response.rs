//! `incluster_response`: status, headers and body of a successful request.

use std::ffi::{CString, c_char};

use crate::capi::guard::{cstring_lossy, guard_value};
use crate::capi::handle::{Handle, Out};
use crate::core::api::request::Response;

/// A response: owned by the caller that received it; free with `incluster_response_free`.
/// Immutable: the accessors only read it, so any thread may call them while no thread frees
/// it.
pub struct incluster_response {
    status: u16,
    headers: Vec<(String, CString)>,
    body: Vec<u8>,
}

impl Handle for incluster_response {
    const PARAM: &'static str = "resp";
}

impl incluster_response {
    /// The body bytes.
    pub(crate) fn body(&self) -> &[u8] {
        &self.body
    }

    pub(crate) fn from_core(r: Response) -> Self {
        incluster_response {
            status: r.status,
            headers: r
                .headers
                .into_iter()
                .map(|(k, v)| (k, cstring_lossy(&v)))
                .collect(),
            body: r.body,
        }
    }
}

/// The HTTP status (2xx: other statuses are returned as errors). 0 for NULL. Reads only;
/// callable from any thread while no thread frees `resp`.
///
/// # Safety
/// `resp` is NULL or a live response.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_response_status(resp: *const incluster_response) -> u16 {
    guard_value(0, || {
        // SAFETY: caller contract.
        unsafe { incluster_response::opt(resp) }.map_or(0, |r| r.status)
    })
}

/// The body bytes (usually JSON, not NUL-terminated). Writes the length to `*len` when `len`
/// is not NULL. Borrowed: valid until `incluster_response_free`. Never NULL: an empty body is a
/// valid pointer with length 0; NULL `resp` gives an empty body. Reads only; callable from
/// any thread while no thread frees `resp`.
///
/// # Safety
/// `resp` is NULL or a live response; `len` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_response_body(
    resp: *const incluster_response,
    len: *mut usize,
) -> *const u8 {
    guard_value(c"".as_ptr().cast(), || {
        // SAFETY: caller contract.
        let (p, n) = match unsafe { incluster_response::opt(resp) } {
            Some(r) if !r.body.is_empty() => (r.body.as_ptr(), r.body.len()),
            _ => (c"".as_ptr().cast(), 0),
        };
        // SAFETY: `len` is NULL or writable per the contract.
        if let Some(len) = unsafe { Out::optional(len) } {
            len.write(n);
        }
        p
    })
}

/// The value of the first header named `name` (case-insensitive), or NULL if absent (or if
/// either argument is NULL or `name` is not UTF-8). Borrowed: valid until
/// `incluster_response_free`. Reads only; callable from any thread while no thread frees
/// `resp`.
///
/// # Safety
/// `resp` is NULL or a live response; `name` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_response_header(
    resp: *const incluster_response,
    name: *const c_char,
) -> *const c_char {
    guard_value(std::ptr::null(), || {
        // SAFETY: caller contract.
        let (Some(r), false) = (unsafe { incluster_response::opt(resp) }, name.is_null()) else {
            return std::ptr::null();
        };
        // SAFETY: non-NULL, NUL-terminated per the contract.
        let Ok(name) = unsafe { std::ffi::CStr::from_ptr(name) }.to_str() else {
            return std::ptr::null();
        };
        r.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map_or(std::ptr::null(), |(_, v)| v.as_ptr())
    })
}

/// Free a response and everything borrowed from it. NULL is a no-op. No other thread may be
/// reading it.
///
/// # Safety
/// `resp` is NULL or a response from an incluster call, freed at most once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn incluster_response_free(resp: *mut incluster_response) {
    // SAFETY: made by `Handle::into_raw`; freed once per the contract.
    unsafe { incluster_response::free(resp) }
}

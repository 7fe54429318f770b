//! The result codes every fallible C function returns.

use crate::core::error::{Error, ErrorClass};

/// Result of a fallible incluster call. The numbers are stable and grouped: 1xx argument,
/// 2xx configuration, 3xx transport/TLS, 4xx/5xx API status (the HTTP code where one is listed),
/// 6xx stream, 9xx internal.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum incluster_result {
    /// Success.
    INCLUSTER_OK = 0,
    /// A required pointer argument was NULL.
    INCLUSTER_ERR_NULL_ARGUMENT = 100,
    /// An argument had a bad value (a path without a leading '/', a bad method, ...).
    INCLUSTER_ERR_INVALID_ARGUMENT = 101,
    /// A string argument was not valid UTF-8.
    INCLUSTER_ERR_INVALID_UTF8 = 102,
    /// Configuration missing or broken (env vars, ServiceAccount files, server URL, CA).
    INCLUSTER_ERR_CONFIG = 200,
    /// The connection failed or broke.
    INCLUSTER_ERR_TRANSPORT = 300,
    /// A connect, read or write timed out.
    INCLUSTER_ERR_TIMEOUT = 301,
    /// TLS failed (certificate not signed by the CA, wrong name, expired, handshake).
    INCLUSTER_ERR_TLS = 302,
    /// Any non-2xx status without a code of its own below.
    INCLUSTER_ERR_API = 400,
    /// HTTP 401.
    INCLUSTER_ERR_UNAUTHORIZED = 401,
    /// HTTP 403.
    INCLUSTER_ERR_FORBIDDEN = 403,
    /// HTTP 404.
    INCLUSTER_ERR_NOT_FOUND = 404,
    /// HTTP 409.
    INCLUSTER_ERR_CONFLICT = 409,
    /// HTTP 410 (an expired resourceVersion).
    INCLUSTER_ERR_GONE = 410,
    /// HTTP 422.
    INCLUSTER_ERR_INVALID = 422,
    /// HTTP 429 (after the retries allowed by Retry-After).
    INCLUSTER_ERR_TOO_MANY_REQUESTS = 429,
    /// Any HTTP 5xx.
    INCLUSTER_ERR_SERVER = 500,
    /// A body or event could not be decoded.
    INCLUSTER_ERR_DECODE = 600,
    /// The operation was cancelled (`incluster_watch_cancel`, ...).
    INCLUSTER_ERR_CANCELLED = 601,
    /// Not an error: a callback asked to stop.
    INCLUSTER_STOPPED = 602,
    /// Not an error: the stream ended (resuming was off, or a log follow finished).
    INCLUSTER_END = 603,
    /// Not an error: the JSON has no value at that pointer.
    INCLUSTER_ABSENT = 604,
    /// A bug in incluster: a panic was caught at the boundary.
    INCLUSTER_ERR_PANIC = 900,
}

use incluster_result as R;

impl incluster_result {
    /// The code for a core error: the core's [`ErrorClass`] named in C. `AlreadyExists` has no
    /// code of its own (that would change what existing callers see for a taken name): it is
    /// `INCLUSTER_ERR_CONFLICT` with the reason `"AlreadyExists"` in the error.
    pub fn from_error(e: &Error) -> Self {
        use ErrorClass as C;
        match e.class() {
            C::InvalidArgument => R::INCLUSTER_ERR_INVALID_ARGUMENT,
            C::Config => R::INCLUSTER_ERR_CONFIG,
            C::Transport => R::INCLUSTER_ERR_TRANSPORT,
            C::Timeout => R::INCLUSTER_ERR_TIMEOUT,
            C::Tls => R::INCLUSTER_ERR_TLS,
            C::Unauthorized => R::INCLUSTER_ERR_UNAUTHORIZED,
            C::Forbidden => R::INCLUSTER_ERR_FORBIDDEN,
            C::NotFound => R::INCLUSTER_ERR_NOT_FOUND,
            C::AlreadyExists | C::Conflict => R::INCLUSTER_ERR_CONFLICT,
            C::Gone => R::INCLUSTER_ERR_GONE,
            C::Invalid => R::INCLUSTER_ERR_INVALID,
            C::TooManyRequests => R::INCLUSTER_ERR_TOO_MANY_REQUESTS,
            C::ServerError => R::INCLUSTER_ERR_SERVER,
            C::OtherStatus => R::INCLUSTER_ERR_API,
            C::Decode => R::INCLUSTER_ERR_DECODE,
            C::Cancelled => R::INCLUSTER_ERR_CANCELLED,
        }
    }

    /// All codes, for mapping an `int` from C back to the enum without undefined behaviour.
    const ALL: [incluster_result; 23] = [
        R::INCLUSTER_OK,
        R::INCLUSTER_ERR_NULL_ARGUMENT,
        R::INCLUSTER_ERR_INVALID_ARGUMENT,
        R::INCLUSTER_ERR_INVALID_UTF8,
        R::INCLUSTER_ERR_CONFIG,
        R::INCLUSTER_ERR_TRANSPORT,
        R::INCLUSTER_ERR_TIMEOUT,
        R::INCLUSTER_ERR_TLS,
        R::INCLUSTER_ERR_API,
        R::INCLUSTER_ERR_UNAUTHORIZED,
        R::INCLUSTER_ERR_FORBIDDEN,
        R::INCLUSTER_ERR_NOT_FOUND,
        R::INCLUSTER_ERR_CONFLICT,
        R::INCLUSTER_ERR_GONE,
        R::INCLUSTER_ERR_INVALID,
        R::INCLUSTER_ERR_TOO_MANY_REQUESTS,
        R::INCLUSTER_ERR_SERVER,
        R::INCLUSTER_ERR_DECODE,
        R::INCLUSTER_ERR_CANCELLED,
        R::INCLUSTER_STOPPED,
        R::INCLUSTER_END,
        R::INCLUSTER_ABSENT,
        R::INCLUSTER_ERR_PANIC,
    ];

    fn name(self) -> &'static std::ffi::CStr {
        match self {
            R::INCLUSTER_OK => c"INCLUSTER_OK",
            R::INCLUSTER_ERR_NULL_ARGUMENT => c"INCLUSTER_ERR_NULL_ARGUMENT",
            R::INCLUSTER_ERR_INVALID_ARGUMENT => c"INCLUSTER_ERR_INVALID_ARGUMENT",
            R::INCLUSTER_ERR_INVALID_UTF8 => c"INCLUSTER_ERR_INVALID_UTF8",
            R::INCLUSTER_ERR_CONFIG => c"INCLUSTER_ERR_CONFIG",
            R::INCLUSTER_ERR_TRANSPORT => c"INCLUSTER_ERR_TRANSPORT",
            R::INCLUSTER_ERR_TIMEOUT => c"INCLUSTER_ERR_TIMEOUT",
            R::INCLUSTER_ERR_TLS => c"INCLUSTER_ERR_TLS",
            R::INCLUSTER_ERR_API => c"INCLUSTER_ERR_API",
            R::INCLUSTER_ERR_UNAUTHORIZED => c"INCLUSTER_ERR_UNAUTHORIZED",
            R::INCLUSTER_ERR_FORBIDDEN => c"INCLUSTER_ERR_FORBIDDEN",
            R::INCLUSTER_ERR_NOT_FOUND => c"INCLUSTER_ERR_NOT_FOUND",
            R::INCLUSTER_ERR_CONFLICT => c"INCLUSTER_ERR_CONFLICT",
            R::INCLUSTER_ERR_GONE => c"INCLUSTER_ERR_GONE",
            R::INCLUSTER_ERR_INVALID => c"INCLUSTER_ERR_INVALID",
            R::INCLUSTER_ERR_TOO_MANY_REQUESTS => c"INCLUSTER_ERR_TOO_MANY_REQUESTS",
            R::INCLUSTER_ERR_SERVER => c"INCLUSTER_ERR_SERVER",
            R::INCLUSTER_ERR_DECODE => c"INCLUSTER_ERR_DECODE",
            R::INCLUSTER_ERR_CANCELLED => c"INCLUSTER_ERR_CANCELLED",
            R::INCLUSTER_STOPPED => c"INCLUSTER_STOPPED",
            R::INCLUSTER_END => c"INCLUSTER_END",
            R::INCLUSTER_ABSENT => c"INCLUSTER_ABSENT",
            R::INCLUSTER_ERR_PANIC => c"INCLUSTER_ERR_PANIC",
        }
    }
}

/// The name of a result code as a static string (`"INCLUSTER_ERR_TLS"`), for logs.
///
/// Takes an `int` so that any value is safe to pass; an unknown value gives
/// `"INCLUSTER_UNKNOWN_RESULT"`. Never NULL; the string is static and must not be freed.
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn incluster_result_name(result: std::ffi::c_int) -> *const std::ffi::c_char {
    incluster_result::ALL
        .iter()
        .find(|r| **r as std::ffi::c_int == result)
        .map_or(c"INCLUSTER_UNKNOWN_RESULT", |r| r.name())
        .as_ptr()
}

/// What a stream callback (watch events, log lines) returns.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum incluster_callback_action {
    /// Keep going.
    INCLUSTER_CONTINUE = 0,
    /// Stop: the call returns `INCLUSTER_STOPPED`. Any non-zero value stops too.
    INCLUSTER_STOP = 1,
}

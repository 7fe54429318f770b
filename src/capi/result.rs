//! The result codes every fallible C function returns.

use std::ffi::{CStr, c_char, c_int};

use crate::core::error::{Error, ErrorClass};

/// Result of a fallible incluster call. The numbers are stable and grouped: 1xx argument,
/// 2xx configuration, 3xx transport/TLS, 4xx/5xx API status (the HTTP code where one is listed),
/// 6xx stream, 7xx wait, 9xx internal.
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
    /// `incluster_wait`: the timeout passed before the condition was met (CLI exit code 7).
    INCLUSTER_ERR_WAIT_TIMEOUT = 700,
    /// `incluster_wait`: the condition can no longer be met (the object was deleted while
    /// waiting, or a failure condition was met; CLI exit code 8).
    INCLUSTER_ERR_UNMEETABLE = 701,
    /// A bug in incluster: a panic was caught at the boundary.
    INCLUSTER_ERR_PANIC = 900,
}

use incluster_result as R;

impl incluster_result {
    /// The code for a core error: the core's [`ErrorClass`] named in C. `AlreadyExists` has no
    /// code of its own (that would change what existing callers see for a taken name): it is
    /// `INCLUSTER_ERR_CONFLICT` with the reason `"AlreadyExists"` in the error.
    pub fn from_error(e: &Error) -> Self {
        Self::from_class(e.class())
    }

    fn from_class(class: ErrorClass) -> Self {
        use ErrorClass as C;
        match class {
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
            C::WaitTimeout => R::INCLUSTER_ERR_WAIT_TIMEOUT,
            C::Unmeetable => R::INCLUSTER_ERR_UNMEETABLE,
        }
    }
}

/// The one table of result codes: each code's message. The name comes from the identifier,
/// the number from the enum. The generated `match` is exhaustive, so a code added to the enum
/// without a row here does not compile, and the `int` lookup is generated from the same rows.
macro_rules! result_table {
    ($($code:ident => $message:literal,)*) => {
        impl incluster_result {
            /// The code's name and a one-line message, both static C strings.
            fn describe(self) -> (&'static CStr, &'static CStr) {
                match self {
                    // The names are built at compile time; an identifier holds no NUL.
                    $(R::$code => (
                        const {
                            match CStr::from_bytes_with_nul(
                                concat!(stringify!($code), "\0").as_bytes(),
                            ) {
                                Ok(name) => name,
                                Err(_) => panic!("a result name holds a NUL"),
                            }
                        },
                        $message,
                    ),)*
                }
            }

            /// The code with this number, if there is one (any `int` from C is safe here).
            fn from_int(n: c_int) -> Option<Self> {
                $(if n == R::$code as c_int {
                    return Some(R::$code);
                })*
                None
            }

            /// Every code, in the table's order.
            #[cfg(test)]
            const ALL: &[incluster_result] = &[$(R::$code,)*];
        }
    };
}

result_table! {
    INCLUSTER_OK => c"success",
    INCLUSTER_ERR_NULL_ARGUMENT => c"a required pointer argument was NULL",
    INCLUSTER_ERR_INVALID_ARGUMENT => c"an argument had a bad value",
    INCLUSTER_ERR_INVALID_UTF8 => c"a string argument was not valid UTF-8",
    INCLUSTER_ERR_CONFIG => c"the configuration is missing or broken",
    INCLUSTER_ERR_TRANSPORT => c"the connection failed or broke",
    INCLUSTER_ERR_TIMEOUT => c"a connect, read or write timed out",
    INCLUSTER_ERR_TLS => c"TLS failed",
    INCLUSTER_ERR_API => c"the server answered with an error status",
    INCLUSTER_ERR_UNAUTHORIZED => c"HTTP 401 Unauthorized",
    INCLUSTER_ERR_FORBIDDEN => c"HTTP 403 Forbidden",
    INCLUSTER_ERR_NOT_FOUND => c"HTTP 404 Not Found",
    INCLUSTER_ERR_CONFLICT => c"HTTP 409 Conflict (the reason says AlreadyExists for a taken name)",
    INCLUSTER_ERR_GONE => c"HTTP 410 Gone (an expired resourceVersion)",
    INCLUSTER_ERR_INVALID => c"HTTP 422 Invalid",
    INCLUSTER_ERR_TOO_MANY_REQUESTS => c"HTTP 429 Too Many Requests",
    INCLUSTER_ERR_SERVER => c"HTTP 5xx server error",
    INCLUSTER_ERR_DECODE => c"a body or event could not be decoded",
    INCLUSTER_ERR_CANCELLED => c"the operation was cancelled",
    INCLUSTER_STOPPED => c"a callback asked to stop (not an error)",
    INCLUSTER_END => c"the stream ended (not an error)",
    INCLUSTER_ABSENT => c"no value at that pointer (not an error)",
    INCLUSTER_ERR_WAIT_TIMEOUT => c"the wait timed out before the condition was met",
    INCLUSTER_ERR_UNMEETABLE => c"the waited-for condition can no longer be met",
    INCLUSTER_ERR_PANIC => c"internal error: a panic was caught at the C boundary",
}

/// `Ok(())` from a call is `INCLUSTER_OK` (see `guard`).
impl From<()> for incluster_result {
    fn from((): ()) -> Self {
        R::INCLUSTER_OK
    }
}

/// The name of a result code as a static string (`"INCLUSTER_ERR_TLS"`), for logs.
///
/// Takes an `int` so that any value is safe to pass; an unknown value gives
/// `"INCLUSTER_UNKNOWN_RESULT"`. Never NULL; the string is static and must not be freed.
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn incluster_result_name(result: c_int) -> *const c_char {
    incluster_result::from_int(result)
        .map_or(c"INCLUSTER_UNKNOWN_RESULT", |r| r.describe().0)
        .as_ptr()
}

/// A one-line description of a result code (`"HTTP 404 Not Found"`), for a program that has
/// only the code (it passed NULL for `err`); the `incluster_error` message is more precise.
///
/// Takes an `int` so that any value is safe to pass; an unknown value gives
/// `"unknown result code"`. Never NULL; the string is static and must not be freed.
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn incluster_result_message(result: c_int) -> *const c_char {
    incluster_result::from_int(result)
        .map_or(c"unknown result code", |r| r.describe().1)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn text(p: *const c_char) -> String {
        // SAFETY: the functions return static NUL-terminated strings.
        unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned()
    }

    #[test]
    fn every_code_has_its_own_name_number_and_message() {
        let mut numbers = std::collections::HashSet::new();
        for &r in incluster_result::ALL {
            let n = r as c_int;
            assert!(numbers.insert(n), "{r:?} shares its number");
            assert_eq!(text(incluster_result_name(n)), format!("{r:?}"));
            assert!(!text(incluster_result_message(n)).is_empty());
            assert_eq!(incluster_result::from_int(n), Some(r));
        }
        assert_eq!(
            text(incluster_result_name(12345)),
            "INCLUSTER_UNKNOWN_RESULT"
        );
        assert_eq!(text(incluster_result_message(-1)), "unknown result code");
    }

    #[test]
    fn the_numbers_are_the_stable_abi() {
        // Changing any of these breaks compiled C programs.
        let abi = [
            (R::INCLUSTER_OK, 0),
            (R::INCLUSTER_ERR_NULL_ARGUMENT, 100),
            (R::INCLUSTER_ERR_INVALID_ARGUMENT, 101),
            (R::INCLUSTER_ERR_INVALID_UTF8, 102),
            (R::INCLUSTER_ERR_CONFIG, 200),
            (R::INCLUSTER_ERR_TRANSPORT, 300),
            (R::INCLUSTER_ERR_TIMEOUT, 301),
            (R::INCLUSTER_ERR_TLS, 302),
            (R::INCLUSTER_ERR_API, 400),
            (R::INCLUSTER_ERR_UNAUTHORIZED, 401),
            (R::INCLUSTER_ERR_FORBIDDEN, 403),
            (R::INCLUSTER_ERR_NOT_FOUND, 404),
            (R::INCLUSTER_ERR_CONFLICT, 409),
            (R::INCLUSTER_ERR_GONE, 410),
            (R::INCLUSTER_ERR_INVALID, 422),
            (R::INCLUSTER_ERR_TOO_MANY_REQUESTS, 429),
            (R::INCLUSTER_ERR_SERVER, 500),
            (R::INCLUSTER_ERR_DECODE, 600),
            (R::INCLUSTER_ERR_CANCELLED, 601),
            (R::INCLUSTER_STOPPED, 602),
            (R::INCLUSTER_END, 603),
            (R::INCLUSTER_ABSENT, 604),
            (R::INCLUSTER_ERR_WAIT_TIMEOUT, 700),
            (R::INCLUSTER_ERR_UNMEETABLE, 701),
            (R::INCLUSTER_ERR_PANIC, 900),
        ];
        assert_eq!(abi.len(), incluster_result::ALL.len());
        for (r, n) in abi {
            assert_eq!(r as c_int, n, "{r:?}");
        }
    }

    #[test]
    fn every_error_class_has_a_code_and_already_exists_is_a_conflict() {
        for class in ErrorClass::all() {
            let r = incluster_result::from_class(class);
            assert_ne!(r, R::INCLUSTER_OK, "{class:?}");
            assert!(text(incluster_result_name(r as c_int)).starts_with("INCLUSTER_ERR_"));
        }
        assert_eq!(
            incluster_result::from_class(ErrorClass::AlreadyExists),
            R::INCLUSTER_ERR_CONFLICT
        );
    }
}

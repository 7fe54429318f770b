//! One error type for everything the core does.
//!
//! Every front maps [`Error`] to its own form (a C result code + `incluster_error`, a Python
//! exception, a CLI exit code) from one classification, [`Error::class`]: which HTTP status
//! or `Status` reason counts as "not found" or "already exists" is decided here once, and each
//! front only names the classes (an exhaustive `match`, so a new class cannot be forgotten).
//! No variant ever holds the bearer token: messages are built from file names, paths, HTTP
//! statuses and the server's `Status` object only.

use std::fmt;

use crate::core::api::status::Status;

/// The broad class of an [`Error`]; the fronts map this to result codes, exception classes and
/// exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A caller passed a bad argument (a path without a leading `/`, a bad header value, ...).
    InvalidArgument,
    /// The configuration is missing or broken (env vars, ServiceAccount files, server URL).
    Config,
    /// The connection failed or broke (refused, reset, DNS, proxy).
    Transport,
    /// A connect, read or write timed out.
    Timeout,
    /// TLS failed: the server's certificate is not signed by the configured CA, has the wrong
    /// name, is expired, or the handshake failed.
    Tls,
    /// The server answered with a non-2xx status.
    Api,
    /// A body could not be decoded (JSON, a watch event, a token's claims).
    Decode,
    /// The operation was cancelled by the caller.
    Cancelled,
    /// A wait (`core::wait`) ran out of time before its condition was met.
    WaitTimeout,
    /// A wait's condition can no longer be met: the object was deleted while waiting, or a
    /// failure condition was met.
    Unmeetable,
}

/// The one classification of an [`Error`] that every front derives its answer from: the C
/// result code, the Python exception class and the CLI exit code. Finer than [`ErrorKind`]:
/// API errors are split by HTTP status and, for 409, by the `Status` reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// [`ErrorKind::InvalidArgument`].
    InvalidArgument,
    /// [`ErrorKind::Config`].
    Config,
    /// [`ErrorKind::Transport`].
    Transport,
    /// [`ErrorKind::Timeout`].
    Timeout,
    /// [`ErrorKind::Tls`].
    Tls,
    /// HTTP 401: the token was missing, invalid or expired (after one re-read and retry).
    Unauthorized,
    /// HTTP 403: RBAC does not allow the request.
    Forbidden,
    /// HTTP 404.
    NotFound,
    /// HTTP 409 with the `Status` reason `AlreadyExists`: a create of a name that is taken.
    /// A kind of [`ErrorClass::Conflict`] (Python's `AlreadyExists` subclasses `Conflict`;
    /// C reports it as `INCLUSTER_ERR_CONFLICT` with the reason `"AlreadyExists"`).
    AlreadyExists,
    /// HTTP 409 for any other reason (a resourceVersion conflict, ...).
    Conflict,
    /// HTTP 410: an expired resourceVersion.
    Gone,
    /// HTTP 422: the object failed validation.
    Invalid,
    /// HTTP 429, after the retries that Retry-After allowed.
    TooManyRequests,
    /// Any HTTP 5xx.
    ServerError,
    /// Any other non-2xx status.
    OtherStatus,
    /// [`ErrorKind::Decode`].
    Decode,
    /// [`ErrorKind::Cancelled`].
    Cancelled,
    /// [`ErrorKind::WaitTimeout`].
    WaitTimeout,
    /// [`ErrorKind::Unmeetable`].
    Unmeetable,
}

impl ErrorClass {
    /// Every class, for tests and tables that must cover them all. (A function, not an
    /// associated constant, which cbindgen would copy into the C header.)
    pub fn all() -> [ErrorClass; 19] {
        [
            ErrorClass::InvalidArgument,
            ErrorClass::Config,
            ErrorClass::Transport,
            ErrorClass::Timeout,
            ErrorClass::Tls,
            ErrorClass::Unauthorized,
            ErrorClass::Forbidden,
            ErrorClass::NotFound,
            ErrorClass::AlreadyExists,
            ErrorClass::Conflict,
            ErrorClass::Gone,
            ErrorClass::Invalid,
            ErrorClass::TooManyRequests,
            ErrorClass::ServerError,
            ErrorClass::OtherStatus,
            ErrorClass::Decode,
            ErrorClass::Cancelled,
            ErrorClass::WaitTimeout,
            ErrorClass::Unmeetable,
        ]
    }

    /// The class of an API error with this HTTP status and `Status` reason.
    pub fn of_status(status: u16, reason: &str) -> Self {
        match status {
            401 => ErrorClass::Unauthorized,
            403 => ErrorClass::Forbidden,
            404 => ErrorClass::NotFound,
            409 if reason == "AlreadyExists" => ErrorClass::AlreadyExists,
            409 => ErrorClass::Conflict,
            410 => ErrorClass::Gone,
            422 => ErrorClass::Invalid,
            429 => ErrorClass::TooManyRequests,
            500..=599 => ErrorClass::ServerError,
            _ => ErrorClass::OtherStatus,
        }
    }

    /// The broad kind this class belongs to.
    pub fn kind(self) -> ErrorKind {
        use ErrorClass as C;
        match self {
            C::InvalidArgument => ErrorKind::InvalidArgument,
            C::Config => ErrorKind::Config,
            C::Transport => ErrorKind::Transport,
            C::Timeout => ErrorKind::Timeout,
            C::Tls => ErrorKind::Tls,
            C::Decode => ErrorKind::Decode,
            C::Cancelled => ErrorKind::Cancelled,
            C::WaitTimeout => ErrorKind::WaitTimeout,
            C::Unmeetable => ErrorKind::Unmeetable,
            C::Unauthorized
            | C::Forbidden
            | C::NotFound
            | C::AlreadyExists
            | C::Conflict
            | C::Gone
            | C::Invalid
            | C::TooManyRequests
            | C::ServerError
            | C::OtherStatus => ErrorKind::Api,
        }
    }

    /// The exit code of the `incluster` command for this class: 2 argument, 3 configuration,
    /// 4 transport/TLS/timeout, 5 HTTP 4xx, 6 HTTP 5xx, 7 a wait timed out, 8 a wait's
    /// condition can no longer be met, 1 anything else. Scripts test these numbers, so they
    /// never change.
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorClass::ServerError => 6,
            class => match class.kind() {
                ErrorKind::InvalidArgument => 2,
                ErrorKind::Config => 3,
                ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::Tls => 4,
                ErrorKind::Api => 5,
                ErrorKind::WaitTimeout => 7,
                ErrorKind::Unmeetable => 8,
                ErrorKind::Decode | ErrorKind::Cancelled => 1,
            },
        }
    }
}

/// A non-2xx answer from the API server, with the parsed Kubernetes `Status` when the body
/// held one.
#[derive(Clone, PartialEq)]
pub struct ApiError {
    /// The HTTP status code.
    pub status: u16,
    /// The `Status` object's `reason` (`NotFound`, `Forbidden`, ...), or the HTTP reason phrase
    /// when the body was not a `Status`.
    pub reason: String,
    /// The `Status` object's `message`, or a short text naming the status and the request.
    pub message: String,
    /// The parsed `Status` object, when the body was one.
    pub details: Option<Status>,
    /// The method and path of the request that failed (for messages; never the query's
    /// secrets, since the token is never in a URL).
    pub request: String,
    /// The raw response body.
    pub body: Vec<u8>,
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("status", &self.status)
            .field("reason", &self.reason)
            .field("message", &self.message)
            .field("request", &self.request)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl ApiError {
    /// `retryAfterSeconds` from the Status details, if the server sent one.
    pub fn retry_after_seconds(&self) -> Option<u64> {
        self.details
            .as_ref()
            .and_then(|s| s.details.as_ref())
            .and_then(|d| d.retry_after_seconds)
    }
}

/// Everything that can go wrong in the core.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// See [`ErrorKind::InvalidArgument`].
    InvalidArgument(String),
    /// See [`ErrorKind::Config`]. The message names the missing or broken piece.
    Config(String),
    /// See [`ErrorKind::Transport`].
    Transport(String),
    /// See [`ErrorKind::Timeout`].
    Timeout(String),
    /// See [`ErrorKind::Tls`].
    Tls(String),
    /// See [`ErrorKind::Api`].
    Api(Box<ApiError>),
    /// See [`ErrorKind::Decode`].
    Decode(String),
    /// See [`ErrorKind::Cancelled`].
    Cancelled,
    /// See [`ErrorKind::WaitTimeout`]. The message names the target and the conditions.
    WaitTimeout(String),
    /// See [`ErrorKind::Unmeetable`]. The message names the object and why.
    Unmeetable(String),
}

/// The core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::Config(_) => ErrorKind::Config,
            Error::Transport(_) => ErrorKind::Transport,
            Error::Timeout(_) => ErrorKind::Timeout,
            Error::Tls(_) => ErrorKind::Tls,
            Error::Api(_) => ErrorKind::Api,
            Error::Decode(_) => ErrorKind::Decode,
            Error::Cancelled => ErrorKind::Cancelled,
            Error::WaitTimeout(_) => ErrorKind::WaitTimeout,
            Error::Unmeetable(_) => ErrorKind::Unmeetable,
        }
    }

    /// The one classification the fronts derive their answers from (see [`ErrorClass`]).
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::InvalidArgument(_) => ErrorClass::InvalidArgument,
            Error::Config(_) => ErrorClass::Config,
            Error::Transport(_) => ErrorClass::Transport,
            Error::Timeout(_) => ErrorClass::Timeout,
            Error::Tls(_) => ErrorClass::Tls,
            Error::Api(e) => ErrorClass::of_status(e.status, &e.reason),
            Error::Decode(_) => ErrorClass::Decode,
            Error::Cancelled => ErrorClass::Cancelled,
            Error::WaitTimeout(_) => ErrorClass::WaitTimeout,
            Error::Unmeetable(_) => ErrorClass::Unmeetable,
        }
    }

    /// The HTTP status for API errors, 0 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            Error::Api(e) => e.status,
            _ => 0,
        }
    }

    /// The API error, if this is one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// Shorthand for a configuration error.
    pub(crate) fn config(msg: impl Into<String>) -> Self {
        Error::Config(msg.into())
    }

    /// Shorthand for an invalid-argument error.
    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidArgument(msg.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            Error::Config(m) => write!(f, "configuration error: {m}"),
            Error::Transport(m) => write!(f, "transport error: {m}"),
            Error::Timeout(m) => write!(f, "timeout: {m}"),
            Error::Tls(m) => write!(f, "TLS error: {m}"),
            Error::Api(e) => write!(
                f,
                "{} {} ({}): {}",
                e.request, e.status, e.reason, e.message
            ),
            Error::Decode(m) => write!(f, "decode error: {m}"),
            Error::Cancelled => write!(f, "cancelled"),
            Error::WaitTimeout(m) => write!(f, "timed out waiting: {m}"),
            Error::Unmeetable(m) => write!(f, "the condition can no longer be met: {m}"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_display_names_request_status_and_reason() {
        let e = Error::Api(Box::new(ApiError {
            status: 404,
            reason: "NotFound".into(),
            message: "configmaps \"x\" not found".into(),
            details: None,
            request: "GET /api/v1/namespaces/a/configmaps/x".into(),
            body: b"{}".to_vec(),
        }));
        assert_eq!(
            e.to_string(),
            "GET /api/v1/namespaces/a/configmaps/x 404 (NotFound): configmaps \"x\" not found"
        );
        assert_eq!(e.kind(), ErrorKind::Api);
        assert_eq!(e.status(), 404);
        assert_eq!(e.class(), ErrorClass::NotFound);
    }

    fn api(status: u16, reason: &str) -> Error {
        Error::Api(Box::new(ApiError {
            status,
            reason: reason.into(),
            message: String::new(),
            details: None,
            request: "GET /x".into(),
            body: Vec::new(),
        }))
    }

    #[test]
    fn api_errors_are_classed_by_status_and_409_by_reason() {
        let cases = [
            (401, "Unauthorized", ErrorClass::Unauthorized, 5),
            (403, "Forbidden", ErrorClass::Forbidden, 5),
            (404, "NotFound", ErrorClass::NotFound, 5),
            (409, "AlreadyExists", ErrorClass::AlreadyExists, 5),
            (409, "Conflict", ErrorClass::Conflict, 5),
            // The reason decides only for 409: a 404 that says AlreadyExists is still a 404.
            (404, "AlreadyExists", ErrorClass::NotFound, 5),
            (410, "Expired", ErrorClass::Gone, 5),
            (422, "Invalid", ErrorClass::Invalid, 5),
            (429, "TooManyRequests", ErrorClass::TooManyRequests, 5),
            (400, "BadRequest", ErrorClass::OtherStatus, 5),
            (418, "", ErrorClass::OtherStatus, 5),
            (500, "InternalError", ErrorClass::ServerError, 6),
            (503, "ServiceUnavailable", ErrorClass::ServerError, 6),
        ];
        for (status, reason, class, exit) in cases {
            let e = api(status, reason);
            assert_eq!(e.class(), class, "{status} {reason}");
            assert_eq!(class.kind(), ErrorKind::Api);
            assert_eq!(class.exit_code(), exit, "{status} {reason}");
        }
    }

    #[test]
    fn every_other_error_has_its_own_class_and_exit_code() {
        let cases = [
            (Error::invalid("x"), ErrorClass::InvalidArgument, 2),
            (Error::config("x"), ErrorClass::Config, 3),
            (Error::Transport("x".into()), ErrorClass::Transport, 4),
            (Error::Timeout("x".into()), ErrorClass::Timeout, 4),
            (Error::Tls("x".into()), ErrorClass::Tls, 4),
            (Error::Decode("x".into()), ErrorClass::Decode, 1),
            (Error::Cancelled, ErrorClass::Cancelled, 1),
            (Error::WaitTimeout("x".into()), ErrorClass::WaitTimeout, 7),
            (Error::Unmeetable("x".into()), ErrorClass::Unmeetable, 8),
        ];
        for (e, class, exit) in cases {
            assert_eq!(e.class(), class, "{e}");
            assert_eq!(class.kind(), e.kind(), "{e}");
            assert_eq!(class.exit_code(), exit, "{e}");
        }
        // `ALL` lists each class once.
        let set: std::collections::HashSet<_> = ErrorClass::all().into_iter().collect();
        assert_eq!(set.len(), ErrorClass::all().len());
    }
}

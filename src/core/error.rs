//! One error type for everything the core does.
//!
//! Every front maps [`Error`] to its own form (a C result code + `incluster_error`, a Python
//! exception, a CLI exit code) through [`Error::kind`], so the grouping lives here once.
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
    }
}

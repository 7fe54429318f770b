//! A request to the API server and the answer to it.

use serde_json::Value;

use crate::core::api::patch::Patch;
use crate::core::error::{Error, Result};

/// The methods the HTTP layer sends (the API server knows no others; CONNECT and TRACE are
/// not API calls).
pub const SENDABLE_METHODS: [&str; 7] =
    ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// An API request. Build with [`Request::new`] and the `with_*` methods.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Request {
    /// HTTP method (`GET`, `POST`, `PUT`, `PATCH`, `DELETE`, ...).
    pub method: String,
    /// API path, starting with `/`.
    pub path: String,
    /// Query parameters; keys and values are percent-encoded when sent.
    pub query: Vec<(String, String)>,
    /// Request body.
    pub body: Option<Vec<u8>>,
    /// `Content-Type` of the body (default `application/json`).
    pub content_type: Option<String>,
    /// `Accept` (default `application/json`).
    pub accept: Option<String>,
}

impl Request {
    /// A request with no query and no body.
    pub fn new(method: &str, path: &str) -> Self {
        Request {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            ..Default::default()
        }
    }

    /// Add a query parameter.
    pub fn with_param(mut self, key: &str, value: &str) -> Self {
        self.query.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Set the body and its content type.
    pub fn with_body(mut self, body: Vec<u8>, content_type: Option<&str>) -> Self {
        self.body = Some(body);
        self.content_type = content_type.map(str::to_owned);
        self
    }

    /// Set a JSON body.
    pub fn with_json(self, value: &Value) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_default();
        self.with_body(body, Some("application/json"))
    }

    /// A PATCH request: the patch's content type and its query (`fieldManager`, `force`).
    pub fn patch(path: &str, patch: &Patch, body: Vec<u8>) -> Self {
        let mut r = Request::new("PATCH", path).with_body(body, Some(patch.content_type()));
        r.query.extend(patch.query());
        r
    }

    /// Check the method before anything is sent: it must be an RFC 9110 token (`tchar`s only)
    /// and one the HTTP layer can send. Either failure is an [`Error::InvalidArgument`]
    /// naming the method, so a typo (`request FOO /version`) is the caller's error, not a
    /// transport one.
    pub fn check_method(&self) -> Result<()> {
        let m = self.method.as_str();
        let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if m.is_empty() || !m.bytes().all(tchar) {
            return Err(Error::invalid(format!(
                "HTTP method {m:?} is not a valid method name (a token of letters, digits \
                 and !#$%&'*+-.^_`|~)"
            )));
        }
        if !SENDABLE_METHODS.contains(&m) {
            return Err(Error::invalid(format!(
                "HTTP method {m:?} is not supported: use one of {}",
                SENDABLE_METHODS.join(", ")
            )));
        }
        Ok(())
    }

    /// `METHOD /path`, for messages.
    pub fn describe(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// A response from the API server.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON. The client never asks for compression and never inflates a
    /// body, so one the server compressed anyway fails here, saying so (a gzip bomb stays
    /// the few bytes it was sent as).
    pub fn json(&self) -> Result<Value> {
        serde_json::from_slice(&self.body).map_err(|e| self.not_json(e))
    }

    /// [`Response::json`] for the answer to `req`: a failure names the request too.
    pub fn json_for(&self, req: &Request) -> Result<Value> {
        serde_json::from_slice(&self.body).map_err(|e| self.not_json_for(Some(req), e))
    }

    /// The error for a body that failed to parse as JSON (`why` is the parser's reason).
    /// See [`Response::not_json_for`].
    pub fn not_json(&self, why: impl std::fmt::Display) -> Error {
        self.not_json_for(None, why)
    }

    /// The error for a body that failed to parse as JSON: names the request (when given),
    /// the `Content-Type` the server sent (so `text/plain` from `/healthz` explains itself)
    /// and an unasked-for `Content-Encoding` when there is one. Every front that parses a
    /// body itself uses it, so they all say the same.
    pub fn not_json_for(&self, req: Option<&Request>, why: impl std::fmt::Display) -> Error {
        let encoding = self
            .header("content-encoding")
            .map(str::trim)
            .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("identity"));
        let what = match req {
            Some(r) => format!("{}: the response body", r.describe()),
            None => "the response body".to_owned(),
        };
        let ctype = match self.header("content-type").map(str::trim) {
            Some(c) if !c.is_empty() => format!("Content-Type: {c}"),
            _ => "no Content-Type".to_owned(),
        };
        Error::Decode(match encoding {
            Some(c) => format!(
                "{what} is not JSON: the server sent it compressed \
                 (Content-Encoding: {c}), which was not asked for: {why}"
            ),
            None => format!("{what} ({ctype}) is not JSON: {why}"),
        })
    }
}

//! The Kubernetes `Status` object (meta/v1) that the API server returns with every error.
//!
//! See the API conventions: a failed call answers `kind: Status` with `status: Failure`, a
//! machine-readable `reason`, a human `message`, the HTTP `code` and optional `details`.

use serde_json::Value;

/// One entry of `details.causes`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatusCause {
    /// Machine-readable cause (`FieldValueInvalid`, ...).
    pub reason: String,
    /// Human-readable description.
    pub message: String,
    /// The field the cause refers to, if any.
    pub field: String,
}

/// `Status.details`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatusDetails {
    /// The name of the object the status is about.
    pub name: String,
    /// Its API group.
    pub group: String,
    /// Its kind (or resource).
    pub kind: String,
    /// Its UID.
    pub uid: String,
    /// Why the request failed, field by field.
    pub causes: Vec<StatusCause>,
    /// How long the client should wait before retrying.
    pub retry_after_seconds: Option<u64>,
}

/// A parsed `Status` object.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Status {
    /// `Success` or `Failure`.
    pub status: String,
    /// Human-readable description.
    pub message: String,
    /// Machine-readable reason (`NotFound`, `Forbidden`, `AlreadyExists`, `Expired`, ...).
    pub reason: String,
    /// The HTTP status code the server meant.
    pub code: u16,
    /// Extra data about the failure.
    pub details: Option<StatusDetails>,
}

fn str_field(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

impl Status {
    /// Parse a `Status` from JSON bytes; `None` when the bytes are not a `Status` object.
    pub fn parse(body: &[u8]) -> Option<Status> {
        let v: Value = serde_json::from_slice(body).ok()?;
        Self::from_value(&v)
    }

    /// Read a `Status` from an already parsed JSON value (a watch `ERROR` event carries one).
    pub fn from_value(v: &Value) -> Option<Status> {
        if v.get("kind").and_then(Value::as_str) != Some("Status") {
            return None;
        }
        let details = v.get("details").filter(|d| d.is_object()).map(|d| {
            let causes = d
                .get("causes")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|c| StatusCause {
                            reason: str_field(c, "reason"),
                            message: str_field(c, "message"),
                            field: str_field(c, "field"),
                        })
                        .collect()
                })
                .unwrap_or_default();
            StatusDetails {
                name: str_field(d, "name"),
                group: str_field(d, "group"),
                kind: str_field(d, "kind"),
                uid: str_field(d, "uid"),
                causes,
                retry_after_seconds: d.get("retryAfterSeconds").and_then(Value::as_u64),
            }
        });
        Some(Status {
            status: str_field(v, "status"),
            message: str_field(v, "message"),
            reason: str_field(v, "reason"),
            code: v
                .get("code")
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok())
                .unwrap_or(0),
            details,
        })
    }
}

/// The reason the API server uses for an HTTP status when the body carried none (mirrors
/// apimachinery's `StatusReason` for each code).
pub fn default_reason(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        409 => "Conflict",
        410 => "Gone",
        413 => "RequestEntityTooLarge",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        300..=399 => "Redirect",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_status() {
        let body = br#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
            "message":"pods \"x\" is forbidden","reason":"Forbidden",
            "details":{"name":"x","kind":"pods","retryAfterSeconds":3,
            "causes":[{"reason":"FieldValueInvalid","message":"bad","field":"spec"}]},"code":403}"#;
        let s = Status::parse(body).unwrap();
        assert_eq!(s.reason, "Forbidden");
        assert_eq!(s.code, 403);
        let d = s.details.unwrap();
        assert_eq!(d.name, "x");
        assert_eq!(d.retry_after_seconds, Some(3));
        assert_eq!(d.causes[0].field, "spec");
    }

    #[test]
    fn rejects_non_status() {
        assert!(Status::parse(br#"{"kind":"Pod"}"#).is_none());
        assert!(Status::parse(b"<html>").is_none());
        assert!(Status::parse(b"").is_none());
    }
}

//! Watch events: one JSON line `{"type": ..., "object": {...}}` each.
//!
//! Parsing borrows from the line: the type, the object's raw bytes and the few metadata fields
//! the watch needs (resourceVersion to resume, namespace/name/uid to relist), skipping the rest
//! without building a tree. The fronts decode the object themselves, once.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::core::error::{Error, Result};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// An object was created (or, at the start of a watch, exists).
    Added,
    /// An object changed.
    Modified,
    /// An object was deleted; the object is its last state.
    Deleted,
    /// A progress marker: only `metadata.resourceVersion` is meaningful.
    Bookmark,
    /// The watch relisted (after a 410): the events up to [`EventType::ResyncEnd`] are the
    /// differences between what the consumer had seen and the server's current state.
    ResyncStart,
    /// End of the differences started by [`EventType::ResyncStart`].
    ResyncEnd,
}

impl EventType {
    /// The name used on the wire and by every front (`"ADDED"`, `"RESYNC_START"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
            EventType::Bookmark => "BOOKMARK",
            EventType::ResyncStart => "RESYNC_START",
            EventType::ResyncEnd => "RESYNC_END",
        }
    }
}

/// One event handed to the consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The event type.
    pub kind: EventType,
    /// The object, as the raw JSON bytes the server sent.
    pub object: Vec<u8>,
    /// `metadata.resourceVersion` of the object (for resync markers, of the list).
    pub resource_version: String,
}

/// The identity of an object, as the watch tracks it for relisting.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// Namespace ("" for cluster-scoped objects).
    pub namespace: String,
    /// Name.
    pub name: String,
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    object: &'a RawValue,
}

/// The parts of `metadata` the watch uses.
#[derive(Deserialize, Default)]
pub struct Meta<'a> {
    /// `metadata.name`.
    #[serde(borrow, default)]
    pub name: Option<Cow<'a, str>>,
    /// `metadata.namespace`.
    #[serde(borrow, default)]
    pub namespace: Option<Cow<'a, str>>,
    /// `metadata.uid`.
    #[serde(borrow, default)]
    pub uid: Option<Cow<'a, str>>,
    /// `metadata.resourceVersion`.
    #[serde(rename = "resourceVersion", borrow, default)]
    pub resource_version: Option<Cow<'a, str>>,
}

/// An object's `metadata` (everything else skipped).
#[derive(Deserialize)]
pub struct Head<'a> {
    /// The metadata, when present.
    #[serde(borrow, default)]
    pub metadata: Option<Meta<'a>>,
}

/// A Kubernetes `Status` inside an ERROR event.
#[derive(Deserialize)]
struct StatusHead<'a> {
    #[serde(default)]
    code: u16,
    #[serde(borrow, default)]
    reason: Option<Cow<'a, str>>,
}

/// A parsed line, borrowing from it.
pub enum Parsed<'a> {
    /// ADDED / MODIFIED / DELETED / BOOKMARK with the object's raw bytes and metadata.
    Event(EventType, &'a [u8], Meta<'a>),
    /// An ERROR event carrying a `Status` (`code`, `reason`, raw object).
    Error(u16, String, &'a [u8]),
}

/// Parse one event line. A malformed line is an [`Error::Decode`] quoting its start.
pub fn parse(line: &[u8]) -> Result<Parsed<'_>> {
    let bad = |why: String| {
        let shown: String = String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned();
        Error::Decode(format!("malformed watch event ({why}): {shown:?}"))
    };
    let l: Line<'_> = serde_json::from_slice(line).map_err(|e| bad(e.to_string()))?;
    let raw = l.object.get().as_bytes();
    let kind = match &*l.kind {
        "ADDED" => EventType::Added,
        "MODIFIED" => EventType::Modified,
        "DELETED" => EventType::Deleted,
        "BOOKMARK" => EventType::Bookmark,
        "ERROR" => {
            let s: StatusHead<'_> =
                serde_json::from_str(l.object.get()).map_err(|e| bad(e.to_string()))?;
            return Ok(Parsed::Error(
                s.code,
                s.reason.map(Cow::into_owned).unwrap_or_default(),
                raw,
            ));
        }
        other => return Err(bad(format!("unknown event type {other:?}"))),
    };
    let head: Head<'_> = serde_json::from_str(l.object.get()).map_err(|e| bad(e.to_string()))?;
    Ok(Parsed::Event(kind, raw, head.metadata.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrows_type_object_and_metadata() {
        let line = br#"{"type":"MODIFIED","object":{"kind":"ConfigMap","metadata":{"name":"a","namespace":"n","uid":"u","resourceVersion":"42","labels":{"x":"y"}},"data":{"k":"v"}}}"#;
        let Parsed::Event(kind, raw, meta) = parse(line).unwrap() else {
            panic!("not an event")
        };
        assert_eq!(kind, EventType::Modified);
        assert!(raw.starts_with(b"{\"kind\":\"ConfigMap\"") && raw.ends_with(b"}}"));
        assert_eq!(meta.resource_version.as_deref(), Some("42"));
        assert_eq!(
            (meta.name.as_deref(), meta.namespace.as_deref()),
            (Some("a"), Some("n"))
        );
    }

    #[test]
    fn error_events_and_malformed_lines() {
        let line = br#"{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old"}}"#;
        let Parsed::Error(code, reason, _) = parse(line).unwrap() else {
            panic!("not an error")
        };
        assert_eq!((code, reason.as_str()), (410, "Expired"));
        for bad in [
            &b"not json"[..],
            b"{\"type\":\"ADDED\"}",
            b"{\"type\":\"WHAT\",\"object\":{}}",
        ] {
            let e = parse(bad).err().unwrap();
            assert!(matches!(e, Error::Decode(_)), "{e}");
            assert!(e.to_string().contains("malformed watch event"), "{e}");
        }
    }
}

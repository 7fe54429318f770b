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

/// One event handed to the consumer; the object in the consumer's form (by default the raw
/// JSON bytes the server sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<O = Vec<u8>> {
    /// The event type.
    pub kind: EventType,
    /// The object.
    pub object: O,
    /// `metadata.resourceVersion` of the object (for resync markers, of the list).
    pub resource_version: String,
}

/// The metadata the watch tracks, owned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracked {
    /// `metadata.resourceVersion`.
    pub resource_version: String,
    /// `metadata.namespace` and `metadata.name`, when the object has a name.
    pub key: Option<Key>,
    /// `metadata.uid`.
    pub uid: String,
}

impl From<Meta<'_>> for Tracked {
    fn from(m: Meta<'_>) -> Self {
        Tracked {
            resource_version: m.resource_version.as_deref().unwrap_or_default().to_owned(),
            key: m.name.as_deref().map(|n| Key {
                namespace: m.namespace.as_deref().unwrap_or_default().to_owned(),
                name: n.to_owned(),
            }),
            uid: m.uid.as_deref().unwrap_or_default().to_owned(),
        }
    }
}

/// One decoded line.
#[derive(Debug)]
pub enum Decoded<O> {
    /// ADDED / MODIFIED / DELETED / BOOKMARK.
    Event(EventType, Tracked, O),
    /// An ERROR event: the `Status` code, reason and raw JSON.
    Error(u16, String, Vec<u8>),
}

/// How a front turns event lines into its own objects, in one pass over each line. The core
/// does the framing, tracking, resuming and relisting; the decoder only decodes.
pub trait Decoder {
    /// The front's form of an object.
    type Object;
    /// Decode one event line. A malformed line is an [`Error::Decode`].
    fn decode_line(&mut self, line: &[u8]) -> Result<Decoded<Self::Object>>;
    /// The front's form of an object the watch made itself (a relisted object, a tombstone,
    /// a resync marker), from its JSON.
    fn decode_object(&mut self, json: Vec<u8>) -> Result<Self::Object>;
}

/// The default decoder: objects stay the raw JSON bytes the server sent.
#[derive(Debug, Default, Clone, Copy)]
pub struct RawDecoder;

impl Decoder for RawDecoder {
    type Object = Vec<u8>;

    fn decode_line(&mut self, line: &[u8]) -> Result<Decoded<Vec<u8>>> {
        Ok(match parse(line)? {
            Parsed::Event(kind, raw, meta) => Decoded::Event(kind, meta.into(), raw.to_vec()),
            Parsed::Error(code, reason, raw) => Decoded::Error(code, reason, raw.to_vec()),
        })
    }

    fn decode_object(&mut self, json: Vec<u8>) -> Result<Vec<u8>> {
        Ok(json)
    }
}

/// The event type named on the wire (`ADDED`, ...), or `None` for ERROR and unknown names.
pub fn event_type(name: &str) -> Option<EventType> {
    Some(match name {
        "ADDED" => EventType::Added,
        "MODIFIED" => EventType::Modified,
        "DELETED" => EventType::Deleted,
        "BOOKMARK" => EventType::Bookmark,
        _ => return None,
    })
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

/// Read `metadata` from an object, stopping right after it: Kubernetes puts `metadata` near the
/// start (after `kind` and `apiVersion`), so the rest of a large object is not scanned again.
pub fn read_meta(raw: &str) -> std::result::Result<Meta<'_>, serde_json::Error> {
    use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};

    /// The error a visit returns to stop early once `metadata` is read.
    const STOP: &str = "incluster: metadata read";

    struct Find<'a, 'de>(&'a mut Option<Meta<'de>>);

    impl<'de> Visitor<'de> for Find<'_, 'de> {
        type Value = ();

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
            while let Some(k) = map.next_key::<Cow<'de, str>>()? {
                if k == "metadata" {
                    *self.0 = Some(map.next_value::<Meta<'de>>()?);
                    return Err(serde::de::Error::custom(STOP));
                }
                map.next_value::<IgnoredAny>()?;
            }
            Ok(())
        }
    }

    let mut found = None;
    let mut de = serde_json::Deserializer::from_str(raw);
    match de.deserialize_map(Find(&mut found)) {
        Ok(()) => Ok(found.unwrap_or_default()),
        Err(e) if found.is_some() && e.to_string().starts_with(STOP) => {
            Ok(found.unwrap_or_default())
        }
        Err(e) => Err(e),
    }
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
        "ERROR" => {
            let s: StatusHead<'_> =
                serde_json::from_str(l.object.get()).map_err(|e| bad(e.to_string()))?;
            return Ok(Parsed::Error(
                s.code,
                s.reason.map(Cow::into_owned).unwrap_or_default(),
                raw,
            ));
        }
        other => event_type(other).ok_or_else(|| bad(format!("unknown event type {other:?}")))?,
    };
    let meta = read_meta(l.object.get()).map_err(|e| bad(e.to_string()))?;
    Ok(Parsed::Event(kind, raw, meta))
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

#[cfg(test)]
mod meta_tests {
    use super::*;

    #[test]
    fn metadata_anywhere_or_nowhere() {
        let m = read_meta(r#"{"kind":"Pod","metadata":{"name":"a","resourceVersion":"7"},"spec":{"x":[1,2,{"y":"z"}]}}"#).unwrap();
        assert_eq!(
            (m.name.as_deref(), m.resource_version.as_deref()),
            (Some("a"), Some("7"))
        );
        let m = read_meta(r#"{"spec":{"a":1},"metadata":{"uid":"u"}}"#).unwrap();
        assert_eq!(m.uid.as_deref(), Some("u"));
        let m = read_meta(r#"{"kind":"X"}"#).unwrap();
        assert!(m.name.is_none());
        assert!(read_meta("[1]").is_err());
        assert!(read_meta(r#"{"metadata":{"name":5}}"#).is_err());
    }
}

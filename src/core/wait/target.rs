//! What a wait is about: one object by name, or the objects of a collection a label selector
//! picks.

use std::fmt;

use crate::core::client::Client;
use crate::core::error::{Error, Result};
use crate::core::watch::target::target as watch_target;

/// The objects a wait judges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The collection's path (`/apis/batch/v1/namespaces/ns/jobs`).
    pub collection: String,
    /// The object's name, when the target is one object.
    pub name: Option<String>,
    /// The label selector, when the target is the objects of a collection.
    pub label_selector: Option<String>,
}

impl fmt::Display for Target {
    /// `COLLECTION/NAME`, or `COLLECTION` with `-l SELECTOR`, for messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.name, &self.label_selector) {
            (Some(n), _) => write!(f, "{}/{n}", self.collection),
            (None, Some(s)) => write!(f, "{} -l {s}", self.collection),
            (None, None) => write!(f, "{} (all objects)", self.collection),
        }
    }
}

/// The target `what` names: an object path (`/api/v1/namespaces/ns/pods/web-0`) or a
/// collection path (`/api/v1/namespaces/ns/pods`, every object in it, or those
/// `label_selector` picks), or the same by name (`deploy/web`, `jobs.batch/pi`, `pods`),
/// resolved through the client's discovery ([`Client::resolve`]) in `namespace` (default the
/// client's). The one entry point every front uses.
///
/// A name that names no resource (listing the close matches), a subresource path, a label
/// selector with an object, or a namespace with a path (a path names its own namespace) is an
/// [`Error::InvalidArgument`] naming what to give instead.
pub fn target(
    client: &Client,
    what: &str,
    namespace: Option<&str>,
    label_selector: Option<&str>,
) -> Result<Target> {
    if !what.starts_with('/') {
        // A name: its object or collection path, through discovery (a path needs none).
        let resolved = client.resolve(what, namespace, false)?;
        return from_path(&resolved.path, label_selector);
    }
    if let Some(ns) = namespace {
        return Err(Error::invalid(format!(
            "wait target {what}: a path names its own namespace; the namespace {ns:?} applies \
             to resource names only"
        )));
    }
    from_path(what, label_selector)
}

/// The target an object or collection path names.
pub(crate) fn from_path(path: &str, label_selector: Option<&str>) -> Result<Target> {
    if path.contains('?') {
        return Err(Error::invalid(format!(
            "wait target {path}: a path without a query (give the label selector on its own)"
        )));
    }
    let t = watch_target(path).map_err(|e| match e {
        Error::InvalidArgument(m) => Error::invalid(format!("wait target: {m}")),
        e => e,
    })?;
    let name = t
        .name_selector
        .as_deref()
        .and_then(|s| s.strip_prefix("metadata.name="))
        .map(str::to_owned);
    let label_selector = label_selector.filter(|s| !s.is_empty()).map(str::to_owned);
    if let (Some(name), Some(sel)) = (&name, &label_selector) {
        return Err(Error::invalid(format!(
            "wait target {path}: names the object {name:?}; the label selector {sel:?} \
             applies to a collection (drop the name, or the selector)"
        )));
    }
    Ok(Target {
        collection: t.path,
        name,
        label_selector,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_and_collections() {
        let t = from_path("/apis/batch/v1/namespaces/ns/jobs/pi", None).unwrap();
        assert_eq!(t.collection, "/apis/batch/v1/namespaces/ns/jobs");
        assert_eq!(t.name.as_deref(), Some("pi"));
        assert_eq!(t.to_string(), "/apis/batch/v1/namespaces/ns/jobs/pi");
        let t = from_path("/api/v1/namespaces/ns/pods", Some("app=web")).unwrap();
        assert_eq!(
            (
                t.collection.as_str(),
                t.name.as_deref(),
                t.label_selector.as_deref()
            ),
            ("/api/v1/namespaces/ns/pods", None, Some("app=web"))
        );
        assert_eq!(t.to_string(), "/api/v1/namespaces/ns/pods -l app=web");
    }

    #[test]
    fn bad_targets_say_what_to_give() {
        for (path, sel, says) in [
            ("/api/v1/namespaces/ns/pods/p/status", None, "subresource"),
            (
                "/api/v1/namespaces/ns/pods/p",
                Some("a=b"),
                "applies to a collection",
            ),
            ("/api/v1/namespaces/ns/pods?x=1", None, "without a query"),
        ] {
            let e = from_path(path, sel).unwrap_err();
            assert!(matches!(e, Error::InvalidArgument(_)), "{path}: {e}");
            assert!(e.to_string().contains(says), "{path}: {e}");
        }
    }
}

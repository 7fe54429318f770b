//! What a watch path names: a collection, or one object (which the API server cannot watch by
//! its own path, so the watch becomes one of its collection narrowed to that name, as
//! `kubectl get TYPE NAME --watch` does).

use crate::core::error::{Error, Result};

/// The collection to watch and, when the path named one object, the field selector that
/// narrows the collection to it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Target {
    /// The collection's path.
    pub(crate) path: String,
    /// `metadata.name=NAME` when the path named one object.
    pub(crate) name_selector: Option<String>,
}

/// Read a watch path. Paths outside `/api/v1` and `/apis/GROUP/VERSION`, and the legacy
/// `/api/v1/watch/...` form, are taken as they are. A subresource cannot be watched.
pub(crate) fn target(path: &str) -> Result<Target> {
    let as_is = || Target {
        path: path.to_owned(),
        name_selector: None,
    };
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let rest = match parts.as_slice() {
        ["", "api", _version, rest @ ..] => rest,
        ["", "apis", _group, _version, rest @ ..] => rest,
        _ => return Ok(as_is()),
    };
    // [namespaces, NS, RESOURCE, NAME?, SUB...] or [RESOURCE, NAME?, SUB...]
    let scope = match rest {
        ["namespaces", _ns, _resource, ..] => 2,
        [first, ..] if *first != "watch" => 0,
        _ => return Ok(as_is()),
    };
    match &rest[scope..] {
        [_resource] => Ok(as_is()),
        [_resource, name] => {
            let keep = parts.len() - 1;
            Ok(Target {
                path: parts[..keep].join("/"),
                name_selector: Some(format!("metadata.name={name}")),
            })
        }
        [resource, name, sub, ..] => Err(Error::invalid(format!(
            "cannot watch {path}: it names the {sub} subresource of {resource}/{name}; watch \
             the collection (with fieldSelector=metadata.name={name})"
        ))),
        [] => Ok(as_is()),
    }
}

/// `selector` AND-ed with `extra` (field selectors join terms with commas).
pub(crate) fn and_selector(selector: Option<&str>, extra: &str) -> String {
    match selector {
        Some(s) if !s.is_empty() => format!("{s},{extra}"),
        _ => extra.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(path: &str) -> (String, Option<String>) {
        let t = target(path).unwrap();
        (t.path, t.name_selector)
    }

    #[test]
    fn collections_are_watched_as_they_are() {
        for p in [
            "/api/v1/pods",
            "/api/v1/namespaces",
            "/api/v1/namespaces/ns/pods",
            "/apis/apps/v1/namespaces/ns/deployments",
            "/apis/apps/v1/deployments",
            "/api/v1/watch/namespaces/ns/pods/x",
            "/version",
        ] {
            assert_eq!(t(p), (p.to_owned(), None), "{p}");
        }
    }

    #[test]
    fn one_object_becomes_its_collection_narrowed_by_name() {
        for (path, collection, name) in [
            (
                "/api/v1/namespaces/ns/pods/web-0",
                "/api/v1/namespaces/ns/pods",
                "web-0",
            ),
            // The namespace object itself (cluster-scoped).
            ("/api/v1/namespaces/ns", "/api/v1/namespaces", "ns"),
            (
                "/apis/apps/v1/namespaces/ns/deployments/web/",
                "/apis/apps/v1/namespaces/ns/deployments",
                "web",
            ),
            ("/api/v1/nodes/n1", "/api/v1/nodes", "n1"),
        ] {
            let want = (collection.to_owned(), Some(format!("metadata.name={name}")));
            assert_eq!(t(path), want, "{path}");
        }
    }

    #[test]
    fn subresources_are_refused_by_name() {
        let e = target("/api/v1/namespaces/ns/pods/web-0/status").unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("status subresource") && m.contains("metadata.name=web-0"),
            "{m}"
        );
        assert!(target("/api/v1/nodes/n1/proxy").is_err());
    }

    #[test]
    fn selectors_combine() {
        assert_eq!(and_selector(None, "metadata.name=x"), "metadata.name=x");
        assert_eq!(and_selector(Some(""), "metadata.name=x"), "metadata.name=x");
        assert_eq!(
            and_selector(Some("status.phase=Running"), "metadata.name=x"),
            "status.phase=Running,metadata.name=x"
        );
    }
}

//! Server-side apply of manifests (`kubectl apply --server-side`): YAML or JSON text, several
//! documents (and `kind: List` items) per text, each object's resource found through discovery
//! from its `apiVersion` and `kind`, then one apply PATCH per object.

use serde_json::Value;

use crate::core::api::patch::{Patch, PatchType};
use crate::core::api::request::Request;
use crate::core::client::Client;
use crate::core::discovery::check_segment;
use crate::core::error::{Error, Result};

/// How objects are applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// The field manager (default [`crate::core::api::patch::DEFAULT_FIELD_MANAGER`]).
    pub field_manager: Option<String>,
    /// Take over fields other managers own (`--force-conflicts`).
    pub force: bool,
    /// The namespace of namespaced objects that name none (default: the client's). An object
    /// that names another one is refused, as kubectl refuses it.
    pub namespace: Option<String>,
}

/// One applied object.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The object's kind (`Deployment`).
    pub kind: String,
    /// The object's API group (`apps`, `""` for the core group).
    pub group: String,
    /// Its name.
    pub name: String,
    /// Its namespace (`None` when cluster-scoped).
    pub namespace: Option<String>,
    /// The path it was applied at.
    pub path: String,
    /// The object as the server returned it (JSON).
    pub object: Vec<u8>,
}

impl Applied {
    /// `kind[.group]/name` as kubectl prints it (`deployment.apps/web`), the form of its
    /// `web serverside-applied` line.
    pub fn describe(&self) -> String {
        let kind = self.kind.to_ascii_lowercase();
        if self.group.is_empty() {
            format!("{kind}/{}", self.name)
        } else {
            format!("{kind}.{}/{}", self.group, self.name)
        }
    }
}

/// Read manifests: one or more YAML documents (JSON is YAML), empty documents skipped, the
/// items of a `kind: List` taken one by one. Every object must have `apiVersion`, `kind` and
/// `metadata.name`: all are checked before anything is applied, and an error names the
/// document (counted from 1).
pub fn parse_manifests(text: &str) -> Result<Vec<Value>> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).map_err(|e| {
        // From the location only: the parser's own text can quote the document, and a
        // manifest may hold a Secret.
        let at = e
            .location()
            .map(|l| format!(" at line {}, column {}", l.line(), l.column()))
            .unwrap_or_default();
        Error::invalid(format!("the manifest is not valid YAML or JSON{at}"))
    })?;
    let mut out = Vec::new();
    for (i, doc) in docs.into_iter().enumerate() {
        let n = i + 1;
        match doc {
            Value::Null => continue,
            Value::Object(_) if doc["kind"] == "List" && doc["items"].is_array() => {
                if let Value::Array(items) = doc["items"].clone() {
                    out.extend(items);
                }
            }
            Value::Object(_) => out.push(doc),
            _ => {
                return Err(Error::invalid(format!(
                    "document {n} of the manifest is not an object"
                )));
            }
        }
    }
    for (i, o) in out.iter().enumerate() {
        check_object(o).map_err(|e| in_document(e, i + 1, o))?;
    }
    Ok(out)
}

fn text<'a>(o: &'a Value, pointer: &str) -> Option<&'a str> {
    o.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn check_object(o: &Value) -> Result<()> {
    for (field, pointer) in [
        ("apiVersion", "/apiVersion"),
        ("kind", "/kind"),
        ("metadata.name", "/metadata/name"),
    ] {
        if text(o, pointer).is_none() {
            return Err(Error::invalid(format!(
                "it has no {field} (apply needs apiVersion, kind and metadata.name)"
            )));
        }
    }
    Ok(())
}

/// `document N (Kind name)` before an error's message (an API error keeps its status and
/// class: the prefix goes before its request).
fn in_document(e: Error, n: usize, o: &Value) -> Error {
    let what = match (text(o, "/kind"), text(o, "/metadata/name")) {
        (Some(k), Some(name)) => format!("document {n} ({k} {name})"),
        _ => format!("document {n}"),
    };
    match e {
        Error::Api(mut a) => {
            a.request = format!("{what}: {}", a.request);
            Error::Api(a)
        }
        Error::InvalidArgument(m) => Error::InvalidArgument(format!("{what}: {m}")),
        Error::Config(m) => Error::Config(format!("{what}: {m}")),
        Error::Transport(m) => Error::Transport(format!("{what}: {m}")),
        Error::Timeout(m) => Error::Timeout(format!("{what}: {m}")),
        Error::Tls(m) => Error::Tls(format!("{what}: {m}")),
        Error::Decode(m) => Error::Decode(format!("{what}: {m}")),
        // Not produced by an apply; kept as they are.
        e @ (Error::Cancelled | Error::WaitTimeout(_) | Error::Unmeetable(_)) => e,
    }
}

impl Client {
    /// Server-side apply one object (a PATCH `application/apply-patch+yaml` at its path, the
    /// resource found from its `apiVersion` and `kind`).
    pub fn apply(&self, object: &Value, opts: &ApplyOptions) -> Result<Applied> {
        check_object(object)?;
        let api_version = text(object, "/apiVersion").unwrap_or_default();
        let kind = text(object, "/kind").unwrap_or_default();
        let name = text(object, "/metadata/name").unwrap_or_default();
        check_segment("object name", name, name)?;
        let resource = self.resource_for_kind(api_version, kind)?;
        let namespace = if resource.namespaced {
            let given = opts.namespace.as_deref();
            let ns = match (text(object, "/metadata/namespace"), given) {
                (Some(doc), Some(arg)) if doc != arg => {
                    return Err(Error::invalid(format!(
                        "the object's namespace {doc:?} is not the namespace {arg:?} asked for"
                    )));
                }
                (Some(doc), _) => doc,
                (None, Some(arg)) => arg,
                (None, None) => self.namespace(),
            };
            check_segment("namespace", ns, ns)?;
            Some(ns.to_owned())
        } else {
            None
        };
        let path = resource.path(namespace.as_deref(), Some(name));
        let patch = Patch::new(PatchType::Apply, opts.field_manager.as_deref(), opts.force)?;
        // JSON is YAML: the apply content type takes the object as JSON.
        let body = serde_json::to_vec(object).unwrap_or_default();
        let resp = self.request(&Request::patch(&path, &patch, body))?;
        Ok(Applied {
            kind: kind.to_owned(),
            group: resource.group,
            name: name.to_owned(),
            namespace,
            path,
            object: resp.body,
        })
    }

    /// Apply objects in order, calling `each` after each one; stops at the first failure with
    /// an error naming the document (counted from 1), the ones before it being applied.
    pub fn apply_all(
        &self,
        objects: &[Value],
        opts: &ApplyOptions,
        mut each: impl FnMut(&Applied) -> Result<()>,
    ) -> Result<Vec<Applied>> {
        let mut done = Vec::with_capacity(objects.len());
        for (i, o) in objects.iter().enumerate() {
            let a = self.apply(o, opts).map_err(|e| in_document(e, i + 1, o))?;
            each(&a)?;
            done.push(a);
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_lists_and_json() {
        let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\n\
                    apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: b}}\n";
        let objs = parse_manifests(yaml).unwrap();
        let names: Vec<&str> = objs
            .iter()
            .map(|o| text(o, "/metadata/name").unwrap())
            .collect();
        assert_eq!(names, ["a", "b"]);
        let json = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"w"},"spec":{"replicas":2}}"#;
        let objs = parse_manifests(json).unwrap();
        assert_eq!(objs[0]["spec"]["replicas"], 2);
    }

    #[test]
    fn errors_name_the_document() {
        let e = parse_manifests("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: Pod\nmetadata: {name: b}\n")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid argument: document 2 (Pod b): it has no apiVersion (apply needs \
             apiVersion, kind and metadata.name)"
        );
        let e = parse_manifests("a: [\n").unwrap_err();
        assert!(
            e.to_string().contains("not valid YAML or JSON at line"),
            "{e}"
        );
        // A Secret's value in a broken manifest is never quoted back.
        let e = parse_manifests("kind: Secret\nstringData: {password: \"hunter2\n").unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let e = parse_manifests("- 1\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("document 1 of the manifest is not an object"),
            "{e}"
        );
    }

    #[test]
    fn describe_is_kubectls() {
        let a = Applied {
            kind: "Deployment".into(),
            group: "apps".into(),
            name: "web".into(),
            namespace: Some("x".into()),
            path: String::new(),
            object: Vec::new(),
        };
        assert_eq!(a.describe(), "deployment.apps/web");
    }
}

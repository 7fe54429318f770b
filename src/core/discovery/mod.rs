//! Resources by name: kubectl's forms (`pods`, `pod/web-0`, `po`, `deploy/web`, `jobs.batch`,
//! `deployments.v1.apps`, a CRD's plural, singular, short name or kind) resolved to API paths
//! through the server's discovery documents.
//!
//! The catalog is fetched on first use (two requests with aggregated discovery), kept per
//! client for [`TTL`], and fetched again once when a name is not in it, so a CRD created a
//! moment ago is found without waiting out the TTL. A string starting with `/` is a path and
//! never causes a discovery request.

mod catalog;
mod documents;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

pub use catalog::ApiResource;
use catalog::{Catalog, Lookup, ambiguous};

use crate::core::client::Client;
use crate::core::error::{Error, Result};

/// How long a fetched catalog is trusted. A miss refetches at once whatever its age, so this
/// only bounds how long a removed or changed resource can still be resolved from memory.
pub const TTL: Duration = Duration::from_secs(300);

/// A client's discovery cache (shared by its clones).
#[derive(Debug, Default)]
pub(crate) struct Cache {
    slot: Mutex<Option<(Instant, Arc<Catalog>)>>,
}

impl Cache {
    fn fresh(&self) -> Option<Arc<Catalog>> {
        let slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        slot.as_ref()
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, c)| Arc::clone(c))
    }

    fn store(&self, catalog: Catalog) -> Arc<Catalog> {
        let catalog = Arc::new(catalog);
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((Instant::now(), Arc::clone(&catalog)));
        catalog
    }

    fn clear(&self) {
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// What a path or a kubectl resource name resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The path to request or watch: the object's path when a name was given
    /// (`/apis/apps/v1/namespaces/ns/deployments/web`), else the collection's
    /// (`/api/v1/namespaces/ns/pods`, or `/api/v1/pods` across all namespaces). A path given
    /// as the input is returned unchanged.
    pub path: String,
    /// The object's name (`web` in `deploy/web`); `None` for a collection or a path.
    pub name: Option<String>,
    /// The namespace in the path; `None` for cluster-scoped resources, all namespaces, or a
    /// path given as the input.
    pub namespace: Option<String>,
    /// The resource (group, version, plural, kind, scope); `None` when the input was a path
    /// (no discovery request is made for paths).
    pub resource: Option<ApiResource>,
}

impl Resolved {
    /// The collection the object belongs to (`/apis/apps/v1/namespaces/ns/deployments` for
    /// `deploy/web`), or the collection itself: what a list or a watch of the object
    /// requests, narrowed by `fieldSelector=metadata.name=NAME`. For a path given as the
    /// input, its collection when it names an object of `/api/v1` or `/apis/GROUP/VERSION`,
    /// else the path as it is.
    pub fn collection_path(&self) -> String {
        match &self.resource {
            Some(r) => r.path(self.namespace.as_deref(), None),
            None => crate::core::watch::target::target(&self.path)
                .map(|t| t.path)
                .unwrap_or_else(|_| self.path.clone()),
        }
    }
}

/// Refuse a name or namespace that cannot be one path segment (the server would read it as
/// several, or as a query).
pub(crate) fn check_segment(what: &str, value: &str, input: &str) -> Result<()> {
    let bad = value.is_empty()
        || value == "."
        || value == ".."
        || value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "/?#%".contains(c));
    if bad {
        return Err(Error::invalid(format!(
            "{what} {value:?} in {input:?} is not a valid name (it must be one non-empty path \
             segment without whitespace, '/', '?', '#' or '%')"
        )));
    }
    Ok(())
}

/// Look a type name up in the catalog of two aggregated discovery documents (the bodies of
/// `/api` and `/apis`), without a client: the lookup [`Client::resource_for`] does, for tools,
/// tests and fuzzing.
pub fn resource_in_documents(api: &[u8], apis: &[u8], type_name: &str) -> Result<ApiResource> {
    let c = documents::aggregated(api, apis)?;
    match c.lookup(type_name) {
        Lookup::Found(r) => Ok(r.clone()),
        Lookup::Ambiguous(rivals) => Err(ambiguous(type_name, &rivals)),
        Lookup::Missing => Err(c.missing(type_name)),
    }
}

impl Client {
    /// Resolve `what` — an API path, or a kubectl resource name (`pods`, `po`, `pod/web-0`,
    /// `deploy/web`, `jobs.batch`, `deployments.v1.apps/web`, a CRD's plural, singular, short
    /// name or kind, case-insensitive) — to the path to request or watch.
    ///
    /// `namespace` is used for namespaced resources (default: the client's namespace);
    /// cluster-scoped resources ignore it. `all_namespaces` gives the collection across all
    /// namespaces (and refuses an object name, as kubectl does). A path (starting with `/`)
    /// is returned unchanged without any request; with a path, `namespace` and
    /// `all_namespaces` are refused, since the path already says where it points.
    ///
    /// Errors: an unknown name is [`Error::InvalidArgument`] naming it and the close matches
    /// (`no resource "deploymnet"; did you mean deployments.apps?`), never the API's 404 (which
    /// means a missing object); so is a name several resources of one group version answer
    /// to. Discovery's own failures (transport, 403, ...) are returned as they are.
    pub fn resolve(
        &self,
        what: &str,
        namespace: Option<&str>,
        all_namespaces: bool,
    ) -> Result<Resolved> {
        if what.starts_with('/') {
            if namespace.is_some() || all_namespaces {
                return Err(Error::invalid(format!(
                    "{what:?} is an API path, which names its namespace itself: a namespace \
                     or all-namespaces applies only to resource names such as pods or deploy/web"
                )));
            }
            return Ok(Resolved {
                path: what.to_owned(),
                name: None,
                namespace: None,
                resource: None,
            });
        }
        if what.starts_with("api/") || what.starts_with("apis/") {
            // `api/v1/...` is a path without its '/', not the resource "api".
            return Err(Error::invalid(format!(
                "API path {what:?} must start with '/' (for example /{what})"
            )));
        }
        let (type_name, name) = match what.split_once('/') {
            Some((t, n)) => {
                check_segment("object name", n, what)?;
                (t, Some(n))
            }
            None => (what, None),
        };
        if type_name.is_empty() {
            return Err(Error::invalid(format!(
                "{what:?} names no resource: give a path starting with '/' or a resource name \
                 such as pods, deploy/web or jobs.batch"
            )));
        }
        let resource = self.resource_for(type_name)?;
        let ns = if !resource.namespaced || all_namespaces {
            None
        } else {
            let ns = namespace.unwrap_or_else(|| self.namespace());
            check_segment("namespace", ns, what)?;
            Some(ns.to_owned())
        };
        if all_namespaces && name.is_some() && resource.namespaced {
            return Err(Error::invalid(format!(
                "{what:?} names one object, which cannot be fetched across all namespaces: \
                 give its namespace instead"
            )));
        }
        let path = resource.path(ns.as_deref(), name);
        Ok(Resolved {
            path,
            name: name.map(str::to_owned),
            namespace: ns,
            resource: Some(resource),
        })
    }

    /// The path `what` stands for: a path unchanged (no request), a name through
    /// [`Client::resolve`]. What every front calls where it takes "a path or a name".
    pub fn target_path(
        &self,
        what: &str,
        namespace: Option<&str>,
        all_namespaces: bool,
    ) -> Result<String> {
        Ok(self.resolve(what, namespace, all_namespaces)?.path)
    }

    /// The resource a type name (`pods`, `deploy`, `jobs.batch`, a kind) names; see
    /// [`Client::resolve`] for the forms and the errors.
    pub fn resource_for(&self, type_name: &str) -> Result<ApiResource> {
        self.with_catalog(|c| match c.lookup(type_name) {
            Lookup::Found(r) => Some(Ok(r.clone())),
            Lookup::Ambiguous(rivals) => Some(Err(ambiguous(type_name, &rivals))),
            Lookup::Missing => None,
        })?
        .map_err(|c| c.missing(type_name))?
    }

    /// The resource of objects of this `apiVersion` (`v1`, `apps/v1`) and `kind`
    /// (`Deployment`, exactly as in a manifest). Unknown: [`Error::InvalidArgument`] naming
    /// both.
    pub fn resource_for_kind(&self, api_version: &str, kind: &str) -> Result<ApiResource> {
        self.with_catalog(|c| c.by_kind(api_version, kind).cloned())?
            .map_err(|c| {
                let hint = match c.lookup(kind) {
                    Lookup::Found(r) => {
                        format!(" (the server has {} in {})", kind, r.api_version())
                    }
                    _ => String::new(),
                };
                Error::invalid(format!(
                    "no resource of kind {kind:?} in apiVersion {api_version:?} on the \
                     server{hint}"
                ))
            })
    }

    /// Forget the discovery catalog, so the next name is looked up in a fresh one.
    pub fn invalidate_discovery(&self) {
        self.discovery_cache().clear();
    }

    /// Run `find` on the cached catalog; when it finds nothing in a catalog that was not
    /// fetched just now, fetch once more and try again. `Err(catalog)` when both miss.
    fn with_catalog<T>(
        &self,
        find: impl Fn(&Catalog) -> Option<T>,
    ) -> Result<std::result::Result<T, Arc<Catalog>>> {
        let cache = self.discovery_cache();
        if let Some(found) = cache.fresh().and_then(|c| find(&c)) {
            return Ok(Ok(found));
        }
        let c = cache.store(documents::fetch(self)?);
        Ok(find(&c).ok_or(c))
    }
}

//! The resources a server serves and the lookup of a kubectl resource name among them, with
//! kubectl's precedence (client-go's `restmapper`): plural, singular and kind before short
//! names; the core group first, then the groups in the server's order; in a group its
//! preferred version first.

use crate::core::error::Error;

/// One resource the API server serves, as discovery describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResource {
    /// The API group (`""` for the core group, `apps`, `batch`, `example.com`).
    pub group: String,
    /// The version (`v1`, `v1beta1`).
    pub version: String,
    /// The plural resource name, the one in paths (`deployments`).
    pub plural: String,
    /// The singular name (`deployment`).
    pub singular: String,
    /// The kind (`Deployment`).
    pub kind: String,
    /// Whether objects live in a namespace (false for cluster-scoped resources).
    pub namespaced: bool,
    /// Short names (`deploy`).
    pub short_names: Vec<String>,
    /// The verbs the resource supports (`get`, `list`, `watch`, ...).
    pub verbs: Vec<String>,
}

impl ApiResource {
    /// Build one; a missing singular is the lower-cased kind (kubectl's guess for servers
    /// that do not list singular names).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        group: &str,
        version: &str,
        plural: &str,
        singular: &str,
        kind: &str,
        namespaced: bool,
        short_names: Vec<String>,
        verbs: Vec<String>,
    ) -> Self {
        let singular = if singular.is_empty() {
            kind.to_ascii_lowercase()
        } else {
            singular.to_owned()
        };
        ApiResource {
            group: group.to_owned(),
            version: version.to_owned(),
            plural: plural.to_owned(),
            singular,
            kind: kind.to_owned(),
            namespaced,
            short_names,
            verbs,
        }
    }

    /// `apiVersion` as objects carry it: `v1`, `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The name kubectl prints for the resource: `pods`, `deployments.apps`.
    pub fn qualified_name(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The path of the collection (`name` `None`) or of one object: in `namespace` for a
    /// namespaced resource (`None`: across all namespaces), never for a cluster-scoped one.
    pub fn path(&self, namespace: Option<&str>, name: Option<&str>) -> String {
        let mut path = self.base_path();
        if let (true, Some(ns)) = (self.namespaced, namespace) {
            path.push_str("/namespaces/");
            path.push_str(ns);
        }
        path.push('/');
        path.push_str(&self.plural);
        if let Some(n) = name {
            path.push('/');
            path.push_str(n);
        }
        path
    }

    /// The group version's path: `/api/v1`, `/apis/apps/v1`.
    pub fn base_path(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        }
    }
}

/// A resource with its place in the server's priority order.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) resource: ApiResource,
    /// 0 for the core group, then the group's position in `/apis`.
    pub(crate) group_rank: usize,
    /// 0 for the group's preferred version.
    pub(crate) version_rank: usize,
}

/// Everything discovery found.
#[derive(Debug, Clone, Default)]
pub(crate) struct Catalog {
    pub(crate) entries: Vec<Entry>,
    /// Group versions whose documents could not be read (legacy discovery only), for messages.
    pub(crate) failed: Vec<String>,
}

/// A resource name as kubectl reads one: `RESOURCE`, `RESOURCE.GROUP` or
/// `RESOURCE.VERSION.GROUP`, compared lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TypeArg {
    resource: String,
    group: Option<String>,
    version: Option<String>,
}

/// The readings of a type name, tried in order: with two or more dots the fully specified
/// `RESOURCE.VERSION.GROUP` first, then `RESOURCE.GROUP` (so `foos.example.com` is the
/// resource `foos` of the group `example.com`), as kubectl's `ParseResourceArg`.
fn readings(type_name: &str) -> Vec<TypeArg> {
    let lower = type_name.to_ascii_lowercase();
    let Some((resource, rest)) = lower.split_once('.') else {
        return vec![TypeArg {
            resource: lower,
            group: None,
            version: None,
        }];
    };
    let mut out = Vec::with_capacity(2);
    if let Some((version, group)) = rest.split_once('.') {
        out.push(TypeArg {
            resource: resource.to_owned(),
            group: Some(group.to_owned()),
            version: Some(version.to_owned()),
        });
    }
    out.push(TypeArg {
        resource: resource.to_owned(),
        group: Some(rest.to_owned()),
        version: None,
    });
    out
}

/// How well a resource matches a name: by plural, singular or kind (0), by short name (1).
fn tier(r: &ApiResource, a: &TypeArg) -> Option<u8> {
    if a.group.as_ref().is_some_and(|g| *g != r.group)
        || a.version.as_ref().is_some_and(|v| *v != r.version)
    {
        return None;
    }
    let n = a.resource.as_str();
    if r.plural == n || r.singular == n || r.kind.eq_ignore_ascii_case(n) {
        Some(0)
    } else if r.short_names.iter().any(|s| s == n) {
        Some(1)
    } else {
        None
    }
}

/// What a lookup found.
#[derive(Debug)]
pub(crate) enum Lookup<'a> {
    /// The one resource the name means.
    Found(&'a ApiResource),
    /// Nothing by that name.
    Missing,
    /// Several resources of the same group version answer to the name (kubectl refuses too).
    Ambiguous(Vec<&'a ApiResource>),
}

impl Catalog {
    /// Find what `type_name` (`pods`, `deploy`, `jobs.batch`, `deployments.v1.apps`, a kind)
    /// names.
    pub(crate) fn lookup(&self, type_name: &str) -> Lookup<'_> {
        for reading in readings(type_name) {
            for t in 0..=1u8 {
                let mut hits: Vec<&Entry> = self
                    .entries
                    .iter()
                    .filter(|e| tier(&e.resource, &reading) == Some(t))
                    .collect();
                if hits.is_empty() {
                    continue;
                }
                hits.sort_by_key(|e| (e.group_rank, e.version_rank));
                let best = hits[0];
                let rivals: Vec<&ApiResource> = hits
                    .iter()
                    .filter(|e| {
                        (e.group_rank, e.version_rank) == (best.group_rank, best.version_rank)
                    })
                    .map(|e| &e.resource)
                    .collect();
                return if rivals.len() > 1 {
                    Lookup::Ambiguous(rivals)
                } else {
                    Lookup::Found(&best.resource)
                };
            }
        }
        Lookup::Missing
    }

    /// The resource of objects with this `apiVersion` and `kind` (a manifest's), exactly.
    pub(crate) fn by_kind(&self, api_version: &str, kind: &str) -> Option<&ApiResource> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        self.entries
            .iter()
            .map(|e| &e.resource)
            .find(|r| r.group == group && r.version == version && r.kind == kind)
    }

    /// Resource names close to `type_name` (small edit distance to one of a resource's names,
    /// or to its `RESOURCE.GROUP` form): the closest ones, in priority order, each once, at
    /// most three.
    pub(crate) fn suggestions(&self, type_name: &str) -> Vec<String> {
        let wanted = type_name.to_ascii_lowercase();
        let bare = wanted.split('.').next().unwrap_or("");
        let limit = |s: &str| if s.len() <= 3 { 1 } else { 2 };
        let mut scored: Vec<(usize, usize, String)> = Vec::new();
        for e in &self.entries {
            let r = &e.resource;
            let kind = r.kind.to_ascii_lowercase();
            let names = [r.plural.as_str(), r.singular.as_str(), kind.as_str()];
            let by_name = names
                .iter()
                .copied()
                .chain(r.short_names.iter().map(String::as_str))
                .map(|n| strsim::osa_distance(bare, n))
                .min()
                .unwrap_or(usize::MAX);
            let by_qualified = strsim::osa_distance(&wanted, &r.qualified_name());
            let d = by_name.min(by_qualified);
            if d <= limit(bare) {
                scored.push((d, e.group_rank, r.qualified_name()));
            }
        }
        scored.sort();
        // Only the closest: a second, farther name would make the hint a guessing game.
        let best = scored.first().map_or(0, |s| s.0);
        let mut out: Vec<String> = Vec::new();
        for (_, _, name) in scored.into_iter().take_while(|s| s.0 == best) {
            if !out.contains(&name) && name != wanted {
                out.push(name);
            }
        }
        out.truncate(3);
        out
    }

    /// The error for a name that names nothing: the close matches when there are some, and
    /// the group versions discovery could not read (the name may live there).
    pub(crate) fn missing(&self, type_name: &str) -> Error {
        let mut msg = format!("no resource {type_name:?}");
        let close = self.suggestions(type_name);
        match close.as_slice() {
            [] => msg.push_str(
                " on the server (a resource's plural, singular, short name or kind, \
                 optionally with .GROUP or .VERSION.GROUP; an API path must start with '/')",
            ),
            [one] => msg.push_str(&format!("; did you mean {one}?")),
            [init @ .., last] => {
                msg.push_str(&format!("; did you mean {} or {last}?", init.join(", ")))
            }
        }
        if !self.failed.is_empty() {
            msg.push_str(&format!(
                " (discovery could not read {}, which may serve it)",
                self.failed.join(", ")
            ));
        }
        Error::invalid(msg)
    }
}

/// The error for a name several resources answer to.
pub(crate) fn ambiguous(type_name: &str, rivals: &[&ApiResource]) -> Error {
    let names: Vec<String> = rivals
        .iter()
        .map(|r| format!("{}.{}.{}", r.plural, r.version, r.group))
        .collect();
    Error::invalid(format!(
        "resource {type_name:?} is ambiguous: it names {}; give the full RESOURCE.VERSION.GROUP",
        names.join(" and ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(group: &str, version: &str, plural: &str, kind: &str, short: &[&str]) -> ApiResource {
        ApiResource::new(
            group,
            version,
            plural,
            "",
            kind,
            true,
            short.iter().map(|s| s.to_string()).collect(),
            vec![],
        )
    }

    fn catalog() -> Catalog {
        let e = |r, g, v| Entry {
            resource: r,
            group_rank: g,
            version_rank: v,
        };
        Catalog {
            entries: vec![
                e(res("", "v1", "pods", "Pod", &["po"]), 0, 0),
                e(res("", "v1", "configmaps", "ConfigMap", &["cm"]), 0, 0),
                e(
                    res("apps", "v1", "deployments", "Deployment", &["deploy"]),
                    1,
                    0,
                ),
                e(res("batch", "v1", "jobs", "Job", &[]), 2, 0),
                e(res("autoscaling", "v2", "hpas", "HPA", &["hpa"]), 3, 0),
                e(res("autoscaling", "v1", "hpas", "HPA", &["hpa"]), 3, 1),
                // A later group reusing names: the core group and earlier groups win.
                e(
                    res("shadow.io", "v1", "configmaps", "ConfigMap", &["po"]),
                    4,
                    0,
                ),
                e(
                    res("shadow.io", "v1", "widgets", "Widget", &["deployments"]),
                    4,
                    0,
                ),
                e(res("twins.io", "v1", "as", "A", &["x"]), 5, 0),
                e(res("twins.io", "v1", "bs", "B", &["x"]), 5, 0),
            ],
            failed: vec![],
        }
    }

    fn found(c: &Catalog, name: &str) -> String {
        match c.lookup(name) {
            Lookup::Found(r) => format!("{}/{}", r.api_version(), r.plural),
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn kubectl_forms_and_precedence() {
        let c = catalog();
        for (name, want) in [
            ("pods", "v1/pods"),
            ("pod", "v1/pods"),
            ("PO", "v1/pods"),
            ("Pod", "v1/pods"),
            ("cm", "v1/configmaps"),
            ("configmaps", "v1/configmaps"),
            ("configmaps.shadow.io", "shadow.io/v1/configmaps"),
            ("deploy", "apps/v1/deployments"),
            // A plural beats another resource's short name.
            ("deployments", "apps/v1/deployments"),
            ("deployments.apps", "apps/v1/deployments"),
            ("deployments.v1.apps", "apps/v1/deployments"),
            ("jobs.batch", "batch/v1/jobs"),
            ("hpa", "autoscaling/v2/hpas"),
            ("hpas.v1.autoscaling", "autoscaling/v1/hpas"),
        ] {
            assert_eq!(found(&c, name), want, "{name}");
        }
        assert!(matches!(c.lookup("deployments.v2.apps"), Lookup::Missing));
        assert!(matches!(c.lookup("jobs.apps"), Lookup::Missing));
        assert!(matches!(c.lookup("x"), Lookup::Ambiguous(v) if v.len() == 2));
    }

    #[test]
    fn suggestions_name_close_resources() {
        let c = catalog();
        assert_eq!(
            c.missing("deploymnet").to_string(),
            "invalid argument: no resource \"deploymnet\"; did you mean deployments.apps?"
        );
        assert_eq!(c.suggestions("deploy.app"), ["deployments.apps"]);
        assert_eq!(c.suggestions("jobs.batc"), ["jobs.batch"]);
        assert!(c.suggestions("zzzzzzzz").is_empty());
        assert!(
            c.missing("zzzzzzzz")
                .to_string()
                .contains("no resource \"zzzzzzzz\" on the")
        );
    }

    #[test]
    fn by_kind_is_exact() {
        let c = catalog();
        assert_eq!(
            c.by_kind("apps/v1", "Deployment").unwrap().plural,
            "deployments"
        );
        assert_eq!(c.by_kind("v1", "Pod").unwrap().plural, "pods");
        assert!(c.by_kind("apps/v1", "deployment").is_none());
    }
}

//! API discovery: the resources this server knows, as the aggregated documents
//! (`apidiscovery.k8s.io/v2`, when the `Accept` asks for them, as the API server does) and the
//! legacy ones (`/api`, `/api/v1`, `/apis`, `/apis/GROUP/VERSION`).
//!
//! | route | what it does |
//! | --- | --- |
//! | `PUT /_control/discovery` `{"aggregated": false}` | serve only the legacy documents (an old server) |
//! | `POST /_control/discovery/resources` `{group,version,plural,singular,kind,namespaced,shortNames}` | add a resource (a CRD created at run time) |
//! | `DELETE /_control/discovery/resources` | forget the added resources, serve aggregated again |
//!
//! Only the catalog is served: objects exist for ConfigMaps and Pods only (`api.rs`), so a
//! request for another resource's path gets the usual 404.

use std::sync::Mutex;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{lock, status_response};
use crate::http::{Request, Response};

/// The `Content-Type` of an aggregated discovery answer (clients check it).
const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// One resource of the catalog.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Res {
    #[serde(default)]
    group: String,
    version: String,
    plural: String,
    #[serde(default)]
    singular: String,
    kind: String,
    #[serde(default = "yes")]
    namespaced: bool,
    #[serde(default)]
    short_names: Vec<String>,
}

fn yes() -> bool {
    true
}

fn res(group: &str, version: &str, plural: &str, kind: &str, ns: bool, short: &[&str]) -> Res {
    Res {
        group: group.into(),
        version: version.into(),
        plural: plural.into(),
        singular: kind.to_ascii_lowercase(),
        kind: kind.into(),
        namespaced: ns,
        short_names: short.iter().map(|s| s.to_string()).collect(),
    }
}

/// What a real API server has, in its order: the core group, then apps, batch and
/// coordination.k8s.io.
fn builtin() -> Vec<Res> {
    vec![
        res("", "v1", "configmaps", "ConfigMap", true, &["cm"]),
        res("", "v1", "namespaces", "Namespace", false, &["ns"]),
        res("", "v1", "pods", "Pod", true, &["po"]),
        res("apps", "v1", "deployments", "Deployment", true, &["deploy"]),
        res("apps", "v1", "statefulsets", "StatefulSet", true, &["sts"]),
        res("batch", "v1", "cronjobs", "CronJob", true, &["cj"]),
        res("batch", "v1", "jobs", "Job", true, &[]),
        res("coordination.k8s.io", "v1", "leases", "Lease", true, &[]),
    ]
}

/// The catalog and how it is served.
pub struct Discovery {
    state: Mutex<(bool, Vec<Res>)>,
}

impl Default for Discovery {
    fn default() -> Self {
        Discovery {
            state: Mutex::new((true, builtin())),
        }
    }
}

/// A group version's resources.
type Version<'a> = (String, Vec<&'a Res>);
/// A group with its versions in order (first = preferred).
type Group<'a> = (String, Vec<Version<'a>>);

/// Groups in serving order.
fn groups(all: &[Res]) -> Vec<Group<'_>> {
    let mut out: Vec<Group<'_>> = Vec::new();
    for r in all {
        let gi = match out.iter().position(|(g, _)| *g == r.group) {
            Some(i) => i,
            None => {
                out.push((r.group.clone(), Vec::new()));
                out.len() - 1
            }
        };
        let versions = &mut out[gi].1;
        let vi = match versions.iter().position(|(v, _)| *v == r.version) {
            Some(i) => i,
            None => {
                versions.push((r.version.clone(), Vec::new()));
                versions.len() - 1
            }
        };
        versions[vi].1.push(r);
    }
    out
}

fn verbs() -> Value {
    json!([
        "create", "delete", "get", "list", "patch", "update", "watch"
    ])
}

fn aggregated_group(name: &str, versions: &[Version<'_>]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|(v, rs)| {
            let resources: Vec<Value> = rs
                .iter()
                .map(|r| {
                    json!({
                        "resource": r.plural,
                        "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
                        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
                        "singularResource": r.singular,
                        "verbs": verbs(),
                        "shortNames": r.short_names,
                    })
                })
                .collect();
            json!({"version": v, "resources": resources, "freshness": "Current"})
        })
        .collect();
    json!({"metadata": {"name": name, "creationTimestamp": null}, "versions": versions})
}

fn legacy_list(group_version: &str, rs: &[&Res]) -> Value {
    let mut resources: Vec<Value> = rs
        .iter()
        .map(|r| {
            json!({
                "name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
                "kind": r.kind, "verbs": verbs(), "shortNames": r.short_names,
            })
        })
        .collect();
    if group_version == "v1" {
        resources.push(
            json!({"name": "pods/log", "singularName": "", "namespaced": true,
            "kind": "Pod", "verbs": ["get"]}),
        );
    }
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
        "resources": resources})
}

impl Discovery {
    /// Answer a discovery GET (`segs` is the path: `["api"]`, `["apis", G, V]`, ...), or
    /// `None` when the path is not a discovery document.
    pub fn serve(&self, req: &Request, segs: &[&str]) -> Option<Response> {
        let state = lock(&self.state);
        let (serve_aggregated, all) = (&state.0, &state.1);
        let wants_aggregated = *serve_aggregated
            && req
                .header("accept")
                .is_some_and(|a| a.contains("as=APIGroupDiscoveryList"));
        let gs = groups(all);
        let core = gs.iter().find(|(g, _)| g.is_empty());
        let named = || gs.iter().filter(|(g, _)| !g.is_empty());
        let aggregated = |items: Vec<Value>| {
            let body = json!({"kind": "APIGroupDiscoveryList",
                "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items});
            let mut r = Response::json(200, &body);
            r.content_type = Some(AGGREGATED);
            r
        };
        match segs {
            ["api"] if wants_aggregated => Some(aggregated(
                core.map(|(_, vs)| aggregated_group("", vs))
                    .into_iter()
                    .collect(),
            )),
            ["api"] => Some(Response::json(
                200,
                &json!({"kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                        "serverAddress": "127.0.0.1"}]}),
            )),
            ["apis"] if wants_aggregated => Some(aggregated(
                named().map(|(g, vs)| aggregated_group(g, vs)).collect(),
            )),
            ["apis"] => {
                let groups: Vec<Value> = named()
                    .map(|(g, vs)| {
                        let versions: Vec<Value> = vs
                            .iter()
                            .map(|(v, _)| json!({"groupVersion": format!("{g}/{v}"), "version": v}))
                            .collect();
                        json!({"name": g, "versions": versions, "preferredVersion": versions[0]})
                    })
                    .collect();
                Some(Response::json(
                    200,
                    &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
                ))
            }
            ["api", "v1"] => {
                let rs: Vec<&Res> = core.map(|(_, vs)| vs[0].1.clone()).unwrap_or_default();
                Some(Response::json(200, &legacy_list("v1", &rs)))
            }
            ["apis", group, version] => named()
                .find(|(g, _)| g == group)
                .and_then(|(_, vs)| vs.iter().find(|(v, _)| v == version))
                .map(|(_, rs)| {
                    Response::json(200, &legacy_list(&format!("{group}/{version}"), rs))
                }),
            _ => None,
        }
    }

    /// The `/_control/discovery` routes.
    pub fn control(&self, req: &Request) -> Response {
        match (req.method.as_str(), req.path.as_str()) {
            ("PUT", "/_control/discovery") => match serde_json::from_slice::<Value>(&req.body) {
                Ok(v) => {
                    if let Some(on) = v["aggregated"].as_bool() {
                        lock(&self.state).0 = on;
                    }
                    Response::json(200, &json!({}))
                }
                Err(_) => status_response(400, "body must be JSON", Some("BadRequest")),
            },
            ("POST", "/_control/discovery/resources") => {
                match serde_json::from_slice::<Res>(&req.body) {
                    Ok(mut r) => {
                        if r.singular.is_empty() {
                            r.singular = r.kind.to_ascii_lowercase();
                        }
                        lock(&self.state).1.push(r);
                        Response::json(201, &json!({}))
                    }
                    Err(e) => status_response(
                        400,
                        &format!("body must be {{group,version,plural,kind,...}}: {e}"),
                        Some("BadRequest"),
                    ),
                }
            }
            ("DELETE", "/_control/discovery/resources") => {
                *lock(&self.state) = (true, builtin());
                Response::json(200, &json!({}))
            }
            _ => status_response(404, "no such control route", Some("NotFound")),
        }
    }
}

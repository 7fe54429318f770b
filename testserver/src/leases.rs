//! Leases (`coordination.k8s.io/v1`): an in-memory store with resourceVersion conflicts, and
//! faults for the leader-election tests.
//!
//! | route | what it does |
//! | --- | --- |
//! | `/apis/coordination.k8s.io/v1/namespaces/{ns}/leases[/{name}]` | GET, POST, PUT (409 on a stale `resourceVersion`), DELETE |
//! | `PUT /_control/leases` `{..}` | faults, merged (no auth): see [`Faults`] |
//! | `GET /_control/leases` | the fault settings |

use std::sync::Mutex;

use serde_json::{Value, json};

use crate::api::{lock, status_response};
use crate::http::{Reply, Request, Response};
use crate::store::{ApiFailure, Store, parse_object};

/// Faults, set with `PUT /_control/leases` (fields merged into the current settings).
#[derive(Default)]
struct Faults {
    /// `forbidden`: every Lease request is refused with 403, worded as RBAC words it.
    forbidden: bool,
    /// `unavailable`: every Lease request is dropped without an answer (the API server is
    /// down).
    unavailable: bool,
    /// `conflicts`: this many next PUTs fail with 409, whatever their resourceVersion.
    conflicts: u64,
}

/// The Lease store and its faults.
pub struct Leases {
    store: Mutex<Store>,
    faults: Mutex<Faults>,
}

impl Default for Leases {
    fn default() -> Self {
        Leases {
            store: Mutex::new(Store::new()),
            faults: Mutex::new(Faults::default()),
        }
    }
}

impl Leases {
    /// `GET`/`PUT /_control/leases`.
    pub fn control(&self, req: &Request) -> Response {
        if req.method == "PUT" {
            let Ok(v) = serde_json::from_slice::<Value>(&req.body) else {
                return status_response(400, "body must be JSON", Some("BadRequest"));
            };
            let mut f = lock(&self.faults);
            if let Some(b) = v["forbidden"].as_bool() {
                f.forbidden = b;
            }
            if let Some(b) = v["unavailable"].as_bool() {
                f.unavailable = b;
            }
            if let Some(n) = v["conflicts"].as_u64() {
                f.conflicts = n;
            }
        } else if req.method != "GET" {
            return status_response(405, "GET or PUT", Some("MethodNotAllowed"));
        }
        let f = lock(&self.faults);
        Response::json(
            200,
            &json!({"forbidden": f.forbidden, "unavailable": f.unavailable,
                    "conflicts": f.conflicts}),
        )
    }

    /// A Lease request: the collection (`name` None) or one Lease.
    pub fn handle(&self, req: &Request, ns: &str, name: Option<&str>) -> Reply {
        {
            let mut f = lock(&self.faults);
            if f.unavailable {
                return Reply::Drop;
            }
            if f.forbidden {
                let verb = match (req.method.as_str(), name) {
                    ("GET", Some(_)) => "get",
                    ("GET", None) => "list",
                    ("POST", _) => "create",
                    ("PUT", _) => "update",
                    ("DELETE", _) => "delete",
                    _ => "patch",
                };
                let msg = format!(
                    "leases.coordination.k8s.io \"{}\" is forbidden: User \
                     \"system:serviceaccount:{ns}:test\" cannot {verb} resource \"leases\" in \
                     API group \"coordination.k8s.io\" in the namespace \"{ns}\"",
                    name.unwrap_or("")
                );
                return status_response(403, &msg, Some("Forbidden")).into();
            }
            if req.method == "PUT" && f.conflicts > 0 {
                f.conflicts -= 1;
                return conflict(name.unwrap_or("")).into();
            }
        }
        let result = match (req.method.as_str(), name) {
            ("GET", Some(n)) => lock(&self.store).get(ns, n).map(|o| (200, o)),
            ("GET", None) => {
                let store = lock(&self.store);
                let items: Vec<Value> = store
                    .scan(Some(ns), None)
                    .map(|(_, o)| Value::clone(o))
                    .collect();
                Ok((
                    200,
                    json!({"kind": "LeaseList", "apiVersion": "coordination.k8s.io/v1",
                           "metadata": {"resourceVersion": store.resource_version().to_string()},
                           "items": items}),
                ))
            }
            ("POST", None) => parse_object(&req.body)
                .and_then(|o| lock(&self.store).create(ns, o))
                .map(|o| (201, o))
                .map_err(|f| rename(f, "configmaps", "leases.coordination.k8s.io")),
            ("PUT", Some(n)) => parse_object(&req.body)
                .and_then(|o| lock(&self.store).replace(ns, n, o))
                .map(|o| (200, o)),
            ("DELETE", Some(n)) => lock(&self.store)
                .delete(ns, n)
                .map(|()| (200, json!({"kind": "Status", "status": "Success"}))),
            (m, _) => return status_response(405, m, Some("MethodNotAllowed")).into(),
        };
        match result {
            Ok((code, obj)) => Response::json(code, &obj).into(),
            Err(f) if f.code == 409 && f.reason == "Conflict" => {
                conflict(name.unwrap_or("")).into()
            }
            Err(f) => status_response(
                f.code,
                &f.message
                    .replace("configmaps", "leases.coordination.k8s.io"),
                Some(f.reason),
            )
            .into(),
        }
    }
}

/// The store speaks of ConfigMaps; a Lease error names leases.
fn rename(mut f: ApiFailure, from: &str, to: &str) -> ApiFailure {
    f.message = f.message.replace(from, to);
    f
}

/// The API server's 409 for an update from a stale resourceVersion.
fn conflict(name: &str) -> Response {
    status_response(
        409,
        &format!(
            "Operation cannot be fulfilled on leases.coordination.k8s.io \"{name}\": the object \
             has been modified; please apply your changes to the latest version and try again"
        ),
        Some("Conflict"),
    )
}

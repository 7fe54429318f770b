//! The Lease's `spec` as client-go's `LeaseLock` reads and writes it, and `lease status`.

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use crate::core::api::request::Request;
use crate::core::client::Client;
use crate::core::error::{ApiError, Error, Result};

/// The API group/version/resource, for paths and messages.
pub const RESOURCE: &str = "leases.coordination.k8s.io";

/// client-go's `LeaderElectionRecord`, the part of a Lease the election reads and writes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LeaderRecord {
    /// `holderIdentity` (`""` when released or never held).
    pub holder: String,
    /// `leaseDurationSeconds`.
    pub lease_duration_seconds: i64,
    /// `acquireTime` (RFC 3339 with microseconds), as written.
    pub acquire_time: Option<String>,
    /// `renewTime`, as written.
    pub renew_time: Option<String>,
    /// `leaseTransitions`: how many times the holder changed.
    pub transitions: i64,
}

impl LeaderRecord {
    /// The record in a Lease object (missing fields are empty, as client-go reads them).
    pub fn from_lease(lease: &Value) -> LeaderRecord {
        let spec = &lease["spec"];
        let text = |k: &str| spec[k].as_str().map(str::to_owned);
        LeaderRecord {
            holder: text("holderIdentity").unwrap_or_default(),
            lease_duration_seconds: spec["leaseDurationSeconds"].as_i64().unwrap_or(0),
            acquire_time: text("acquireTime"),
            renew_time: text("renewTime"),
            transitions: spec["leaseTransitions"].as_i64().unwrap_or(0),
        }
    }

    /// Write the record into a Lease's `spec`, keeping the spec's other fields (a
    /// coordinated-election `strategy`, ...) and the metadata (with its `resourceVersion`,
    /// which makes the PUT conditional).
    pub fn apply(&self, lease: &mut Value) {
        if !lease["spec"].is_object() {
            lease["spec"] = json!({});
        }
        let spec = &mut lease["spec"];
        spec["holderIdentity"] = json!(self.holder);
        spec["leaseDurationSeconds"] = json!(self.lease_duration_seconds);
        spec["acquireTime"] = json!(self.acquire_time);
        spec["renewTime"] = json!(self.renew_time);
        spec["leaseTransitions"] = json!(self.transitions);
    }

    /// A new Lease object holding this record.
    pub fn new_lease(&self, namespace: &str, name: &str) -> Value {
        let mut lease = json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": name, "namespace": namespace},
        });
        self.apply(&mut lease);
        lease
    }
}

/// A time as Kubernetes writes a `MicroTime`: RFC 3339, UTC, microseconds.
pub fn micro_time(t: SystemTime) -> String {
    humantime::format_rfc3339_micros(t).to_string()
}

/// `/apis/coordination.k8s.io/v1/namespaces/NS/leases[/NAME]`.
pub fn lease_path(namespace: &str, name: Option<&str>) -> String {
    let base = format!("/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases");
    match name {
        Some(n) => format!("{base}/{n}"),
        None => base,
    }
}

/// A 403 on a Lease request, reworded to say what RBAC is missing:
/// `cannot get leases.coordination.k8s.io in namespace x`, then the server's message. Other
/// errors pass unchanged.
pub fn explain_forbidden(e: Error, verb: &str, namespace: &str) -> Error {
    match e {
        Error::Api(a) if a.status == 403 => Error::Api(Box::new(ApiError {
            message: format!(
                "cannot {verb} {RESOURCE} in namespace {namespace}: leader election needs get, \
                 create and update on leases in that namespace (an RBAC Role bound to the \
                 ServiceAccount); the server said: {}",
                a.message
            ),
            ..*a
        })),
        other => other,
    }
}

/// What `incluster lease status` shows: the Lease's holder, transitions, durations and times,
/// and how long ago it was renewed (by this machine's clock: an estimate across nodes).
pub fn status(client: &Client, namespace: Option<&str>, name: &str) -> Result<Value> {
    let ns = namespace.unwrap_or(client.namespace());
    let req = Request::new("GET", &lease_path(ns, Some(name)));
    let lease = client
        .request(&req)
        .map_err(|e| explain_forbidden(e, "get", ns))?
        .json_for(&req)?;
    let r = LeaderRecord::from_lease(&lease);
    let age = r
        .renew_time
        .as_deref()
        .and_then(|t| humantime::parse_rfc3339_weak(t).ok())
        .map(|t| {
            SystemTime::now()
                .duration_since(t)
                .unwrap_or(Duration::ZERO)
        });
    let held = !r.holder.is_empty()
        && age.is_some_and(|a| a.as_secs_f64() < r.lease_duration_seconds as f64);
    Ok(json!({
        "name": name,
        "namespace": ns,
        "holderIdentity": r.holder,
        "held": held,
        "leaseDurationSeconds": r.lease_duration_seconds,
        "acquireTime": r.acquire_time,
        "renewTime": r.renew_time,
        "renewedSecondsAgo": age.map(|a| (a.as_secs_f64() * 1000.0).round() / 1000.0),
        "leaseTransitions": r.transitions,
        "resourceVersion": lease["metadata"]["resourceVersion"],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trips_and_keeps_other_fields() {
        let r = LeaderRecord {
            holder: "a".into(),
            lease_duration_seconds: 15,
            acquire_time: Some("2026-01-01T00:00:00.000000Z".into()),
            renew_time: Some("2026-01-01T00:00:01.000000Z".into()),
            transitions: 3,
        };
        let mut lease = json!({"metadata": {"name": "x", "resourceVersion": "7"},
                               "spec": {"strategy": "OldestEmulationVersion"}});
        r.apply(&mut lease);
        assert_eq!(LeaderRecord::from_lease(&lease), r);
        assert_eq!(lease["spec"]["strategy"], "OldestEmulationVersion");
        assert_eq!(lease["metadata"]["resourceVersion"], "7");
    }

    #[test]
    fn micro_time_is_kubernetes_micro_time() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_micros(1_500_000);
        assert_eq!(micro_time(t), "1970-01-01T00:00:01.500000Z");
    }

    #[test]
    fn forbidden_names_verb_resource_and_namespace() {
        let e = Error::Api(Box::new(ApiError {
            status: 403,
            reason: "Forbidden".into(),
            message: "nope".into(),
            details: None,
            request: "GET /x".into(),
            body: Vec::new(),
        }));
        let m = explain_forbidden(e, "get", "x").to_string();
        assert!(
            m.contains("cannot get leases.coordination.k8s.io in namespace x"),
            "{m}"
        );
        assert!(m.contains("nope"), "{m}");
    }
}

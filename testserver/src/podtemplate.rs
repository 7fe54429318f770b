//! The realistic Pod of the watch benchmarks: one template, shared by the test server's
//! `watchbench` stream (watchbench.rs beside this file) and the in-memory core bench
//! (benches/core.rs, which includes this file by path), so both measure the same objects.
//!
//! The per-event fields hold fixed-width placeholders: the resourceVersion is `1` + [`MARK`]
//! (the event number, 12 zero-padded digits), and the name and uid end in [`MARK_ID`] (the
//! object number). Only serde_json is used, so the file stands alone.

use serde_json::{Value, json};

/// The placeholder for the counter (12 bytes long; a byte that JSON never escapes and that
/// nothing else in the object contains).
pub const MARK: &str = "@@@@@@@@@@@@";
/// The placeholder for the object number (event number modulo the number of distinct pods).
pub const MARK_ID: &str = "%%%%%%%%%%%%";
/// Parts of the Pod left out, in this order, while it is larger than the size asked for:
/// (the JSON pointer of the parent, the key).
const OPTIONAL: &[(&str, &str)] = &[
    ("/status", "containerStatuses"),
    ("/spec/containers/0", "readinessProbe"),
    ("/status", "conditions"),
    ("/spec/containers/0", "env"),
    ("/spec/containers/0", "volumeMounts"),
    ("/metadata", "ownerReferences"),
    ("/spec/containers/0", "resources"),
    ("/spec", "preemptionPolicy"),
];

/// A Pod as a Deployment's ReplicaSet creates it, of `size` bytes of JSON: trimmed of
/// optional parts when smaller than the full Pod (about 2.6 kB; it cannot go below some
/// 1.2 kB), padded with an annotation when larger.
pub fn pod(size: usize) -> Value {
    let env: Vec<Value> = (0..6)
        .map(|i| json!({"name": format!("SETTING_{i}"), "value": format!("value-{i}")}))
        .collect();
    let mut pod = json!({
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": format!("bench-pod-{MARK_ID}"),
            "generateName": "bench-pod-",
            "namespace": "bench",
            "uid": format!("5f1e0c2a-9b7d-4e11-8a3c-{MARK_ID}"),
            "resourceVersion": format!("1{MARK}"),
            "creationTimestamp": "2026-11-29T03:00:00Z",
            "labels": {
                "app.kubernetes.io/name": "bench",
                "app.kubernetes.io/instance": "bench-1",
                "pod-template-hash": "7c9f5d8b6d",
            },
            "annotations": {
                "kubectl.kubernetes.io/restartedAt": "2026-11-29T02:59:00Z",
            },
            "ownerReferences": [{
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "bench-7c9f5d8b6d",
                "uid": "0b8e2c61-5d3a-4f7e-9c21-3a6f8e1d2b4c",
                "controller": true,
                "blockOwnerDeletion": true,
            }],
        },
        "spec": {
            "containers": [{
                "name": "app",
                "image": "registry.example/bench/app:1.27.3",
                "imagePullPolicy": "IfNotPresent",
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                "env": env,
                "resources": {
                    "requests": {"cpu": "100m", "memory": "128Mi"},
                    "limits": {"memory": "256Mi"},
                },
                "readinessProbe": {
                    "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
                    "periodSeconds": 10,
                    "timeoutSeconds": 1,
                    "successThreshold": 1,
                    "failureThreshold": 3,
                },
                "volumeMounts": [{
                    "name": "kube-api-access-x7k2p",
                    "readOnly": true,
                    "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                }],
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
            }],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "bench",
            "nodeName": "node-a-1",
            "schedulerName": "default-scheduler",
            "priority": 0,
            "enableServiceLinks": true,
            "preemptionPolicy": "PreemptLowerPriority",
        },
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": "Initialized", "status": "True",
                 "lastTransitionTime": "2026-11-29T03:00:00Z"},
                {"type": "Ready", "status": "True",
                 "lastTransitionTime": "2026-11-29T03:00:04Z"},
                {"type": "ContainersReady", "status": "True",
                 "lastTransitionTime": "2026-11-29T03:00:04Z"},
                {"type": "PodScheduled", "status": "True",
                 "lastTransitionTime": "2026-11-29T03:00:00Z"},
            ],
            "hostIP": "10.0.3.17",
            "podIP": "10.244.3.58",
            "podIPs": [{"ip": "10.244.3.58"}],
            "startTime": "2026-11-29T03:00:00Z",
            "containerStatuses": [{
                "name": "app",
                "state": {"running": {"startedAt": "2026-11-29T03:00:02Z"}},
                "ready": true,
                "restartCount": 0,
                "image": "registry.example/bench/app:1.27.3",
                "imageID": "registry.example/bench/app@sha256:\
                            4f9c1e0d8b7a6f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c",
                "containerID": "containerd://\
                                9a8b7c6d5e4f30211f2e3d4c5b6a79880a1b2c3d4e5f60718293a4b5c6d7e8f9",
                "started": true,
            }],
            "qosClass": "Burstable",
        },
    });
    for (parent, key) in OPTIONAL {
        if pod.to_string().len() <= size {
            break;
        }
        if let Some(m) = pod.pointer_mut(parent).and_then(Value::as_object_mut) {
            m.remove(*key);
        }
    }
    let base = pod.to_string().len();
    // The annotation's key, quotes, colon and comma take some bytes of their own; a gap
    // smaller than those is left (the Pod is then a few bytes short).
    let key = "bench.incluster/padding";
    if let Some(pad) = size.checked_sub(base + key.len() + 6) {
        pod["metadata"]["annotations"][key] = "p".repeat(pad).into();
    }
    pod
}

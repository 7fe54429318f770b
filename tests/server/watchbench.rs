//! `GET /_test/watchbench?n=N&size=S`: a watch stream of N synthetic Pod events (ADDED and
//! MODIFIED alternating) whose objects are S bytes of JSON each (default 1000 events of
//! 4096 bytes), for client decoding benchmarks.
//!
//! The server must never be the bottleneck, so the two event lines are encoded once as
//! templates with fixed-width placeholders for the per-event counter; the write loop only
//! copies a template into a 64 KiB buffer and patches the digits in place (no allocation,
//! no JSON work per event).
//!
//! Event `i` (from 1) has resourceVersion `1DDDDDDDDDDDD`, where `DDDDDDDDDDDD` is `i` in 12
//! zero-padded digits (increasing, all the same width), and name `bench-pod-PPPPPPPPPPPP` and
//! uid `…-PPPPPPPPPPPP` with `P` = `i` modulo 1000: like a real stream, it keeps modifying the
//! same objects, so per-object client state stays bounded.

use serde_json::{Value, json};

use crate::http::{Reply, Request, Streaming};

/// The size of the chunks written.
const CHUNK: usize = 64 * 1024;
/// The width of the counter in the templates.
const DIGITS: usize = 12;
/// The placeholder for the counter (DIGITS long; a byte that JSON never escapes and that
/// nothing else in the object contains).
const MARK: &str = "@@@@@@@@@@@@";
/// The placeholder for the object number (event number modulo the number of distinct pods).
const MARK_ID: &str = "%%%%%%%%%%%%";
/// Distinct pods the stream cycles through, as a real cluster's stream keeps modifying the
/// same objects (so a client's per-object state is bounded, as it would be).
const PODS: u64 = 1000;
const MAX_EVENTS: u64 = 100_000_000_000;
const MAX_SIZE: u64 = 4 * 1024 * 1024;

/// One encoded event line and where the counters go in it.
struct Template {
    line: Vec<u8>,
    /// Where the event number goes (the resourceVersion).
    slots: Vec<usize>,
    /// Where the object number goes (name, uid).
    id_slots: Vec<usize>,
}

impl Template {
    fn new(kind: &str, pod: &Value) -> Template {
        let line = format!("{{\"type\":\"{kind}\",\"object\":{pod}}}\n").into_bytes();
        let find = |mark: &str| {
            line.windows(DIGITS)
                .enumerate()
                .filter(|(_, w)| *w == mark.as_bytes())
                .map(|(i, _)| i)
                .collect()
        };
        Template {
            slots: find(MARK),
            id_slots: find(MARK_ID),
            line,
        }
    }
}

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
fn pod(size: usize) -> Value {
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

/// `n` as DIGITS zero-padded decimal digits (no allocation).
fn format_digits(mut n: u64) -> [u8; DIGITS] {
    let mut d = [b'0'; DIGITS];
    for slot in d.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
    d
}

/// Add one to a zero-padded decimal counter in place.
fn increment(digits: &mut [u8; DIGITS]) {
    for d in digits.iter_mut().rev() {
        if *d == b'9' {
            *d = b'0';
        } else {
            *d += 1;
            return;
        }
    }
}

/// The route.
pub fn watchbench(req: &Request) -> Reply {
    let param = |name: &str, default: u64| {
        req.param(name)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(default)
    };
    watchbench_stream(param("n", 1000), param("size", 4096))
}

/// The same stream for `n` events of `size` bytes (also served as a Pod watch, so clients that
/// only know typed paths can be measured; see `PUT /_control/watchbench`).
pub fn watchbench_stream(n: u64, size: u64) -> Reply {
    let n = n.min(MAX_EVENTS);
    let size = usize::try_from(size.min(MAX_SIZE)).unwrap_or(4096);
    let pod = pod(size);
    let templates = [
        Template::new("ADDED", &pod),
        Template::new("MODIFIED", &pod),
    ];
    Reply::Stream(Streaming {
        status: 200,
        content_type: "application/json",
        headers: Vec::new(),
        body: Box::new(move |w| {
            let longest = templates.iter().map(|t| t.line.len()).max().unwrap_or(0);
            let mut buf = Vec::with_capacity(CHUNK + longest);
            let mut counter = [b'0'; DIGITS];
            for i in 0..n {
                increment(&mut counter);
                let t = &templates[usize::from(i % 2 == 1)];
                let start = buf.len();
                buf.extend_from_slice(&t.line);
                for &at in &t.slots {
                    if let Some(slot) = buf.get_mut(start + at..start + at + DIGITS) {
                        slot.copy_from_slice(&counter);
                    }
                }
                let id = format_digits((i + 1) % PODS);
                for &at in &t.id_slots {
                    if let Some(slot) = buf.get_mut(start + at..start + at + DIGITS) {
                        slot.copy_from_slice(&id);
                    }
                }
                if buf.len() >= CHUNK {
                    w.send(&buf)?;
                    buf.clear();
                }
            }
            w.send(&buf)
        }),
    })
}

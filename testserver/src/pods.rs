//! Pods with containers and their logs, in memory and shared by every connection, and the
//! control API that drives them. The log route itself is in `logs.rs`.
//!
//! | route | what it does |
//! | --- | --- |
//! | `POST /_control/pods` `{namespace,name,containers,init_containers?,state?,labels?}` | create or replace a pod |
//! | `GET`/`DELETE /_control/pods/{ns}/{name}` | the pod / remove it (its log streams end cleanly) |
//! | `PUT /_control/pods/{ns}/{name}/state` `{container,state,exit_code?,reason?}` | change a container's state |
//! | `POST /_control/logs` `{namespace,pod,container,lines,..}` | append log lines |
//! | `POST /_control/logs/generate` `{namespace,pod,container,count,size?,interval_ms?,prefix?}` | append numbered lines |
//! | `GET`/`PUT /_control/logs/faults` `{..}` | log stream fault settings (merged; `logs.rs`) |
//! | `GET`/`PUT /_control/logbench` `{n,size}` | the size of the `logbench` pod's log stream |
//! | `GET /api/v1/namespaces/{ns}/pods/{name}` | a Pod object (404 Status when missing) |
//! | `GET /api/v1/namespaces/{ns}/pods`, `GET /api/v1/pods` | a PodList (`labelSelector`, `fieldSelector`) |
//!
//! A container is `running`, `terminated` (with an exit code) or `waiting` (with a reason).
//! Leaving `terminated` for `running` or `waiting` is a restart, as the kubelet does it: the
//! current log becomes the previous one (`previous=true`), `restartCount` goes up and
//! `lastState` keeps the terminated state. Every container starts a new *instance* when it
//! is created or restarted; a log stream reads one instance and ends cleanly when it goes
//! (the pod replaced or deleted, the container restarted) or stops running.
//!
//! Log lines get the current time as their timestamp (nanoseconds; always at least 1 µs
//! after the previous automatic one, and after the last entry of the buffer), unless the
//! append gives explicit `times`.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{lock, status_response};
use crate::http::{Request, Response};
use crate::logs::LogFaults;
use crate::select::Selectors;
use crate::timefmt;

/// Limits on control requests, so a typo cannot make the server allocate gigabytes.
const MAX_GENERATE: u64 = 10_000_000;
const MAX_LINE_SIZE: u64 = 1024 * 1024;
const MAX_INTERVAL_MS: u64 = 60_000;
/// The node every pod runs on.
const NODE: &str = "node-a-1";

/// One log entry as the container runtime records it: when, what, and whether the line was
/// complete (a final line without a newline has `newline: false`).
pub struct Entry {
    /// Nanoseconds since the epoch.
    pub ts: u64,
    pub content: Box<[u8]>,
    pub newline: bool,
}

/// The log of one container instance.
#[derive(Default)]
pub struct LogBuf {
    pub entries: Vec<Entry>,
}

/// A container's state, as in `status.containerStatuses[].state`.
#[derive(Clone, Debug)]
pub enum CState {
    Waiting {
        reason: String,
    },
    Running {
        started: u64,
    },
    Terminated {
        exit_code: i32,
        reason: String,
        started: u64,
        finished: u64,
    },
}

impl CState {
    fn to_json(&self) -> Value {
        match self {
            CState::Waiting { reason } => json!({"waiting": {"reason": reason}}),
            CState::Running { started } => {
                json!({"running": {"startedAt": timefmt::seconds(*started)}})
            }
            CState::Terminated {
                exit_code,
                reason,
                started,
                finished,
            } => json!({"terminated": {
                "exitCode": exit_code,
                "reason": reason,
                "startedAt": timefmt::seconds(*started),
                "finishedAt": timefmt::seconds(*finished),
            }}),
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(self, CState::Running { .. })
    }
}

pub struct Container {
    pub name: String,
    pub init: bool,
    pub state: CState,
    restarts: u32,
    /// The state of the previous instance (`lastState`), after a restart.
    last_state: Option<CState>,
    /// Unique to this instance of the container (see the module documentation).
    pub instance: u64,
    pub log: LogBuf,
    /// The previous instance's log; `None` while there was none.
    pub previous: Option<LogBuf>,
    /// The next sequence number of generated lines (kept across restarts).
    next_seq: u64,
}

impl Container {
    fn image(&self) -> String {
        format!("example/{}:1", self.name)
    }

    fn status_json(&self) -> Value {
        let running = self.state.is_running();
        json!({
            "name": self.name,
            "state": self.state.to_json(),
            "lastState": self.last_state.as_ref().map_or_else(|| json!({}), CState::to_json),
            "ready": running,
            "restartCount": self.restarts,
            "image": self.image(),
            "imageID": "",
            "containerID": format!("containerd://{:064x}", self.instance),
            "started": running,
        })
    }

    /// Leave a terminated state: the current log becomes the previous one.
    fn restart(&mut self, next: CState, instance: u64) {
        self.last_state = Some(std::mem::replace(&mut self.state, next));
        self.previous = Some(std::mem::take(&mut self.log));
        self.restarts += 1;
        self.instance = instance;
    }
}

pub struct Pod {
    pub name: String,
    namespace: String,
    uid: String,
    rv: u64,
    created: u64,
    labels: BTreeMap<String, String>,
    /// Init containers first, then the others: the order the API server names them in.
    pub containers: Vec<Container>,
}

impl Pod {
    /// The index of the container a log request names, or of the pod's only container
    /// when it names none; the error is the API server's 400 message.
    pub fn resolve(&self, name: Option<&str>) -> Result<usize, String> {
        if let Some(n) = name.filter(|n| !n.is_empty()) {
            return self
                .containers
                .iter()
                .position(|c| c.name == n)
                .ok_or_else(|| format!("container {n} is not valid for pod {}", self.name));
        }
        let mut regular = self.containers.iter().enumerate().filter(|(_, c)| !c.init);
        match (regular.next(), regular.next()) {
            (Some((i, _)), None) => Ok(i),
            (None, _) => Err(format!(
                "a container name must be specified for pod {}",
                self.name
            )),
            // Go's `%s` of a []string: `[init app side]`.
            _ => Err(format!(
                "a container name must be specified for pod {}, choose one of: [{}]",
                self.name,
                self.containers
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            )),
        }
    }

    /// `status.phase`: Pending until the init containers succeeded; Succeeded or Failed
    /// when every container terminated; Running when some run (or restart).
    fn phase(&self) -> &'static str {
        let succeeded = |c: &&Container| matches!(c.state, CState::Terminated { exit_code: 0, .. });
        let terminated = |c: &&Container| matches!(c.state, CState::Terminated { .. });
        if self
            .containers
            .iter()
            .filter(|c| c.init)
            .any(|c| !succeeded(&c))
        {
            return "Pending";
        }
        let regular: Vec<&Container> = self.containers.iter().filter(|c| !c.init).collect();
        if regular.iter().all(terminated) {
            if regular.iter().all(succeeded) {
                "Succeeded"
            } else {
                "Failed"
            }
        } else if regular
            .iter()
            .any(|c| c.state.is_running() || terminated(c))
        {
            "Running"
        } else {
            "Pending"
        }
    }

    pub fn to_json(&self) -> Value {
        let (init, regular): (Vec<&Container>, Vec<&Container>) =
            self.containers.iter().partition(|c| c.init);
        let spec_of = |cs: &[&Container]| -> Vec<Value> {
            cs.iter()
                .map(|c| json!({"name": c.name, "image": c.image()}))
                .collect()
        };
        let statuses_of =
            |cs: &[&Container]| -> Vec<Value> { cs.iter().map(|c| c.status_json()).collect() };
        let mut metadata = json!({
            "name": self.name,
            "namespace": self.namespace,
            "uid": self.uid,
            "resourceVersion": self.rv.to_string(),
            "creationTimestamp": timefmt::seconds(self.created),
        });
        if !self.labels.is_empty() {
            metadata["labels"] = json!(self.labels);
        }
        let mut spec = json!({
            "containers": spec_of(&regular),
            "restartPolicy": "Always",
            "serviceAccountName": "default",
            "nodeName": NODE,
        });
        let mut status = json!({
            "phase": self.phase(),
            "startTime": timefmt::seconds(self.created),
            "containerStatuses": statuses_of(&regular),
        });
        // Both are `omitempty` in the API.
        if !init.is_empty() {
            spec["initContainers"] = spec_of(&init).into();
            status["initContainerStatuses"] = statuses_of(&init).into();
        }
        json!({
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": metadata,
            "spec": spec,
            "status": status,
        })
    }
}

/// Everything behind the one lock.
pub struct Inner {
    pods: BTreeMap<(String, String), Pod>,
    /// The resourceVersion of the last pod change (pods have their own sequence).
    rv: u64,
    /// Source of uids and container instance numbers.
    serial: u64,
    /// The last automatic log timestamp.
    clock: u64,
}

impl Inner {
    pub fn pod(&self, ns: &str, name: &str) -> Option<&Pod> {
        self.pods.get(&(ns.to_owned(), name.to_owned()))
    }

    fn pod_mut(&mut self, ns: &str, name: &str) -> Option<&mut Pod> {
        self.pods.get_mut(&(ns.to_owned(), name.to_owned()))
    }

    /// The container `name` of a pod, if it is still the given instance.
    pub fn instance(&self, ns: &str, pod: &str, name: &str, instance: u64) -> Option<&Container> {
        self.pod(ns, pod)?
            .containers
            .iter()
            .find(|c| c.name == name && c.instance == instance)
    }

    fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    fn bump(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }
}

/// The next automatic timestamp: now, but at least 1 µs after the previous one and after
/// `after` (the buffer's last entry), so timestamps within a buffer strictly increase.
fn tick(clock: &mut u64, after: Option<u64>) -> u64 {
    let floor = clock
        .saturating_add(1000)
        .max(after.map_or(0, |t| t.saturating_add(1000)));
    let ts = timefmt::now_nanos().max(floor);
    *clock = ts;
    ts
}

/// The pods, their logs, and the log stream settings.
pub struct Pods {
    inner: Mutex<Inner>,
    /// Notified after every log append and every pod change.
    changed: Condvar,
    faults: Mutex<LogFaults>,
    /// (lines, bytes per line) of the `logbench` pod's log.
    bench: Mutex<(u64, u64)>,
}

fn bad(message: &str) -> Response {
    status_response(400, message, Some("BadRequest"))
}

/// The API server's 404 for a missing pod.
pub fn pod_not_found(name: &str) -> Response {
    Response::json(
        404,
        &json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": format!("pods \"{name}\" not found"),
            "reason": "NotFound",
            "details": {"name": name, "kind": "pods"},
            "code": 404,
        }),
    )
}

fn parse_body<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| bad(&format!("bad control request body: {e}")))
}

fn default_namespace() -> String {
    "default".into()
}

fn default_size() -> u64 {
    100
}

fn default_prefix() -> String {
    "gen".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPod {
    #[serde(default = "default_namespace")]
    namespace: String,
    name: String,
    containers: Vec<String>,
    #[serde(default)]
    init_containers: Vec<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewState {
    container: String,
    state: String,
    #[serde(default)]
    exit_code: i32,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Append {
    #[serde(default = "default_namespace")]
    namespace: String,
    pod: String,
    #[serde(default)]
    container: Option<String>,
    lines: Vec<String>,
    /// Each entry of `lines` is base64 (for bytes that are not UTF-8).
    #[serde(default)]
    base64: bool,
    /// The last line appended has no newline.
    #[serde(default)]
    no_newline_last: bool,
    /// Append to the previous instance's log.
    #[serde(default)]
    previous: bool,
    /// Explicit RFC 3339 timestamps, one per line.
    #[serde(default)]
    times: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Generate {
    #[serde(default = "default_namespace")]
    namespace: String,
    pod: String,
    #[serde(default)]
    container: Option<String>,
    count: u64,
    #[serde(default = "default_size")]
    size: u64,
    #[serde(default)]
    interval_ms: u64,
    #[serde(default = "default_prefix")]
    prefix: String,
}

/// Generated line `seq`: `PREFIX seq=NNNNNNNNNN` padded with a space and `x`s so that,
/// with its newline, it is `size` bytes (when `size` leaves room for the padding).
fn generated_line(prefix: &str, seq: u64, size: u64) -> Vec<u8> {
    let mut line = format!("{prefix} seq={seq:010}").into_bytes();
    let target = usize::try_from(size.saturating_sub(1)).unwrap_or(usize::MAX);
    if target > line.len() {
        line.push(b' ');
        line.resize(target, b'x');
    }
    line
}

/// A name the server accepts for pods and containers (lenient; no DNS rules).
fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && !s.contains(['/', ' ', '\n', '\r', '\0'])
}

impl Pods {
    pub fn new() -> Self {
        Pods {
            inner: Mutex::new(Inner {
                pods: BTreeMap::new(),
                rv: 0,
                serial: 0,
                clock: 0,
            }),
            changed: Condvar::new(),
            faults: Mutex::new(LogFaults::default()),
            bench: Mutex::new((200_000, 100)),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        lock(&self.inner)
    }

    /// Wait (releasing the lock) until something changes or `timeout` passes.
    pub fn wait<'a>(
        &self,
        guard: MutexGuard<'a, Inner>,
        timeout: Duration,
    ) -> MutexGuard<'a, Inner> {
        self.changed
            .wait_timeout(guard, timeout)
            .unwrap_or_else(PoisonError::into_inner)
            .0
    }

    /// The log stream fault settings now in force.
    pub fn faults(&self) -> LogFaults {
        *lock(&self.faults)
    }

    /// (lines, bytes per line) of the `logbench` pod.
    pub fn bench(&self) -> (u64, u64) {
        *lock(&self.bench)
    }

    /// `GET /api/v1/namespaces/{ns}/pods/{name}`.
    pub fn get(&self, ns: &str, name: &str) -> Response {
        match self.lock().pod(ns, name) {
            Some(p) => Response::json(200, &p.to_json()),
            None => pod_not_found(name),
        }
    }

    /// `GET /api/v1/namespaces/{ns}/pods` (or every namespace with `None`), with selectors.
    pub fn list(&self, req: &Request, ns: Option<&str>) -> Response {
        let selectors = match Selectors::from_request(req) {
            Ok(s) => s,
            Err(m) => return bad(&m),
        };
        let inner = self.lock();
        let items: Vec<Value> = inner
            .pods
            .values()
            .filter(|p| ns.is_none_or(|n| p.namespace == n))
            .map(Pod::to_json)
            .filter(|o| selectors.matches(o))
            .collect();
        Response::json(
            200,
            &json!({
                "kind": "PodList",
                "apiVersion": "v1",
                "metadata": {"resourceVersion": inner.rv.to_string()},
                "items": items,
            }),
        )
    }

    /// Whether a control path belongs here.
    pub fn owns(path: &str) -> bool {
        path == "/_control/pods"
            || path.starts_with("/_control/pods/")
            || path == "/_control/logs"
            || path.starts_with("/_control/logs/")
            || path == "/_control/logbench"
    }

    /// The control routes (see the module documentation).
    pub fn control(self: &Arc<Self>, req: &Request) -> Response {
        let segs = req.segments();
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let m = req.method.as_str();
        // The segments after `_control`.
        let result = match (m, segs.get(1..).unwrap_or_default()) {
            ("POST", ["pods"]) => self.create(&req.body),
            ("GET", ["pods", ns, name]) => Ok(self.get(ns, name)),
            ("DELETE", ["pods", ns, name]) => self.delete(ns, name),
            ("PUT", ["pods", ns, name, "state"]) => self.set_state(ns, name, &req.body),
            ("POST", ["logs"]) => self.append(&req.body),
            ("POST", ["logs", "generate"]) => self.generate(&req.body),
            ("GET", ["logs", "faults"]) => Ok(Response::json(200, &self.faults().to_json())),
            ("PUT", ["logs", "faults"]) => {
                let mut f = lock(&self.faults);
                f.merge(&req.body)
                    .map(|()| Response::json(200, &f.to_json()))
                    .map_err(|m| bad(&m))
            }
            ("GET", ["logbench"]) => Ok(self.bench_json()),
            ("PUT", ["logbench"]) => self.set_bench(&req.body),
            (
                _,
                ["pods"]
                | ["pods", _, _]
                | ["pods", _, _, "state"]
                | ["logs"]
                | ["logs", "generate" | "faults"]
                | ["logbench"],
            ) => Err(status_response(
                405,
                &format!("{m} is not allowed on {}", req.path),
                Some("MethodNotAllowed"),
            )),
            _ => Err(status_response(
                404,
                "no such control route",
                Some("NotFound"),
            )),
        };
        result.unwrap_or_else(|e| e)
    }

    fn bench_json(&self) -> Response {
        let (n, size) = self.bench();
        Response::json(200, &json!({"n": n, "size": size}))
    }

    fn set_bench(&self, body: &[u8]) -> Result<Response, Response> {
        let v: Value = parse_body(body)?;
        let num = |k: &str| match &v[k] {
            Value::Null => Ok(None),
            n => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| bad(&format!("{k} must be a non-negative integer"))),
        };
        let (n, size) = (num("n")?, num("size")?);
        {
            let mut b = lock(&self.bench);
            b.0 = n.unwrap_or(b.0);
            b.1 = size.unwrap_or(b.1);
        }
        Ok(self.bench_json())
    }

    fn create(&self, body: &[u8]) -> Result<Response, Response> {
        let p: NewPod = parse_body(body)?;
        if !valid_name(&p.namespace) || !valid_name(&p.name) {
            return Err(bad("namespace and name must be non-empty names"));
        }
        if p.containers.is_empty() {
            return Err(bad("a pod needs at least one container"));
        }
        let names: Vec<&String> = p.init_containers.iter().chain(&p.containers).collect();
        for (i, n) in names.iter().enumerate() {
            if !valid_name(n) || names[..i].contains(n) {
                return Err(bad(&format!("container name {n:?} is invalid or repeated")));
            }
        }
        let now = timefmt::now_nanos();
        let state = p.state.as_deref().unwrap_or("running");
        if !matches!(state, "running" | "terminated" | "waiting") {
            return Err(bad(&format!(
                "state {state:?} must be running, terminated or waiting"
            )));
        }
        let initial = |init: bool| match (state, init) {
            ("waiting", true) => CState::Waiting {
                reason: "PodInitializing".into(),
            },
            ("waiting", false) => CState::Waiting {
                reason: "ContainerCreating".into(),
            },
            ("running", false) => CState::Running { started: now },
            // Init containers have done their work by the time the others run.
            _ => CState::Terminated {
                exit_code: 0,
                reason: "Completed".into(),
                started: now,
                finished: now,
            },
        };
        let mut inner = self.lock();
        let mut containers = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let init = i < p.init_containers.len();
            containers.push(Container {
                name: (*name).clone(),
                init,
                state: initial(init),
                restarts: 0,
                last_state: None,
                instance: inner.next_serial(),
                log: LogBuf::default(),
                previous: None,
                next_seq: 1,
            });
        }
        let serial = inner.next_serial();
        let pod = Pod {
            name: p.name.clone(),
            namespace: p.namespace.clone(),
            uid: format!("00000000-0000-4000-8000-{serial:012x}"),
            rv: inner.bump(),
            created: now,
            labels: p.labels,
            containers,
        };
        let json = pod.to_json();
        inner.pods.insert((p.namespace, p.name), pod);
        drop(inner);
        // Streams of a replaced pod's containers must notice and end.
        self.changed.notify_all();
        Ok(Response::json(200, &json))
    }

    fn delete(&self, ns: &str, name: &str) -> Result<Response, Response> {
        let removed = self.lock().pods.remove(&(ns.to_owned(), name.to_owned()));
        if removed.is_none() {
            return Err(pod_not_found(name));
        }
        self.changed.notify_all();
        Ok(Response::json(200, &json!({})))
    }

    fn set_state(&self, ns: &str, name: &str, body: &[u8]) -> Result<Response, Response> {
        let s: NewState = parse_body(body)?;
        let now = timefmt::now_nanos();
        let mut guard = self.lock();
        let inner = &mut *guard;
        // The instance number a restart gives (unused otherwise: numbers only need to be unique).
        let instance = inner.next_serial();
        let pod = inner.pod_mut(ns, name).ok_or_else(|| pod_not_found(name))?;
        let c = pod
            .containers
            .iter_mut()
            .find(|c| c.name == s.container)
            .ok_or_else(|| {
                status_response(
                    404,
                    &format!("container {} is not valid for pod {name}", s.container),
                    Some("NotFound"),
                )
            })?;
        match (s.state.as_str(), &c.state) {
            ("running", CState::Running { .. }) => {}
            ("running", CState::Waiting { .. }) => c.state = CState::Running { started: now },
            ("running", CState::Terminated { .. }) => {
                c.restart(CState::Running { started: now }, instance);
            }
            ("terminated", old) => {
                let started = match old {
                    CState::Running { started } | CState::Terminated { started, .. } => *started,
                    CState::Waiting { .. } => now,
                };
                let reason = s.reason.clone().unwrap_or_else(|| {
                    if s.exit_code == 0 {
                        "Completed"
                    } else {
                        "Error"
                    }
                    .into()
                });
                c.state = CState::Terminated {
                    exit_code: s.exit_code,
                    reason,
                    started,
                    finished: now,
                };
            }
            ("waiting", old) => {
                let next = CState::Waiting {
                    reason: s
                        .reason
                        .clone()
                        .unwrap_or_else(|| "ContainerCreating".into()),
                };
                if matches!(old, CState::Terminated { .. }) {
                    c.restart(next, instance);
                } else {
                    c.state = next;
                }
            }
            (other, _) => {
                return Err(bad(&format!(
                    "state {other:?} must be running, terminated or waiting"
                )));
            }
        }
        let rv = inner.bump();
        let pod = inner.pod_mut(ns, name).ok_or_else(|| pod_not_found(name))?;
        pod.rv = rv;
        let json = pod.to_json();
        drop(guard);
        // Follow streams of a container that stopped running end after what is buffered.
        self.changed.notify_all();
        Ok(Response::json(200, &json))
    }

    fn append(&self, body: &[u8]) -> Result<Response, Response> {
        let a: Append = parse_body(body)?;
        let contents: Vec<Vec<u8>> = if a.base64 {
            a.lines
                .iter()
                .map(|l| STANDARD.decode(l))
                .collect::<Result<_, _>>()
                .map_err(|e| bad(&format!("a line is not base64: {e}")))?
        } else {
            a.lines.into_iter().map(String::into_bytes).collect()
        };
        let times: Option<Vec<u64>> = match &a.times {
            None => None,
            Some(t) if t.len() != contents.len() => {
                return Err(bad("times must have one timestamp per line"));
            }
            Some(t) => Some(
                t.iter()
                    .map(|s| {
                        timefmt::parse(s)
                            .and_then(|n| u64::try_from(n).ok())
                            .ok_or_else(|| {
                                bad(&format!("{s:?} is not an RFC 3339 time after 1970"))
                            })
                    })
                    .collect::<Result<_, _>>()?,
            ),
        };
        let mut guard = self.lock();
        let Inner { pods, clock, .. } = &mut *guard;
        let pod = pods
            .get_mut(&(a.namespace, a.pod.clone()))
            .ok_or_else(|| pod_not_found(&a.pod))?;
        let i = pod.resolve(a.container.as_deref()).map_err(|m| bad(&m))?;
        let c = &mut pod.containers[i];
        let buf = if a.previous {
            c.previous.get_or_insert_default()
        } else {
            &mut c.log
        };
        let n = contents.len();
        let mut stamps = Vec::with_capacity(n);
        for (k, content) in contents.into_iter().enumerate() {
            let ts = match &times {
                Some(t) => t[k],
                None => tick(clock, buf.entries.last().map(|e| e.ts)),
            };
            stamps.push(timefmt::nano(ts));
            buf.entries.push(Entry {
                ts,
                content: content.into_boxed_slice(),
                newline: !(a.no_newline_last && k + 1 == n),
            });
        }
        drop(guard);
        self.changed.notify_all();
        Ok(Response::json(
            200,
            &json!({"appended": n, "timestamps": stamps}),
        ))
    }

    fn generate(self: &Arc<Self>, body: &[u8]) -> Result<Response, Response> {
        let g: Generate = parse_body(body)?;
        if g.count > MAX_GENERATE {
            return Err(bad(&format!("count must be at most {MAX_GENERATE}")));
        }
        if g.size > MAX_LINE_SIZE {
            return Err(bad(&format!("size must be at most {MAX_LINE_SIZE}")));
        }
        if g.prefix.len() > 256 || g.prefix.contains(['\n', '\r']) {
            return Err(bad("prefix must be one short line"));
        }
        let interval = Duration::from_millis(g.interval_ms.min(MAX_INTERVAL_MS));
        let mut guard = self.lock();
        let Inner { pods, clock, .. } = &mut *guard;
        let pod = pods
            .get_mut(&(g.namespace.clone(), g.pod.clone()))
            .ok_or_else(|| pod_not_found(&g.pod))?;
        let i = pod.resolve(g.container.as_deref()).map_err(|m| bad(&m))?;
        let c = &mut pod.containers[i];
        // The numbers are reserved now, so a background run reports them at once.
        let first = c.next_seq;
        c.next_seq += g.count;
        let range = if g.count == 0 {
            json!({"count": 0, "first_seq": null, "last_seq": null})
        } else {
            json!({"count": g.count, "first_seq": first, "last_seq": first + g.count - 1})
        };
        if interval.is_zero() {
            for seq in first..first + g.count {
                let ts = tick(clock, c.log.entries.last().map(|e| e.ts));
                c.log.entries.push(Entry {
                    ts,
                    content: generated_line(&g.prefix, seq, g.size).into_boxed_slice(),
                    newline: true,
                });
            }
            drop(guard);
            self.changed.notify_all();
            return Ok(Response::json(200, &range));
        }
        let (name, instance) = (c.name.clone(), c.instance);
        drop(guard);
        let pods = self.clone();
        let started = std::thread::Builder::new()
            .name("loggen".into())
            .spawn(move || {
                for seq in first..first + g.count {
                    if seq > first {
                        std::thread::sleep(interval);
                    }
                    let mut guard = pods.lock();
                    let Inner {
                        pods: all, clock, ..
                    } = &mut *guard;
                    // Stop once the container instance is gone (pod replaced, restarted).
                    let Some(c) = all
                        .get_mut(&(g.namespace.clone(), g.pod.clone()))
                        .and_then(|p| p.containers.iter_mut().find(|c| c.name == name))
                        .filter(|c| c.instance == instance)
                    else {
                        return;
                    };
                    let ts = tick(clock, c.log.entries.last().map(|e| e.ts));
                    c.log.entries.push(Entry {
                        ts,
                        content: generated_line(&g.prefix, seq, g.size).into_boxed_slice(),
                        newline: true,
                    });
                    drop(guard);
                    pods.changed.notify_all();
                }
            });
        match started {
            Ok(_) => {
                let mut v = range;
                v["background"] = true.into();
                Ok(Response::json(200, &v))
            }
            Err(e) => Err(status_response(
                500,
                &format!("cannot start a thread: {e}"),
                None,
            )),
        }
    }
}

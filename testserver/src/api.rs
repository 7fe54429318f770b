//! Routing: authentication, the control API, the ConfigMap API and the `/_test/` routes.
//!
//! | route | what it does |
//! | --- | --- |
//! | `PUT /_control/tokens` `["t1",..]` | replace the accepted bearer tokens (no auth) |
//! | `GET`/`DELETE /_control/requests` | the log of non-control requests / clear it (no auth) |
//! | `GET`/`PUT /_control/watch` `{..}` | watch fault settings (merged) and `compact` (no auth; `watch.rs`) |
//! | `POST /_control/churn` `{namespace,count,prefix[,interval_ms]}` | N ConfigMap writes (no auth; `watch.rs`) |
//! | `GET /version` | a fixed version object, pre-encoded |
//! | `/api/v1/namespaces/{ns}/configmaps[/{name}]` | in-memory CRUD, every patch type |
//! | `GET /api/v1/configmaps` | ConfigMaps of all namespaces |
//! | `GET …/configmaps?watch=1` (also `/api/v1/watch/…`) | a watch stream (`watch.rs`) |
//! | `/_test/status/{code}[?plain=1][&reason=R]` | that status with a `Status` (or text) body |
//! | `/_test/flaky?key=K&fail=N&code=C&retry_after=S` | fail N times, then 200 |
//! | `/_test/drop?key=K&times=N` | close without answering N times, then 200 |
//! | `/_test/delay?ms=N[&auth_after=1]` | answer after N ms (check the token after it) |
//! | `/_test/redirect?to=T` | 302 to T |
//! | `/_test/echo`, `/_test/echo-anon` | describe the request (the latter without auth) |
//! | `/_test/chunked?n=N&ms=M[&abort=1]` | a chunked stream of N JSON lines |
//! | `/_test/trickle`, `/_test/endless`, `/_test/gzip-bomb` | hostile answers (`hostile.rs`) |
//! | `/_test/watchbench?n=N&size=S` | N pre-encoded Pod watch events (`watchbench.rs`) |
//! | `GET /api/v1/namespaces/{ns}/pods?watch=1` | the same stream, sized by `PUT /_control/watchbench` |
//! | `GET /api/v1/namespaces/{ns}/pods[/{name}]`, `GET /api/v1/pods` | pods (`pods.rs`) |
//! | `GET /api/v1/namespaces/{ns}/pods/{name}/log` | a container's log, with faults (`logs.rs`) |
//! | `/_control/pods…`, `/_control/logs…`, `/_control/logbench` | pods and logs (no auth; `pods.rs`) |
//! | `/_test/logbench?n=N&size=S` | N pre-encoded log lines (`logbench.rs`) |
//! | `GET /api`, `/apis`, `/api/v1`, `/apis/G/V` | API discovery, aggregated or legacy; `/_control/discovery…` (`discovery.rs`) |
//! | `GET /containerLogs/{ns}/{pod}/{container}` | the kubelet's log route (no auth; `logs.rs`) |
//! | `/api/v1/namespaces/{ns}/pods/{pod}/exec` (WebSocket) | runs the command for real (`exec.rs`) |
//! | `/api/v1/namespaces/{ns}/pods/{pod}/portforward?ports=N` (WebSocket) | to 127.0.0.1:N (`portforward.rs`; SPDY tunnel for `spdy-…` pods: `spdy.rs`) |
//! | `POST /apis/authentication.k8s.io/v1/selfsubjectreviews` | a fixed ServiceAccount identity |
//! | `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews` | read-only RBAC: get/list/watch allowed |
//! | `PUT /_control/selfsubjectreview` `false` | answer 404 to SelfSubjectReview (an old server) |
//! | `/apis/coordination.k8s.io/v1/namespaces/{ns}/leases[/{name}]`, `/_control/leases` | Leases with faults (`leases.rs`) |
//!
//! Lists take `labelSelector`, `fieldSelector` (`select.rs`), `limit` and `continue`, and
//! carry `metadata.resourceVersion`, plus `metadata.continue` (and `remainingItemCount`,
//! without selectors) when more items remain.
//!
//! Tokens are compared and classified here and nowhere else; they are never logged, recorded
//! or echoed — the request log and `/_test/echo` only say "none", "valid" or "invalid".

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::http::{Reply, Request, Response, Streaming, preencode};
use crate::patch::{json_patch, merge_patch};
use crate::pods::Pods;
use crate::select::Selectors;
use crate::store::{ApiFailure, ApiResult, Key, Store, parse_object};
use crate::watch::{Hub, query_bool};
use crate::watchbench::{watchbench, watchbench_stream};

/// The request log keeps at most this many records (the oldest go first), so a long
/// benchmark cannot grow the server without bound.
const LOG_CAP: usize = 100_000;

/// What a real API server answers on `/version` (clients that validate every field need them).
const VERSION_BODY: &str = concat!(
    r#"{"major":"1","minor":"37","gitVersion":"v1.37.2-incluster-test","#,
    r#""gitCommit":"0000000000000000000000000000000000000000","gitTreeState":"clean","#,
    r#""buildDate":"2026-11-01T00:00:00Z","goVersion":"go1.26.8","compiler":"gc","#,
    r#""platform":"linux/amd64"}"#
);

/// How a request authenticated.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AuthClass {
    None,
    Valid,
    Invalid,
}

impl AuthClass {
    fn as_str(self) -> &'static str {
        match self {
            AuthClass::None => "none",
            AuthClass::Valid => "valid",
            AuthClass::Invalid => "invalid",
        }
    }
}

/// One entry of the request log (never the token itself).
struct Record {
    /// Arrival number, so a record can be found again (see `/_test/delay?auth_after=1`).
    seq: u64,
    method: String,
    target: String,
    auth: AuthClass,
    content_type: Option<String>,
    body: Vec<u8>,
}

/// State shared by every connection.
pub struct State {
    /// `--plain`: no authentication at all (the `kubectl proxy` route).
    plain: bool,
    tokens: RwLock<HashSet<String>>,
    log: Mutex<Log>,
    /// Per-key request counters of `/_test/flaky` and `/_test/drop`.
    counters: Mutex<HashMap<String, u64>>,
    /// The ConfigMap store with its change history and the watch settings.
    hub: Arc<Hub>,
    /// (events, bytes per event) of Pod watches (the benchmark stream).
    bench: Mutex<(u64, u64)>,
    /// Pods and their logs.
    pods: Arc<Pods>,
    /// Leases and their faults (`leases.rs`).
    leases: crate::leases::Leases,
    /// Whether SelfSubjectReview exists (a control switch, to test the fallback).
    review_api: std::sync::atomic::AtomicBool,
    /// The pre-encoded `/version` answer (kept-alive and closing variants).
    version: (&'static [u8], &'static [u8]),
    /// The discovery catalog (`discovery.rs`).
    discovery: crate::discovery::Discovery,
}

#[derive(Default)]
struct Log {
    records: VecDeque<Record>,
    next_seq: u64,
}

/// Lock, ignoring poisoning: a panicking connection thread must not take the server down.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A Kubernetes `Status` failure response.
pub fn status_response(code: u16, message: &str, reason: Option<&str>) -> Response {
    let reason = reason.unwrap_or_else(|| reason_for(code));
    let mut v = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": if code < 400 { "Success" } else { "Failure" },
        "message": message,
        "reason": reason,
        "code": code,
    });
    if code == 429 {
        v["details"] = json!({"retryAfterSeconds": 1});
    }
    Response::json(code, &v)
}

/// `Status.reason` for a code, as the API server uses them.
fn reason_for(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        409 => "Conflict",
        410 => "Expired",
        413 => "RequestEntityTooLarge",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    }
}

fn failure(f: ApiFailure) -> Response {
    let mut v = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f.message,
        "reason": f.reason,
        "code": f.code,
    });
    if let Some(name) = f.name {
        v["details"] = json!({"name": name, "kind": "configmaps"});
    }
    Response::json(f.code, &v)
}

fn not_found() -> Response {
    status_response(
        404,
        "the server could not find the requested resource",
        Some("NotFound"),
    )
}

fn method_not_allowed(method: &str) -> Response {
    status_response(
        405,
        &format!("the server does not allow this method on the requested resource ({method})"),
        Some("MethodNotAllowed"),
    )
}

fn ok_empty() -> Response {
    Response::json(200, &json!({}))
}

/// The media type of a Content-Type header, lower-cased, without parameters.
fn media_type(req: &Request) -> Option<String> {
    req.header("content-type").map(|ct| {
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    })
}

fn param_u64(req: &Request, name: &str) -> Option<u64> {
    req.param(name).and_then(|v| v.trim().parse().ok())
}

impl State {
    pub fn new(plain: bool, tokens: Vec<String>) -> Self {
        let version = Response::new(
            200,
            Some("application/json"),
            VERSION_BODY.as_bytes().to_vec(),
        );
        State {
            plain,
            tokens: RwLock::new(tokens.into_iter().collect()),
            log: Mutex::new(Log::default()),
            counters: Mutex::new(HashMap::new()),
            hub: Arc::new(Hub::new()),
            review_api: std::sync::atomic::AtomicBool::new(true),
            bench: Mutex::new((1000, 4096)),
            pods: Arc::new(Pods::new()),
            leases: crate::leases::Leases::default(),
            version: preencode(&version),
            discovery: Default::default(),
        }
    }

    fn classify(&self, req: &Request) -> AuthClass {
        let Some(value) = req.header("authorization") else {
            return AuthClass::None;
        };
        let token = match value.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ => return AuthClass::Invalid,
        };
        let tokens = self.tokens.read().unwrap_or_else(PoisonError::into_inner);
        if !token.is_empty() && tokens.contains(token) {
            AuthClass::Valid
        } else {
            AuthClass::Invalid
        }
    }

    /// Append to the request log; returns the record's sequence number.
    fn record(&self, req: &Request, auth: AuthClass) -> u64 {
        let mut log = lock(&self.log);
        if log.records.len() >= LOG_CAP {
            log.records.pop_front();
        }
        let seq = log.next_seq;
        log.next_seq += 1;
        log.records.push_back(Record {
            seq,
            method: req.method.clone(),
            target: req.target.clone(),
            auth,
            content_type: req.header("content-type").map(str::to_owned),
            body: req.body.clone(),
        });
        seq
    }

    /// Change the authorization class of a logged request (if it is still in the log).
    fn reclassify(&self, seq: u64, auth: AuthClass) {
        let mut log = lock(&self.log);
        if let Some(r) = log.records.iter_mut().rev().find(|r| r.seq == seq) {
            r.auth = auth;
        }
    }

    /// Count one more request for `key`; returns the new total.
    fn count(&self, key: String) -> u64 {
        let mut c = lock(&self.counters);
        let n = c.entry(key).or_insert(0);
        *n += 1;
        *n
    }

    /// Route one request.
    pub fn handle(&self, req: &Request) -> Reply {
        if req.path.starts_with("/_control/") {
            return self.control(req).into();
        }
        let auth = self.classify(req);
        let seq = self.record(req, auth);
        // The fast path for latency benchmarks: no routing work, one pre-encoded write.
        if matches!(req.path.as_str(), "/version" | "/version/")
            && req.method == "GET"
            && (self.plain || auth == AuthClass::Valid)
        {
            return Reply::Preencoded {
                keep_alive: self.version.0,
                close: self.version.1,
            };
        }
        // `/_test/delay?auth_after=1` authenticates after its delay instead (below).
        let auth_after = req.path == "/_test/delay" && req.param("auth_after") == Some("1");
        // The kubelet route is anonymous: a real kubelet would check the API server's client
        // certificate, which the fake kubelet of the end-to-end tests does not ask for.
        let anonymous_ok = self.plain
            || req.path == "/_test/echo-anon"
            || req.path.starts_with("/containerLogs/")
            || auth_after;
        if !anonymous_ok && auth != AuthClass::Valid {
            return status_response(401, "Unauthorized", Some("Unauthorized")).into();
        }
        let segs = req.segments();
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        let get = req.method == "GET" || req.method == "HEAD";
        match segs.as_slice() {
            ["api"] | ["apis"] | ["api", "v1"] | ["apis", _, _] if get => {
                match self.discovery.serve(req, segs.as_slice()) {
                    Some(r) => r.into(),
                    None => not_found().into(),
                }
            }
            ["version"] if get => {
                Response::new(200, Some("application/json"), VERSION_BODY.into()).into()
            }
            ["version"] => method_not_allowed(&req.method).into(),
            ["api", "v1", "configmaps"] if get => self.list_or_watch(req, None),
            ["api", "v1", "namespaces", ns, "configmaps"] if !ns.is_empty() => {
                self.collection(req, ns)
            }
            // The deprecated watch paths: always a watch.
            ["api", "v1", "watch", "configmaps"] if req.method == "GET" => {
                crate::watch::watch(&self.hub, req, None)
            }
            ["api", "v1", "watch", "namespaces", ns, "configmaps"]
                if req.method == "GET" && !ns.is_empty() =>
            {
                crate::watch::watch(&self.hub, req, Some(ns))
            }
            ["api", "v1", "namespaces", ns, "configmaps", name]
                if !ns.is_empty() && !name.is_empty() =>
            {
                self.item(req, ns, name).into()
            }
            [
                "apis",
                "coordination.k8s.io",
                "v1",
                "namespaces",
                ns,
                "leases",
            ] if !ns.is_empty() => self.leases.handle(req, ns, None),
            [
                "apis",
                "coordination.k8s.io",
                "v1",
                "namespaces",
                ns,
                "leases",
                name,
            ] if !ns.is_empty() && !name.is_empty() => self.leases.handle(req, ns, Some(name)),
            ["_test", "status", code] => test_status(req, code).into(),
            ["_test", "flaky"] => self.flaky(req).into(),
            ["_test", "drop"] => self.drop_route(req),
            ["_test", "delay"] => self.delay(req, auth_after.then_some(seq)).into(),
            ["_test", "redirect"] => redirect(req).into(),
            ["_test", "echo"] | ["_test", "echo-anon"] => echo(req, auth).into(),
            ["_test", "chunked"] => chunked(req),
            ["_test", "trickle"] => crate::hostile::trickle(req),
            ["_test", "endless"] => crate::hostile::endless(req),
            ["_test", "gzip-bomb"] => crate::hostile::gzip_bomb(req),
            ["_test", "watchbench"] => watchbench(req),
            ["_test", "logbench"] => crate::logbench::logbench(req),
            // Pod watches are the benchmark stream, sized by `PUT /_control/watchbench`, so the
            // official client and lightkube can be measured through their typed calls.
            ["api", "v1", "namespaces", _, "pods"]
                if req.method == "GET" && query_bool(req, "watch") == Some(true) =>
            {
                let (n, size) = *lock(&self.bench);
                watchbench_stream(n, size)
            }
            ["api", "v1", "namespaces", ns, "pods"] if get => self.pods.list(req, Some(ns)).into(),
            ["api", "v1", "pods"] if get && query_bool(req, "watch") != Some(true) => {
                self.pods.list(req, None).into()
            }
            ["api", "v1", "namespaces", ns, "pods", name] if get => self.pods.get(ns, name).into(),
            // GET only: a streamed body cannot answer a HEAD.
            ["api", "v1", "namespaces", _, "pods", pod, "exec" | "attach"] => {
                crate::exec::upgrade(req, pod)
            }
            ["api", "v1", "namespaces", _, "pods", pod, "portforward"] => {
                crate::portforward::upgrade(req, pod)
            }
            ["api", "v1", "namespaces", ns, "pods", name, "log"] if req.method == "GET" => {
                crate::logs::log(&self.pods, req, ns, name, None)
            }
            // The kubelet's route, for the end-to-end tests' fake kubelet (the API server
            // relays pod logs from it, with the same query parameters).
            ["containerLogs", ns, name, container] if req.method == "GET" => {
                crate::logs::log(&self.pods, req, ns, name, Some(container))
            }
            ["api", "v1", "namespaces", _, "pods"]
            | ["api", "v1", "namespaces", _, "pods", _]
            | ["api", "v1", "namespaces", _, "pods", _, "log"] => {
                method_not_allowed(&req.method).into()
            }
            ["apis", "authentication.k8s.io", "v1", "selfsubjectreviews"]
                if req.method == "POST"
                    && self.review_api.load(std::sync::atomic::Ordering::Relaxed) =>
            {
                self_subject_review().into()
            }
            [
                "apis",
                "authorization.k8s.io",
                "v1",
                "selfsubjectaccessreviews",
            ] if req.method == "POST" => access_review(req).into(),
            _ => not_found().into(),
        }
    }

    fn control(&self, req: &Request) -> Response {
        if Pods::owns(&req.path) {
            return self.pods.control(req);
        }
        if req.path.starts_with("/_control/discovery") {
            return self.discovery.control(req);
        }
        if req.path == "/_control/leases" {
            return self.leases.control(req);
        }
        match (req.method.as_str(), req.path.as_str()) {
            ("PUT", "/_control/watchbench") => match serde_json::from_slice::<Value>(&req.body) {
                Ok(v) => {
                    let mut b = lock(&self.bench);
                    b.0 = v["n"].as_u64().unwrap_or(b.0);
                    b.1 = v["size"].as_u64().unwrap_or(b.1);
                    ok_empty()
                }
                Err(_) => status_response(400, "body must be JSON", Some("BadRequest")),
            },
            ("PUT", "/_control/selfsubjectreview") => {
                match serde_json::from_slice::<bool>(&req.body) {
                    Ok(on) => {
                        self.review_api
                            .store(on, std::sync::atomic::Ordering::Relaxed);
                        ok_empty()
                    }
                    Err(_) => {
                        status_response(400, "body must be true or false", Some("BadRequest"))
                    }
                }
            }
            ("PUT", "/_control/tokens") => match serde_json::from_slice::<Vec<String>>(&req.body) {
                Ok(tokens) => {
                    *self.tokens.write().unwrap_or_else(PoisonError::into_inner) =
                        tokens.into_iter().collect();
                    ok_empty()
                }
                Err(_) => status_response(
                    400,
                    "the body must be a JSON array of token strings",
                    Some("BadRequest"),
                ),
            },
            ("GET", "/_control/requests") => {
                let log = lock(&self.log);
                let records: Vec<Value> = log
                    .records
                    .iter()
                    .map(|r| {
                        json!({
                            "method": r.method,
                            "path": r.target,
                            "authorization": r.auth.as_str(),
                            "content_type": r.content_type,
                            "body": String::from_utf8_lossy(&r.body),
                        })
                    })
                    .collect();
                Response::json(200, &Value::Array(records))
            }
            ("DELETE", "/_control/requests") => {
                lock(&self.log).records.clear();
                ok_empty()
            }
            ("GET", "/_control/watch") => self.hub.get_settings(),
            ("PUT", "/_control/watch") => self.hub.put_settings(&req.body),
            ("POST", "/_control/churn") => self.hub.churn(&req.body),
            (
                _,
                "/_control/tokens" | "/_control/requests" | "/_control/watch" | "/_control/churn",
            ) => method_not_allowed(&req.method),
            _ => not_found(),
        }
    }

    /// A collection GET: a watch with `watch=1` (GET only), else a list.
    fn list_or_watch(&self, req: &Request, ns: Option<&str>) -> Reply {
        if req.method == "GET" && query_bool(req, "watch") == Some(true) {
            crate::watch::watch(&self.hub, req, ns)
        } else {
            self.list(req, ns).into()
        }
    }

    /// A list, filtered by the selectors and paged by `limit` and `continue`. Pages are cut
    /// from the live store (there are no snapshots): a continued list carries the first
    /// page's resourceVersion, as the API server does, but shows the objects as they are now.
    fn list(&self, req: &Request, ns: Option<&str>) -> Response {
        let bad = |m: &str| status_response(400, m, Some("BadRequest"));
        let selectors = match Selectors::from_request(req) {
            Ok(s) => s,
            Err(m) => return bad(&m),
        };
        let limit = match req.param("limit").filter(|l| !l.is_empty()) {
            None => None,
            Some(l) => match l.parse::<usize>() {
                Ok(0) => None,
                Ok(n) => Some(n),
                Err(_) => return bad(&format!("invalid limit {l:?}")),
            },
        };
        let from = match req.param("continue").filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => match decode_continue(c) {
                Ok(t) => Some(t),
                Err(m) => return bad(&format!("invalid continue token: {m}")),
            },
        };
        let store = self.hub.store();
        let list_rv = from
            .as_ref()
            .map_or(store.resource_version(), |(rv, _)| *rv);
        let mut matching = store
            .scan(ns, from.as_ref().map(|(_, k)| k))
            .filter(|(_, o)| selectors.matches(o));
        let mut items = Vec::new();
        let mut last = None;
        for (key, obj) in matching.by_ref() {
            items.push(Value::clone(obj));
            last = Some(key);
            if limit.is_some_and(|l| items.len() >= l) {
                break;
            }
        }
        let remaining = matching.count();
        let mut metadata = json!({"resourceVersion": list_rv.to_string()});
        if remaining > 0
            && let Some(key) = last
        {
            metadata["continue"] = encode_continue(list_rv, key).into();
            // Only known cheaply without selectors, so the API server sends it only then.
            if selectors.is_empty() {
                metadata["remainingItemCount"] = remaining.into();
            }
        }
        Response::json(
            200,
            &json!({
                "kind": "ConfigMapList",
                "apiVersion": "v1",
                "metadata": metadata,
                "items": items,
            }),
        )
    }

    fn collection(&self, req: &Request, ns: &str) -> Reply {
        match req.method.as_str() {
            "GET" | "HEAD" => self.list_or_watch(req, Some(ns)),
            "POST" => {
                let result =
                    parse_object(&req.body).and_then(|obj| self.hub.write(|s| s.create(ns, obj)));
                match result {
                    Ok(obj) => Response::json(201, &obj).into(),
                    Err(f) => failure(f).into(),
                }
            }
            m => method_not_allowed(m).into(),
        }
    }

    fn item(&self, req: &Request, ns: &str, name: &str) -> Response {
        let result = match req.method.as_str() {
            "GET" | "HEAD" => self.hub.store().get(ns, name).map(|o| (200, o)),
            "PUT" => parse_object(&req.body)
                .and_then(|obj| self.hub.write(|s| s.replace(ns, name, obj)))
                .map(|o| (200, o)),
            "PATCH" => self.patch(req, ns, name),
            "DELETE" => self.hub.write(|s| s.delete(ns, name)).map(|()| {
                (
                    200,
                    json!({
                        "kind": "Status",
                        "apiVersion": "v1",
                        "metadata": {},
                        "status": "Success",
                        "details": {"name": name, "kind": "configmaps"},
                    }),
                )
            }),
            m => return method_not_allowed(m),
        };
        match result {
            Ok((code, obj)) => Response::json(code, &obj),
            Err(f) => failure(f),
        }
    }

    fn patch(&self, req: &Request, ns: &str, name: &str) -> ApiResult<(u16, Value)> {
        let media = media_type(req).unwrap_or_default();
        let parse = || {
            serde_json::from_slice::<Value>(&req.body).map_err(|e| {
                ApiFailure::bad_request(format!("the patch body is not valid JSON: {e}"))
            })
        };
        self.hub
            .write(|store| patch_store(store, req, &media, ns, name, parse))
    }

    fn flaky(&self, req: &Request) -> Response {
        let key = req.param("key").unwrap_or("").to_owned();
        let fail = param_u64(req, "fail").unwrap_or(0);
        let code = param_u64(req, "code")
            .and_then(|c| u16::try_from(c).ok())
            .filter(|c| (200..600).contains(c))
            .unwrap_or(429);
        let attempts = self.count(format!("flaky\0{key}"));
        if attempts <= fail {
            let mut resp = status_response(
                code,
                &format!("flaky failure {attempts} of {fail} for key {key}"),
                None,
            );
            if let Some(s) = req.param("retry_after") {
                resp = resp.with_header("Retry-After", s);
            }
            resp
        } else {
            Response::json(200, &json!({"key": key, "attempts": attempts}))
        }
    }

    /// `/_test/delay?ms=N[&auth_after=1]`. With `auth_after=1` the token is checked against
    /// the accepted set *after* the delay (and the log entry updated to that verdict), so a
    /// test can revoke the token a request was sent with while the request is in flight.
    fn delay(&self, req: &Request, auth_after: Option<u64>) -> Response {
        // Capped at ten minutes so a typo cannot park a thread forever.
        let ms = param_u64(req, "ms").unwrap_or(0).min(600_000);
        std::thread::sleep(Duration::from_millis(ms));
        if let Some(seq) = auth_after {
            let auth = self.classify(req);
            self.reclassify(seq, auth);
            if !self.plain && auth != AuthClass::Valid {
                return status_response(401, "Unauthorized", Some("Unauthorized"));
            }
        }
        Response::json(200, &json!({"delayed_ms": ms}))
    }

    fn drop_route(&self, req: &Request) -> Reply {
        let key = req.param("key").unwrap_or("").to_owned();
        let times = param_u64(req, "times").unwrap_or(0);
        let attempts = self.count(format!("drop\0{key}"));
        if attempts <= times {
            Reply::Drop
        } else {
            Response::json(200, &json!({"key": key, "attempts": attempts})).into()
        }
    }
}

/// The store part of a PATCH, per media type.
fn patch_store(
    store: &mut Store,
    req: &Request,
    media: &str,
    ns: &str,
    name: &str,
    parse: impl Fn() -> ApiResult<Value>,
) -> ApiResult<(u16, Value)> {
    match media {
        "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
            let p = parse()?;
            store
                .patch(ns, name, false, |obj| {
                    merge_patch(obj, &p);
                    Ok(())
                })
                .map(|(o, _)| (200, o))
        }
        "application/json-patch+json" => {
            let ops = parse()?;
            store
                .patch(ns, name, false, |obj| {
                    json_patch(obj, &ops).map_err(|e| {
                        ApiFailure::invalid(name, format!("the JSON patch failed: {e}"))
                    })
                })
                .map(|(o, _)| (200, o))
        }
        "application/apply-patch+yaml" => {
            let manager = match req.param("fieldManager") {
                Some(m) if !m.is_empty() => m.to_owned(),
                _ => {
                    return Err(ApiFailure::bad_request(
                        "PATCH /apply: fieldManager is required for apply requests \
                         (set the fieldManager query parameter)",
                    ));
                }
            };
            // Real apply takes YAML; JSON is valid YAML and all the clients send.
            let p = parse()?;
            if !p.is_object() {
                return Err(ApiFailure::bad_request("the apply body is not an object"));
            }
            store
                .patch(ns, name, true, |obj| {
                    merge_patch(obj, &p);
                    obj["metadata"]["managedFields"] =
                        json!([{"manager": manager, "operation": "Apply"}]);
                    Ok(())
                })
                .map(|(o, created)| (if created { 201 } else { 200 }, o))
        }
        other => Err(ApiFailure::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {other:?})"
            ),
        )),
    }
}

/// The version of [`encode_continue`] tokens (the API server's is the same).
const CONTINUE_VERSION: &str = "meta.k8s.io/v1";

/// A list continue token: unpadded URL-safe base64 of
/// `{"v":"meta.k8s.io/v1","rv":RV,"start":"NS/NAME\u0000"}`, where `start` is just past the
/// last key sent (the shape of the API server's tokens; clients must treat it as opaque).
fn encode_continue(rv: u64, (ns, name): &Key) -> String {
    let token = json!({"v": CONTINUE_VERSION, "rv": rv, "start": format!("{ns}/{name}\u{0}")});
    URL_SAFE_NO_PAD.encode(token.to_string())
}

/// The list resourceVersion and last key of a continue token.
fn decode_continue(token: &str) -> Result<(u64, Key), String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|e| format!("not base64: {e}"))?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))?;
    if v["v"] != CONTINUE_VERSION {
        return Err(format!("unknown version {}", v["v"]));
    }
    let rv = v["rv"].as_u64().ok_or("no resourceVersion")?;
    let start = v["start"].as_str().ok_or("no start key")?;
    let (ns, name) = start
        .strip_suffix('\u{0}')
        .and_then(|k| k.split_once('/'))
        .ok_or("malformed start key")?;
    Ok((rv, (ns.to_owned(), name.to_owned())))
}

fn test_status(req: &Request, code: &str) -> Response {
    let Some(code) = code.parse::<u16>().ok().filter(|c| (200..600).contains(c)) else {
        return status_response(
            400,
            "the status code must be a number from 200 to 599",
            Some("BadRequest"),
        );
    };
    if req.param("plain") == Some("1") {
        return Response::new(
            code,
            Some("text/plain; charset=utf-8"),
            format!("plain failure {code}").into_bytes(),
        );
    }
    status_response(code, &format!("test status {code}"), req.param("reason"))
}

fn redirect(req: &Request) -> Response {
    match req.param("to") {
        Some(to) if !to.is_empty() && !to.contains(['\r', '\n']) => {
            Response::new(302, None, Vec::new()).with_header("Location", to)
        }
        _ => status_response(400, "the to parameter is required", Some("BadRequest")),
    }
}

fn echo(req: &Request, auth: AuthClass) -> Response {
    Response::json(
        200,
        &json!({
            "method": req.method,
            "path": req.path,
            "query": req.raw_query,
            "content_type": req.header("content-type"),
            "authorization": auth.as_str(),
            "body": String::from_utf8_lossy(&req.body),
        }),
    )
}

/// `/_test/chunked?n=N&ms=M&abort=1`: N chunks `{"chunk":i}\n`, M ms apart; with `abort=1`
/// the connection is cut after the last chunk instead of ending the body properly. A
/// demonstration of [`Reply::Stream`], which watch and log routes build on.
fn chunked(req: &Request) -> Reply {
    let n = param_u64(req, "n").unwrap_or(3).min(10_000);
    let ms = param_u64(req, "ms").unwrap_or(0).min(60_000);
    let abort = req.param("abort") == Some("1");
    Reply::Stream(Streaming {
        status: 200,
        content_type: "application/json",
        headers: Vec::new(),
        body: Box::new(move |w| {
            for i in 0..n {
                if i > 0 && ms > 0 {
                    std::thread::sleep(Duration::from_millis(ms));
                }
                w.send(format!("{{\"chunk\":{i}}}\n").as_bytes())?;
            }
            if abort {
                return Err(std::io::Error::other("stream aborted on request"));
            }
            Ok(())
        }),
    })
}

/// The identity every valid token has on this server.
fn self_subject_review() -> Response {
    Response::json(
        201,
        &json!({
            "kind": "SelfSubjectReview",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": null},
            "status": {"userInfo": {
                "username": "system:serviceaccount:test:tester",
                "uid": "00000000-0000-4000-8000-0000000000aa",
                "groups": ["system:serviceaccounts", "system:serviceaccounts:test",
                           "system:authenticated"],
            }},
        }),
    )
}

/// Read-only RBAC: get, list and watch on any resource, and GET of /version and /healthz.
fn access_review(req: &Request) -> Response {
    let Ok(mut v) = serde_json::from_slice::<Value>(&req.body) else {
        return status_response(400, "the body is not JSON", Some("BadRequest"));
    };
    let spec = &v["spec"];
    let (allowed, reason) = if let Some(r) = spec.get("resourceAttributes") {
        let verb = r["verb"].as_str().unwrap_or_default();
        let ok = matches!(verb, "get" | "list" | "watch");
        (
            ok,
            if ok {
                "test server: reading is allowed"
            } else {
                ""
            },
        )
    } else if let Some(n) = spec.get("nonResourceAttributes") {
        let ok = n["verb"] == "get" && matches!(n["path"].as_str(), Some("/version" | "/healthz"));
        (ok, "")
    } else {
        return status_response(
            422,
            "spec needs resourceAttributes or nonResourceAttributes",
            Some("Invalid"),
        );
    };
    v["status"] = if allowed {
        json!({"allowed": true, "reason": reason})
    } else {
        json!({"allowed": false, "reason": "test server: only get, list and watch are allowed"})
    };
    Response::json(201, &v)
}

//! The core client against the project's loopback HTTPS test API server (a real process with a
//! real generated CA).

use incluster_testserver::harness as common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{SaDir, TestServer, unique_dir};
use incluster::{Client, Config, Error, ErrorKind, Patch, PatchType, Request};
use serde_json::{Value, json};

const TOKEN: &str = "tok-client-tests-5f2c9a";

fn server() -> TestServer {
    TestServer::start(&["--token", TOKEN])
}

fn client(s: &TestServer) -> Client {
    Client::new(
        Config::new(&s.url)
            .unwrap()
            .with_ca_file(&s.ca)
            .with_token(TOKEN),
    )
    .unwrap()
}

/// The in-cluster config of a simulated pod, with its environment given as a map.
fn pod_config(s: &TestServer, sa: &SaDir) -> Config {
    let env: HashMap<String, String> = common::env_for_pod(s, sa).into_iter().collect();
    Config::in_cluster_from(&|k| env.get(k).cloned(), Some(&sa.path)).unwrap()
}

fn api_err(e: Error) -> incluster::ApiError {
    match e {
        Error::Api(a) => *a,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[test]
fn crud_and_every_patch_type() {
    let s = server();
    let c = client(&s);
    let coll = "/api/v1/namespaces/crud/configmaps";
    let item = "/api/v1/namespaces/crud/configmaps/one";

    let created = c
        .request(&Request::new("POST", coll).with_json(&json!({
            "metadata": {"name": "one"}, "data": {"a": "1"}
        })))
        .unwrap();
    assert_eq!(created.status, 201);
    assert_eq!(c.get_json(item).unwrap()["data"]["a"], "1");

    let list = c.get_json(coll).unwrap();
    assert_eq!(list["kind"], "ConfigMapList");
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    let put = c
        .request(&Request::new("PUT", item).with_json(&json!({
            "metadata": {"name": "one"}, "data": {"a": "2"}
        })))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(put["data"]["a"], "2");

    let patch = |pt: Patch, body: Value| {
        c.request(&Request::patch(
            item,
            &pt,
            serde_json::to_vec(&body).unwrap(),
        ))
        .unwrap()
        .json()
        .unwrap()
    };
    assert_eq!(
        patch(
            Patch::new(PatchType::Merge, None, false).unwrap(),
            json!({"data": {"m": "x"}})
        )["data"]["m"],
        "x"
    );
    assert_eq!(
        patch(
            Patch::new(PatchType::StrategicMerge, None, false).unwrap(),
            json!({"data": {"s": "y"}})
        )["data"]["s"],
        "y"
    );
    assert_eq!(
        patch(
            Patch::new(PatchType::Json, None, false).unwrap(),
            json!([{"op": "replace", "path": "/data/a", "value": "3"}])
        )["data"]["a"],
        "3"
    );
    let applied = patch(
        Patch::parse("apply", Some("tests"), true).unwrap(),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "one"}, "data": {"ap": "z"}}),
    );
    assert_eq!(applied["data"]["ap"], "z");
    assert_eq!(applied["metadata"]["managedFields"][0]["manager"], "tests");
    let log = s.requests();
    let last = log.last().unwrap();
    assert_eq!(last["content_type"], "application/apply-patch+yaml");
    assert!(
        last["path"]
            .as_str()
            .unwrap()
            .ends_with("?fieldManager=tests&force=true"),
        "{last}"
    );

    // fieldManager goes with every patch type, not only apply (issue 20, point 3).
    patch(
        Patch::parse("merge", Some("merger"), false).unwrap(),
        json!({"data": {"fm": "1"}}),
    );
    let log = s.requests();
    let last = log.last().unwrap();
    assert_eq!(last["content_type"], "application/merge-patch+json");
    assert!(
        last["path"]
            .as_str()
            .unwrap()
            .ends_with("?fieldManager=merger"),
        "{last}"
    );

    let deleted = c
        .request(&Request::new("DELETE", item))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(deleted["status"], "Success");
    let gone = api_err(c.get_json(item).unwrap_err());
    assert_eq!((gone.status, gone.reason.as_str()), (404, "NotFound"));
    assert_eq!(gone.message, "configmaps \"one\" not found");
    assert_eq!(gone.details.unwrap().details.unwrap().name, "one");
}

#[test]
fn api_errors_carry_the_status_object() {
    let s = server();
    let c = client(&s);
    for (code, reason) in [
        (400, "BadRequest"),
        (403, "Forbidden"),
        (409, "Conflict"),
        (410, "Expired"),
        (422, "Invalid"),
        (500, "InternalError"),
    ] {
        let e = c.get_json(&format!("/_test/status/{code}")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Api);
        let a = api_err(e);
        assert_eq!((a.status, a.reason.as_str()), (code, reason));
        assert_eq!(a.message, format!("test status {code}"));
        assert!(!a.body.is_empty());
    }
    // A body that is not a Status still gives a typed error with the text.
    let a = api_err(c.get_json("/_test/status/502?plain=1").unwrap_err());
    assert_eq!(a.status, 502);
    assert_eq!(a.message, "plain failure 502");
    assert!(a.details.is_none());
}

#[test]
fn wrong_ca_is_a_tls_error_and_nothing_reaches_the_server() {
    let s = server();
    s.clear_requests();
    let c = Client::new(
        Config::new(&s.url)
            .unwrap()
            .with_ca_file(&s.other_ca)
            .with_token(TOKEN),
    )
    .unwrap();
    let e = c.get_json("/version").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
    assert!(e.to_string().contains("unknown issuer"), "{e}");
    assert!(s.requests().is_empty(), "a request reached the server");
}

#[test]
fn wrong_token_is_unauthorized_with_status_and_never_shown() {
    let s = server();
    let secret = "tok-WRONG-never-print-me-81f3";
    let c = Client::new(
        Config::new(&s.url)
            .unwrap()
            .with_ca_file(&s.ca)
            .with_token(secret),
    )
    .unwrap();
    let e = c.get_json("/api/v1/namespaces").unwrap_err();
    for text in [e.to_string(), format!("{e:?}"), format!("{c:?}")] {
        assert!(!text.contains(secret), "token leaked: {text}");
    }
    let a = api_err(e);
    assert_eq!((a.status, a.reason.as_str()), (401, "Unauthorized"));
    assert_eq!(a.details.unwrap().code, 401);
}

#[test]
fn token_rotation_by_data_swap_has_no_failed_and_no_wasted_calls() {
    let s = server();
    let dir = unique_dir("rotation");
    let sa = SaDir::new(&dir, "rot-0", &s.ca, "rot-ns");
    s.set_tokens(&["rot-0"]);
    let c = Client::new(pod_config(&s, &sa)).unwrap();
    assert_eq!(c.namespace(), "rot-ns");
    for i in 1..=5 {
        let tok = format!("rot-{i}");
        // The file changes before the request, and the old token is already revoked: the
        // request must go out with the new token straight away.
        sa.rotate(&tok);
        s.set_tokens(&[&tok]);
        c.get_json("/version").unwrap();
    }
    let log = s.requests();
    assert_eq!(log.len(), 5);
    assert!(
        log.iter().all(|r| r["authorization"] == "valid"),
        "a 401 was wasted: {log:?}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn token_rotation_under_load_fails_no_call() {
    let s = server();
    let dir = unique_dir("rotation-load");
    let sa = SaDir::new(&dir, "load-0", &s.ca, "default");
    s.set_tokens(&["load-0"]);
    let c = Client::new(pod_config(&s, &sa)).unwrap();
    let failures = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (c, failures, done) = (c.clone(), failures.clone(), done.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !done.load(Ordering::Relaxed) {
                    if let Err(e) = c.get_json("/version") {
                        eprintln!("failed call: {e}");
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                    n += 1;
                }
                n
            })
        })
        .collect();
    for i in 1..=20 {
        let (prev, tok) = (format!("load-{}", i - 1), format!("load-{i}"));
        // As in a cluster: the new token is valid from issuance, the kubelet swaps the file,
        // and the old token is revoked afterwards (here: at once, while requests are in flight).
        s.set_tokens(&[&prev, &tok]);
        sa.rotate(&tok);
        s.set_tokens(&[&tok]);
        std::thread::sleep(Duration::from_millis(20));
    }
    done.store(true, Ordering::Relaxed);
    let calls: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(calls > 20, "only {calls} calls were made");
    assert_eq!(failures.load(Ordering::Relaxed), 0, "of {calls} calls");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn unauthorized_rereads_the_token_and_retries_once() {
    let s = server();
    let dir = unique_dir("retry401");
    let sa = SaDir::new(&dir, "old-token", &s.ca, "default");
    s.set_tokens(&["old-token"]);
    let c = Client::new(pod_config(&s, &sa)).unwrap();
    s.clear_requests();
    // The server checks the token after the delay: the client sent the old token, and by the
    // time the 401 comes back the file already holds the new one.
    let c2 = c.clone();
    let slow = std::thread::spawn(move || c2.get_json("/_test/delay?ms=400&auth_after=1"));
    std::thread::sleep(Duration::from_millis(150));
    sa.rotate("new-token");
    s.set_tokens(&["new-token"]);
    let v = slow
        .join()
        .unwrap()
        .expect("the 401 should have been retried");
    assert_eq!(v["delayed_ms"], 400);
    let log: Vec<String> = s
        .requests()
        .iter()
        .map(|r| r["authorization"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(log, ["invalid", "valid"], "one 401, then one retry");

    // When the token did not change, a 401 is final: no pointless retry.
    s.clear_requests();
    s.set_tokens(&["someone-else"]);
    assert_eq!(api_err(c.get_json("/version").unwrap_err()).status, 401);
    assert_eq!(s.requests().len(), 1);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn broken_serviceaccount_files_are_named() {
    let s = server();
    let dir = unique_dir("badfiles");
    let sa = SaDir::new(&dir, "t", &s.ca, "default");
    let err = |sa: &SaDir| Client::new(pod_config(&s, sa)).unwrap_err().to_string();
    let token = sa.path.join("token");
    let ca = sa.path.join("ca.crt");
    let data = |name: &str| std::fs::canonicalize(sa.path.join(name)).unwrap();

    std::fs::write(data("token"), "").unwrap();
    let e = err(&sa);
    assert!(
        e.contains(&format!("token file {} is empty", token.display())),
        "{e}"
    );
    std::fs::write(data("token"), "t").unwrap();

    std::fs::write(data("ca.crt"), "").unwrap();
    let e = err(&sa);
    assert!(
        e.contains(&format!("CA file {} is empty", ca.display())),
        "{e}"
    );
    std::fs::write(data("ca.crt"), "garbage").unwrap();
    let e = err(&sa);
    assert!(e.contains("is not PEM"), "{e}");
    std::fs::write(
        data("ca.crt"),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let e = err(&sa);
    assert!(e.contains("not a valid X.509"), "{e}");
    std::fs::remove_file(data("ca.crt")).unwrap();
    let e = err(&sa);
    assert!(
        e.contains(&format!("CA file {} does not exist", ca.display())),
        "{e}"
    );
    std::fs::remove_file(data("token")).unwrap();
    let e = err(&sa);
    assert!(
        e.contains(&format!("token file {} does not exist", token.display())),
        "{e}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn ipv6_loopback_with_ip_san() {
    let s = TestServer::start(&["--listen", "[::1]:0", "--token", TOKEN]);
    assert!(s.url.starts_with("https://[::1]:"), "{}", s.url);
    let dir = unique_dir("v6");
    let sa = SaDir::new(&dir, TOKEN, &s.ca, "default");
    let port = s.url.rsplit(':').next().unwrap().to_owned();
    let env = |k: &str| match k {
        "KUBERNETES_SERVICE_HOST" => Some("::1".to_owned()),
        "KUBERNETES_SERVICE_PORT" => Some(port.clone()),
        _ => None,
    };
    let cfg = Config::in_cluster_from(&env, Some(&sa.path)).unwrap();
    assert_eq!(cfg.server, s.url);
    let v = Client::new(cfg).unwrap().get_json("/version").unwrap();
    assert_eq!(v["gitVersion"], "v1.37.2-incluster-test");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn retry_after_is_honoured_and_bounded() {
    let s = server();
    let c = client(&s);
    let v = c
        .get_json("/_test/flaky?key=ra&fail=3&code=429&retry_after=0")
        .unwrap();
    assert_eq!(v["attempts"], 4);
    let v = c
        .request(&Request::new(
            "POST",
            "/_test/flaky?key=ra503&fail=1&code=503&retry_after=0",
        ))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["attempts"], 2);
    // Never more than max_attempts (10) tries.
    let e = c
        .get_json("/_test/flaky?key=forever&fail=100&code=429&retry_after=0")
        .unwrap_err();
    assert_eq!(e.status(), 429);
    let tries = s
        .requests()
        .iter()
        .filter(|r| r["path"].as_str().unwrap().contains("key=forever"))
        .count();
    assert_eq!(tries, 10);
    // Without Retry-After a 429 is returned at once (client-go's rule).
    let e = c
        .get_json("/_test/flaky?key=nora&fail=1&code=429")
        .unwrap_err();
    assert_eq!(e.status(), 429);
}

#[test]
fn redirects_never_carry_the_token() {
    let s = server();
    let c = client(&s);
    let v = c.get_json("/_test/redirect?to=/_test/echo-anon").unwrap();
    assert_eq!(v["authorization"], "none", "{v}");
    let full = format!("{}/_test/echo-anon", s.url);
    let v = c
        .get_json(&format!(
            "/_test/redirect?to={}",
            full.replace(':', "%3A").replace('/', "%2F")
        ))
        .unwrap();
    assert_eq!(v["authorization"], "none", "{v}");
}

#[test]
fn kubectl_proxy_route_over_plain_http() {
    let s = TestServer::start(&["--plain"]);
    assert!(s.url.starts_with("http://"));
    let c = Client::new(Config::new(&s.url).unwrap()).unwrap();
    assert_eq!(
        c.get_json("/version").unwrap()["gitVersion"],
        "v1.37.2-incluster-test"
    );
    // An https server without a CA is refused up front, never silently unverified.
    let e = Client::new(Config::new("https://127.0.0.1:1").unwrap()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("no CA was given"), "{e}");
}

#[test]
fn idempotent_reads_survive_dropped_connections_writes_do_not_repeat() {
    let s = server();
    let c = client(&s);
    let v = c.get_json("/_test/drop?key=g&times=2").unwrap();
    assert_eq!(v["attempts"], 3);
    let e = c
        .request(&Request::new("POST", "/_test/drop?key=p&times=1"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{e}");
    let posts = s
        .requests()
        .iter()
        .filter(|r| r["path"].as_str().unwrap().contains("key=p"))
        .count();
    assert_eq!(posts, 1, "a POST was sent twice");
}

#[test]
fn request_timeout_is_a_timeout_error() {
    let s = server();
    let mut cfg = Config::new(&s.url)
        .unwrap()
        .with_ca_file(&s.ca)
        .with_token(TOKEN);
    cfg.request_timeout = Some(Duration::from_millis(300));
    let e = Client::new(cfg)
        .unwrap()
        .get_json("/_test/delay?ms=3000")
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    // The message names the request and the limit (issue 20, point 13), not just "global".
    let authority = s.url.trim_start_matches("https://");
    assert_eq!(
        e.to_string(),
        format!(
            "timeout: GET /_test/delay?ms=3000: no complete answer from {authority} within the \
             request timeout of 300ms"
        )
    );
}

#[test]
fn a_method_that_is_not_a_token_or_not_sendable_is_an_argument_error_sent_nowhere() {
    let s = server();
    let c = client(&s);
    s.clear_requests();
    for (method, says) in [
        (
            "FOO",
            "\"FOO\" is not supported: use one of GET, HEAD, POST",
        ),
        ("G T", "\"G T\" is not a valid method name"),
        ("", "\"\" is not a valid method name"),
        ("GET\r\nX: y", "is not a valid method name"),
    ] {
        let e = c.request(&Request::new(method, "/version")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{method:?}: {e}");
        assert!(e.to_string().contains(says), "{method:?}: {e}");
    }
    assert!(s.requests().is_empty(), "a bad method reached the server");
    // Case does not matter for a real one.
    assert_eq!(
        c.request(&Request::new("get", "/version")).unwrap().status,
        200
    );
}

#[test]
fn a_body_that_is_not_json_names_the_request_and_its_content_type() {
    let s = server();
    let e = client(&s)
        .get_json("/_test/status/200?plain=1")
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    let m = e.to_string();
    assert!(
        m.starts_with(
            "decode error: GET /_test/status/200?plain=1: the response body \
             (Content-Type: text/plain; charset=utf-8) is not JSON: "
        ),
        "{m}"
    );
}

#[test]
fn can_i_lower_cases_the_verb_and_warns_on_an_unknown_one() {
    use incluster::core::api::access::{AccessQuery, can_i};
    let s = server();
    let c = client(&s);
    let ask = |verb: &str, resource: &str| {
        can_i(
            &c,
            &AccessQuery {
                verb: verb.into(),
                resource: resource.into(),
                ..Default::default()
            },
        )
        .unwrap()
    };
    // The test server's RBAC compares verbs exactly, as the real authorizers do.
    let a = ask("GET", "pods");
    assert!(a.allowed && a.warnings.is_empty(), "{a:?}");
    assert!(ask("Get", "/healthz").allowed);
    let a = ask("foo", "pods");
    assert!(!a.allowed);
    assert_eq!(a.warnings, ["verb 'foo' is not a known verb"]);
    let a = ask("LIST", "/healthz");
    assert_eq!(a.warnings, ["verb 'list' is not a known verb"]);
}

#[test]
fn an_explicit_server_keeps_the_pod_credentials_or_refuses_to_go_anonymous() {
    let s = server();
    let dir = unique_dir("forserver");
    let sa = SaDir::new(&dir, TOKEN, &s.ca, "kept-ns");
    // In a pod: the ServiceAccount token, CA and namespace are kept for another URL.
    let c = Client::new(Config::for_server(&s.url, Some(&sa.path)).unwrap()).unwrap();
    assert_eq!(c.namespace(), "kept-ns");
    assert_eq!(c.get_json("/_test/echo").unwrap()["authorization"], "valid");
    // An explicit token overrides the kept one.
    let c = Client::new(
        Config::for_server(&s.url, Some(&sa.path))
            .unwrap()
            .with_token("someone-else"),
    )
    .unwrap();
    assert_eq!(api_err(c.get_json("/version").unwrap_err()).status, 401);

    // Not in a pod and no token: refused, never anonymous without a word.
    let none = dir.join("no-such-sa");
    let cfg = Config::for_server(&s.url, Some(&none))
        .unwrap()
        .with_ca_file(&s.ca);
    let e = Client::new(cfg.clone()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    assert!(e.to_string().contains("no token for https://"), "{e}");
    assert!(e.to_string().contains("system:anonymous"), "{e}");
    // Anonymous when asked for.
    let c = Client::new(cfg.anonymous()).unwrap();
    assert_eq!(
        c.get_json("/_test/echo-anon").unwrap()["authorization"],
        "none"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn many_threads_share_one_client() {
    let s = server();
    let c = client(&s);
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || (0..50).filter(|_| c.get_json("/version").is_ok()).count())
        })
        .collect();
    let ok: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(ok, 400);
}

#[test]
fn info_decodes_claims_and_ca_without_the_token() {
    let s = server();
    let claims = json!({
        "iss": "https://kubernetes.default.svc", "sub": "system:serviceaccount:ns1:bot",
        "aud": ["https://kubernetes.default.svc"], "exp": 4102444800i64, "iat": 1700000000,
        "kubernetes.io": {"namespace": "ns1", "serviceaccount": {"name": "bot", "uid": "u1"},
                          "pod": {"name": "pod-1", "uid": "u2"}}
    });
    let token = common::fake_jwt(&claims);
    let c = Client::new(
        Config::new(&s.url)
            .unwrap()
            .with_ca_file(&s.ca)
            .with_token(&token),
    )
    .unwrap();
    let info = incluster::core::info::describe(&c);
    assert_eq!(info["token"]["subject"], "system:serviceaccount:ns1:bot");
    assert_eq!(info["token"]["serviceAccount"], "bot");
    assert_eq!(info["token"]["pod"], "pod-1");
    assert_eq!(info["token"]["expiresAt"], "2100-01-01T00:00:00Z");
    assert_eq!(info["ca"][0]["subject"], "CN=incluster-test-ca,O=incluster");
    assert!(info["ca"][0]["notAfter"].as_str().unwrap().ends_with('Z'));
    assert!(!info.to_string().contains(&token));
}

#[test]
fn an_interrupt_check_stops_a_blocked_request() {
    use incluster::core::http::interrupt;
    use std::sync::atomic::AtomicBool;
    let s = server();
    let c = client(&s);
    let flag = Arc::new(AtomicBool::new(false));
    let setter = {
        let flag = flag.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            flag.store(true, Ordering::SeqCst);
        })
    };
    let start = std::time::Instant::now();
    let f = flag.clone();
    let r = interrupt::with_check(
        move || f.load(Ordering::SeqCst),
        || c.get_json("/_test/delay?ms=5000"),
    );
    setter.join().unwrap();
    assert_eq!(r.unwrap_err(), Error::Cancelled);
    // Well before the server's 5 s answer: the wait noticed the check.
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    // The client still works afterwards (the interrupted connection is not reused).
    assert_eq!(c.get_json("/version").unwrap()["major"], "1");
}

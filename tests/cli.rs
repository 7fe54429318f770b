//! The `incluster` command in a simulated pod, against the test API server.

use incluster_testserver::harness as common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::{SaDir, TestServer, unique_dir};
use serde_json::{Value, json};

const TOKEN: &str = "tok-cli-SECRET-4e1d77";

struct Pod {
    server: TestServer,
    sa: SaDir,
    dir: std::path::PathBuf,
}

impl Drop for Pod {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

fn pod_with_token(token: &str) -> Pod {
    let server = TestServer::start(&["--token", token]);
    let dir = unique_dir("cli");
    let sa = SaDir::new(&dir, token, &server.ca, "cli-ns");
    Pod { server, sa, dir }
}

fn pod() -> Pod {
    pod_with_token(TOKEN)
}

fn cmd(pod: Option<&Pod>, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_incluster"));
    c.args(args)
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT")
        .env_remove("INCLUSTER_SERVICEACCOUNT_DIR")
        .env_remove("POD_NAMESPACE")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        // Hermetic: no kubeconfig of the machine's user is found by discovery.
        .env_remove("KUBECONFIG")
        .env("HOME", empty_home());
    if let Some(p) = pod {
        c.envs(common::env_for_pod(&p.server, &p.sa));
    }
    c
}

/// A HOME without a `.kube/config`.
fn empty_home() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("incluster-cli-home-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(pod: Option<&Pod>, args: &[&str]) -> Output {
    cmd(pod, args).output().expect("run incluster")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// POST `body` to the collection `coll` through the CLI, which must succeed.
fn create(p: &Pod, coll: &str, body: &str) {
    assert_exit(&run(Some(p), &["request", "POST", coll, "--data", body]), 0);
}

fn assert_exit(o: &Output, code: i32) {
    let (out, err) = text(o);
    assert_eq!(o.status.code(), Some(code), "stdout: {out}\nstderr: {err}");
}

#[test]
fn get_version_in_a_simulated_pod() {
    let p = pod();
    let o = run(Some(&p), &["get", "/version"]);
    assert_exit(&o, 0);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["gitVersion"], "v1.37.2-incluster-test");
}

#[test]
fn get_with_params_and_request_verbs() {
    let p = pod();
    let o = run(
        Some(&p),
        &[
            "get",
            "/_test/echo",
            "--param",
            "labelSelector=app in (a,b)",
            "--param",
            "limit=2",
        ],
    );
    assert_exit(&o, 0);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["query"], "labelSelector=app%20in%20%28a%2Cb%29&limit=2");

    let coll = "/api/v1/namespaces/cli-ns/configmaps";
    let file = p.dir.join("cm.json");
    std::fs::write(&file, r#"{"metadata":{"name":"x"},"data":{"k":"v"}}"#).unwrap();
    let at = format!("@{}", file.display());
    assert_exit(&run(Some(&p), &["request", "POST", coll, "--data", &at]), 0);

    // Body from stdin, merge patch.
    let mut child = cmd(
        Some(&p),
        &[
            "request",
            "PATCH",
            &format!("{coll}/x"),
            "--data",
            "-",
            "--content-type",
            "application/merge-patch+json",
        ],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"data":{"k2":"v2"}}"#)
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_exit(&o, 0);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["data"], json!({"k": "v", "k2": "v2"}));

    assert_exit(
        &run(Some(&p), &["request", "DELETE", &format!("{coll}/x")]),
        0,
    );
    let o = run(Some(&p), &["get", &format!("{coll}/x")]);
    assert_exit(&o, 5);
    let (_, err) = text(&o);
    assert!(
        err.contains("404 (NotFound): configmaps \"x\" not found"),
        "{err}"
    );
}

#[test]
fn exit_codes_by_failure_class() {
    let p = pod();
    assert_exit(&run(Some(&p), &["get", "/_test/status/403"]), 5);
    assert_exit(&run(Some(&p), &["get", "/_test/status/503"]), 6);
    assert_exit(&run(Some(&p), &["bogus-verb"]), 2);
    assert_exit(&run(Some(&p), &["get"]), 2);
    assert_exit(&run(Some(&p), &["get", "/a", "--param", "novalue"]), 2);
    assert_exit(&run(Some(&p), &["get", "no-slash"]), 2);
    // A method that is not an HTTP method is the caller's error, found before sending.
    let o = run(Some(&p), &["request", "FOO", "/version"]);
    assert_exit(&o, 2);
    assert!(
        text(&o).1.contains("\"FOO\" is not supported"),
        "{}",
        text(&o).1
    );
    // can-i: any case; an unknown verb warns on stderr as kubectl does.
    assert_eq!(
        text(&run(Some(&p), &["can-i", "GET", "pods"])).0.trim(),
        "yes"
    );
    let o = run(Some(&p), &["can-i", "foo", "pods"]);
    assert!(
        text(&o)
            .1
            .contains("Warning: verb 'foo' is not a known verb"),
        "{}",
        text(&o).1
    );

    let o = run(None, &["get", "/version"]);
    assert_exit(&o, 3);
    assert!(
        text(&o)
            .1
            .contains("KUBERNETES_SERVICE_HOST is not set: not running in a pod?")
    );

    let other = p.server.other_ca.display().to_string();
    let o = run(Some(&p), &["get", "/version", "--ca-file", &other]);
    assert_exit(&o, 4);
    assert!(text(&o).1.contains("unknown issuer"), "{}", text(&o).1);

    // --server outside a pod without a token is refused, never sent anonymously (issue 20).
    let server = ["--server", "https://127.0.0.1:1", "--ca-file", &other];
    let o = run(None, &[&server[..], &["get", "/version"]].concat());
    assert_exit(&o, 3);
    assert!(text(&o).1.contains("no token for https://127.0.0.1:1"));

    let token = p.dir.join("cli-token");
    std::fs::write(&token, "t").unwrap();
    let token = token.display().to_string();
    let o = run(
        None,
        &[&server[..], &["--token-file", &token, "get", "/version"]].concat(),
    );
    assert_exit(&o, 4);
    assert!(text(&o).1.contains("connection refused"));
}

#[test]
fn help_and_version() {
    for verb in ["get", "request", "info", "whoami", "can-i", "watch", "logs"] {
        let o = run(None, &[verb, "--help"]);
        assert_exit(&o, 0);
        assert!(
            text(&o).0.starts_with(&format!("incluster {verb}")),
            "{}",
            text(&o).0
        );
    }
    let o = run(None, &["--help"]);
    assert_exit(&o, 0);
    assert!(text(&o).0.contains("Exit codes"));
    let o = run(None, &["--version"]);
    assert_exit(&o, 0);
    assert_eq!(
        text(&o).0.trim(),
        format!("incluster {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn info_shows_identity_and_ca_never_the_token() {
    let token = common::fake_jwt(&json!({
        "sub": "system:serviceaccount:cli-ns:runner", "exp": 4102444800i64,
        "kubernetes.io": {"namespace": "cli-ns", "serviceaccount": {"name": "runner"}}
    }));
    let p = pod_with_token(&token);
    let o = run(Some(&p), &["info"]);
    assert_exit(&o, 0);
    let (out, err) = text(&o);
    assert!(!out.contains(&token) && !err.contains(&token));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["namespace"], "cli-ns");
    assert_eq!(v["token"]["serviceAccount"], "runner");
    assert_eq!(v["token"]["expiresAt"], "2100-01-01T00:00:00Z");
    assert!(
        v["ca"][0]["subject"]
            .as_str()
            .unwrap()
            .contains("CN=incluster-test-ca")
    );
}

#[test]
fn the_token_never_appears_in_output() {
    let p = pod();
    let wrong = p.dir.join("wrong-token");
    std::fs::write(&wrong, "tok-cli-WRONG-SECRET-99").unwrap();
    let wrong = wrong.display().to_string();
    let runs = [
        run(Some(&p), &["get", "/version"]),
        run(Some(&p), &["get", "/_test/echo"]),
        run(Some(&p), &["get", "/_test/status/401"]),
        run(Some(&p), &["info"]),
        run(Some(&p), &["get", "/version", "--token-file", &wrong]),
        run(
            Some(&p),
            &["request", "POST", "/_test/echo", "--data", "{}"],
        ),
    ];
    assert_exit(&runs[4], 5);
    assert!(text(&runs[4]).1.contains("401 (Unauthorized)"));
    for o in &runs {
        let (out, err) = text(o);
        for secret in [TOKEN, "tok-cli-WRONG-SECRET-99"] {
            assert!(
                !out.contains(secret) && !err.contains(secret),
                "{out}\n{err}"
            );
        }
    }
}

#[test]
fn no_proxy_cidr_bypasses_the_proxy() {
    let p = pod();
    // A proxy that refuses connections: going through it fails, bypassing it works.
    let with_proxy = |no_proxy: Option<&str>| {
        let mut c = cmd(Some(&p), &["get", "/version"]);
        c.env("HTTPS_PROXY", "http://127.0.0.1:1");
        if let Some(np) = no_proxy {
            c.env("NO_PROXY", np);
        }
        c.output().unwrap()
    };
    let o = with_proxy(None);
    assert_exit(&o, 4);
    assert_exit(&with_proxy(Some("example.com,127.0.0.0/8")), 0);
    assert_exit(&with_proxy(Some("127.0.0.1")), 0);
    assert_exit(&with_proxy(Some("10.0.0.0/8")), 4);
}

#[test]
fn kubectl_proxy_route() {
    let s = TestServer::start(&["--plain"]);
    let o = run(None, &["--server", &s.url, "get", "/version"]);
    assert_exit(&o, 0);
    assert!(text(&o).0.contains("gitVersion"));
}

#[test]
fn insecure_flag_is_loud() {
    let p = pod();
    let o = run(Some(&p), &["--insecure-skip-tls-verify", "get", "/version"]);
    assert_exit(&o, 0);
    assert!(text(&o).1.contains("WARNING"), "{}", text(&o).1);
}

#[test]
fn whoami_and_can_i() {
    let p = pod();
    let o = run(Some(&p), &["whoami"]);
    assert_exit(&o, 0);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["username"], "system:serviceaccount:test:tester");
    assert_eq!(v["source"], "SelfSubjectReview");

    let o = run(Some(&p), &["can-i", "list", "configmaps"]);
    assert_exit(&o, 0);
    assert_eq!(text(&o).0.trim(), "yes");
    let o = run(
        Some(&p),
        &["can-i", "delete", "deployments.apps", "--name", "web"],
    );
    assert_exit(&o, 1);
    assert_eq!(text(&o).0.trim(), "no");
    assert!(
        text(&o).1.contains("only get, list and watch"),
        "{}",
        text(&o).1
    );
    // The request carried the group split off and the client's namespace.
    let last = p.server.requests().pop().unwrap();
    let body: Value = serde_json::from_str(last["body"].as_str().unwrap()).unwrap();
    let attrs = &body["spec"]["resourceAttributes"];
    assert_eq!(
        (
            attrs["resource"].as_str(),
            attrs["group"].as_str(),
            attrs["namespace"].as_str()
        ),
        (Some("deployments"), Some("apps"), Some("cli-ns"))
    );
    assert_exit(&run(Some(&p), &["can-i", "get", "/healthz"]), 0);
    assert_exit(&run(Some(&p), &["can-i", "get"]), 2);
}

#[test]
fn whoami_falls_back_to_token_claims_on_old_servers() {
    let token = common::fake_jwt(&json!({
        "sub": "system:serviceaccount:cli-ns:old", "exp": 4102444800i64,
        "kubernetes.io": {"namespace": "cli-ns", "serviceaccount": {"name": "old", "uid": "u-7"}}
    }));
    let p = pod_with_token(&token);
    p.server
        .control("PUT", "/_control/selfsubjectreview", Some("false"));
    let o = run(Some(&p), &["whoami"]);
    assert_exit(&o, 0);
    let (out, err) = text(&o);
    assert!(!out.contains(&token) && !err.contains(&token));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["source"], "token claims");
    assert_eq!(v["username"], "system:serviceaccount:cli-ns:old");
    assert_eq!(v["uid"], "u-7");
    assert_eq!(
        v["groups"],
        json!([
            "system:serviceaccounts",
            "system:serviceaccounts:cli-ns",
            "system:authenticated"
        ])
    );
}

/// Read lines from a child's stdout until `n` arrived (or panic after 20 s).
fn read_lines(child: &mut std::process::Child, n: usize) -> Vec<Value> {
    use std::io::BufRead;
    let out = child.stdout.as_mut().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let mut reader = std::io::BufReader::new(out);
    let mut lines = Vec::new();
    std::thread::scope(|s| {
        s.spawn(|| {
            for _ in 0..n {
                let mut l = String::new();
                if reader.read_line(&mut l).unwrap_or(0) == 0 {
                    break;
                }
                tx.send(l).unwrap();
            }
        });
        for _ in 0..n {
            let l = rx
                .recv_timeout(std::time::Duration::from_secs(20))
                .expect("watch output did not arrive");
            lines.push(serde_json::from_str::<Value>(&l).expect("one JSON event per line"));
        }
    });
    lines
}

#[test]
fn watch_prints_one_json_event_per_line_and_stops_cleanly_on_ctrl_c() {
    let p = pod();
    let c = incluster::Client::new(p.server.config().with_token(TOKEN)).unwrap();
    let rv =
        c.get_json("/api/v1/namespaces/cli-ns/configmaps").unwrap()["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .to_owned();
    let mut child = cmd(
        Some(&p),
        &[
            "watch",
            "/api/v1/namespaces/cli-ns/configmaps",
            "--since",
            &rv,
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    p.server.churn("cli-ns", 6, "w");
    let events = read_lines(&mut child, 6);
    assert_eq!(events[0]["type"], "ADDED");
    assert_eq!(events[0]["object"]["metadata"]["name"], "w-0");
    assert_eq!(events[5]["type"], "DELETED");
    // Ctrl-C: a clean exit, no error text.
    // SAFETY: kill(2) on our own child's pid touches no memory of ours.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn watch_selectors_and_errors() {
    let p = pod();
    let mut child = cmd(
        Some(&p),
        &[
            "watch",
            "/api/v1/namespaces/cli-ns/configmaps",
            "-l",
            "app=web",
            "--bookmarks",
        ],
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    p.server.set_watch(&json!({"bookmark_ms": 50}));
    let c = incluster::Client::new(p.server.config().with_token(TOKEN)).unwrap();
    for (n, app) in [("x", "db"), ("y", "web")] {
        c.request(
            &incluster::Request::new("POST", "/api/v1/namespaces/cli-ns/configmaps")
                .with_json(&json!({"metadata": {"name": n, "labels": {"app": app}}})),
        )
        .unwrap();
    }
    let events = read_lines(&mut child, 3);
    let names: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "ADDED")
        .map(|e| &e["object"]["metadata"]["name"])
        .collect();
    assert_eq!(names, [&json!("y")], "{events:?}");
    child.kill().ok();
    child.wait().ok();
    let o = run(Some(&p), &["watch", "/api/v1/namespaces/cli-ns/nothing"]);
    assert_exit(&o, 5);
    assert!(text(&o).1.contains("404"), "{}", text(&o).1);
    assert_exit(&run(Some(&p), &["get", "/version", "--since", "5"]), 2);
}

#[test]
fn options_of_other_verbs_are_refused() {
    for args in [
        &["get", "/version", "--name", "x"][..],
        &["info", "--subresource", "log"],
        &["whoami", "-l", "a=b"],
        &["can-i", "get", "pods", "--since", "3"],
        &["get", "/version", "--data", "{}"],
    ] {
        let o = run(None, args);
        assert_exit(&o, 2);
        assert!(
            text(&o).1.contains("does not take"),
            "{args:?}: {}",
            text(&o).1
        );
    }
}

#[test]
fn logs_like_kubectl() {
    let p = pod();
    p.server.create_pod("cli-ns", "web", &["app"]);
    p.server
        .append_logs("cli-ns", "web", "app", &["one", "two", "three"]);
    let o = run(Some(&p), &["logs", "web"]);
    assert_exit(&o, 0);
    assert_eq!(text(&o).0, "one\ntwo\nthree\n");
    let o = run(Some(&p), &["logs", "web", "--tail", "1", "--timestamps"]);
    assert_exit(&o, 0);
    assert!(text(&o).0.ends_with("Z three\n"), "{}", text(&o).0);
    let o = run(Some(&p), &["logs", "web", "-c", "nope"]);
    assert_exit(&o, 5);
    assert!(
        text(&o).1.contains("the pod's containers: app"),
        "{}",
        text(&o).1
    );
    assert_exit(&run(Some(&p), &["logs", "ghost"]), 5);
    let o = run(Some(&p), &["logs", "web", "--since", "soon"]);
    assert_exit(&o, 2);
    assert!(text(&o).1.contains("--since \"soon\""), "{}", text(&o).1);
    let o = run(Some(&p), &["logs", "web", "--since", "1h"]);
    assert_exit(&o, 0);
    assert_eq!(text(&o).0, "one\ntwo\nthree\n");
    assert_exit(&run(Some(&p), &["get", "/version", "--tail", "3"]), 2);

    // -f: new lines as they come, resumed across drops, ending with the container.
    p.server.set_log_faults(&json!({"drop_every": 2}));
    let mut child = cmd(Some(&p), &["logs", "web", "-f"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    p.server
        .append_logs("cli-ns", "web", "app", &["four", "five", "six"]);
    let mut out = String::new();
    {
        use std::io::BufRead;
        let mut r = std::io::BufReader::new(child.stdout.as_mut().unwrap());
        for _ in 0..6 {
            r.read_line(&mut out).unwrap();
        }
    }
    assert_eq!(out, "one\ntwo\nthree\nfour\nfive\nsix\n");
    p.server
        .set_container_state("cli-ns", "web", "app", "terminated", 0);
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn field_extraction_without_jq() {
    let p = pod();
    let coll = "/api/v1/namespaces/cli-ns/configmaps";
    for (n, v) in [("a", "1"), ("b", "2")] {
        let body = format!(r#"{{"metadata":{{"name":"{n}"}},"data":{{"k":"{v}"}}}}"#);
        assert_exit(
            &run(Some(&p), &["request", "POST", coll, "--data", &body]),
            0,
        );
    }
    let item = format!("{coll}/a");
    let o = run(Some(&p), &["get", &item, "-o", "jsonpath={.data.k}"]);
    assert_exit(&o, 0);
    assert_eq!(text(&o).0, "1");
    let o = run(
        Some(&p),
        &[
            "get",
            coll,
            "-o",
            r#"jsonpath={range .items[*]}{.metadata.name}{"\t"}{.data.k}{"\n"}{end}"#,
        ],
    );
    assert_eq!(text(&o).0, "a\t1\nb\t2\n");
    let o = run(Some(&p), &["get", &item, "--pointer", "/metadata/name"]);
    assert_eq!(text(&o).0, "a\n");
    let o = run(Some(&p), &["get", coll, "-o", "name"]);
    assert_eq!(text(&o).0, "configmap/a\nconfigmap/b\n");
    let o = run(Some(&p), &["get", &item, "--pointer", "/data/missing"]);
    assert_exit(&o, 1);
    assert!(text(&o).1.contains("no value at /data/missing"));
    let o = run(Some(&p), &["get", &item, "-o", "jsonpath={.data[}"]);
    assert_exit(&o, 2);
    assert!(text(&o).1.contains("position"), "{}", text(&o).1);
    let o = run(Some(&p), &["get", &item, "--pointer", "data"]);
    assert_exit(&o, 2);
    assert_exit(&run(Some(&p), &["info", "-o", "name"]), 2);

    // Per event on a watch: the event as printed, {"type":...,"object":...}.
    let mut child = cmd(
        Some(&p),
        &[
            "watch",
            coll,
            "-o",
            "jsonpath={.type} {.object.metadata.name}={.object.data.k}",
        ],
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let mut out = String::new();
    {
        use std::io::BufRead;
        let mut r = std::io::BufReader::new(child.stdout.as_mut().unwrap());
        for _ in 0..2 {
            r.read_line(&mut out).unwrap();
        }
    }
    child.kill().ok();
    child.wait().ok();
    assert_eq!(out, "ADDED a=1\nADDED b=2\n");
}

/// A running `incluster` whose stdout is read line by line in the background.
struct Lines {
    child: std::process::Child,
    rx: std::sync::mpsc::Receiver<String>,
}

impl Lines {
    fn spawn(p: &Pod, args: &[&str]) -> Lines {
        use std::io::BufRead;
        let mut child = cmd(Some(p), args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = std::io::BufReader::new(out);
            loop {
                let mut l = String::new();
                if reader.read_line(&mut l).unwrap_or(0) == 0 || tx.send(l).is_err() {
                    break;
                }
            }
        });
        Lines { child, rx }
    }

    /// The next line (panics after 20 s).
    fn next(&self) -> String {
        self.rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("output did not arrive")
    }
}

impl Drop for Lines {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

#[test]
fn watch_output_options_apply_to_the_event_as_printed() {
    let p = pod();
    let coll = "/api/v1/namespaces/cli-ns/configmaps";
    create(&p, coll, r#"{"metadata":{"name":"ev"}}"#);
    let watchers: Vec<Lines> = [
        &["-o", "jsonpath={.type} {.object.metadata.name}"][..],
        &["--pointer", "/type"],
        &["-o", "name"],
        &["--pointer", "/object/metadata/labels/app"],
    ]
    .iter()
    .map(|extra| Lines::spawn(&p, &[&["watch", coll][..], extra].concat()))
    .collect();
    // Each watcher prints the existing object first, so it is running before the delete.
    let first: Vec<String> = watchers[..3].iter().map(Lines::next).collect();
    assert_eq!(first, ["ADDED ev\n", "ADDED\n", "ADDED configmap/ev\n"]);
    let labelled = r#"{"metadata":{"name":"lab","labels":{"app":"web"}}}"#;
    create(&p, coll, labelled);
    assert_exit(
        &run(Some(&p), &["request", "DELETE", &format!("{coll}/ev")]),
        0,
    );
    let then: Vec<String> = watchers[..3].iter().map(Lines::next).collect();
    assert_eq!(then, ["ADDED lab\n", "ADDED\n", "ADDED configmap/lab\n"]);
    let then: Vec<String> = watchers[..3].iter().map(Lines::next).collect();
    assert_eq!(
        then,
        ["DELETED ev\n", "DELETED\n", "DELETED configmap/ev\n"]
    );
    // An event without a value at --pointer is skipped: only the labelled object prints.
    assert_eq!(watchers[3].next(), "web\n");
}

#[test]
fn name_output_of_answers_that_are_not_objects() {
    let p = pod();
    let coll = "/api/v1/namespaces/cli-ns/configmaps";
    create(&p, coll, r#"{"metadata":{"name":"gone"}}"#);
    // The Status a DELETE answers with names the deleted object, as the server does.
    let o = run(
        Some(&p),
        &["request", "DELETE", &format!("{coll}/gone"), "-o", "name"],
    );
    assert_exit(&o, 0);
    assert_eq!(text(&o).0, "configmaps/gone\n");
    // Nothing to name: a clear error, not "status/" or "/".
    let o = run(Some(&p), &["get", "/version", "-o", "name"]);
    assert_exit(&o, 2);
    let (out, err) = text(&o);
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("-o name: the answer is not a Kubernetes object")
            && err.contains("-o jsonpath=TEMPLATE or --pointer"),
        "{err}"
    );
    let o = run(Some(&p), &["get", "/_test/status/200", "-o", "name"]);
    assert_exit(&o, 2);
    assert!(
        text(&o).1.contains("a Status that names no object"),
        "{}",
        text(&o).1
    );
    // A pod's DELETE answers with the pod itself.
    p.server.create_pod("cli-ns", "web", &["app"]);
    let o = run(
        Some(&p),
        &["get", "/api/v1/namespaces/cli-ns/pods/web", "-o", "name"],
    );
    assert_exit(&o, 0);
    assert_eq!(text(&o).0, "pod/web\n");
}

#[test]
fn patch_verb_merge_by_default_and_the_other_types() {
    let p = pod();
    let coll = "/api/v1/namespaces/cli-ns/configmaps";
    let item = format!("{coll}/pt");
    create(&p, coll, r#"{"metadata":{"name":"pt"},"data":{"a":"1"}}"#);
    p.server.clear_requests();
    // A merge patch by default, printed through -o like any answer.
    let o = run(
        Some(&p),
        &[
            "patch",
            &item,
            "--data",
            r#"{"data":{"b":"2"}}"#,
            "-o",
            "jsonpath={.data}",
        ],
    );
    assert_exit(&o, 0);
    assert_eq!(text(&o).0, r#"{"a":"1","b":"2"}"#);
    // A JSON patch from a file, a strategic merge patch from stdin.
    let ops = p.dir.join("ops.json");
    std::fs::write(&ops, r#"[{"op":"remove","path":"/data/a"}]"#).unwrap();
    let at = format!("@{}", ops.display());
    let o = run(Some(&p), &["patch", &item, "--type", "json", "--data", &at]);
    assert_exit(&o, 0);
    let mut child = cmd(
        Some(&p),
        &["patch", &item, "--type", "strategic", "--data", "-"],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"data":{"c":"3"}}"#)
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_exit(&o, 0);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["data"], json!({"b": "2", "c": "3"}));
    // Server-side apply with a field manager and force.
    let o = run(
        Some(&p),
        &[
            "patch",
            &item,
            "--type",
            "apply",
            "--field-manager",
            "ci",
            "--force",
            "--data",
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"pt"},"data":{"d":"4"}}"#,
            "--pointer",
            "/metadata/managedFields/0/manager",
        ],
    );
    assert_exit(&o, 0);
    assert_eq!(text(&o).0, "ci\n");
    let sent: Vec<(String, String)> = p
        .server
        .requests()
        .iter()
        .map(|r| {
            (
                format!(
                    "{} {}",
                    r["method"].as_str().unwrap(),
                    r["path"].as_str().unwrap()
                ),
                r["content_type"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        sent,
        [
            (
                format!("PATCH {item}"),
                "application/merge-patch+json".to_owned()
            ),
            (
                format!("PATCH {item}"),
                "application/json-patch+json".to_owned()
            ),
            (
                format!("PATCH {item}"),
                "application/strategic-merge-patch+json".to_owned()
            ),
            (
                format!("PATCH {item}?fieldManager=ci&force=true"),
                "application/apply-patch+yaml".to_owned()
            ),
        ]
    );
    // Bad input, refused before anything is sent.
    p.server.clear_requests();
    for (args, says) in [
        (&["patch", &item][..], "patch needs --data"),
        (
            &["patch", &item, "--type", "yaml", "--data", "{}"],
            "\"yaml\"",
        ),
        (
            &["patch", &item, "--data", "{}", "--content-type", "a/b"],
            "--type merge|json",
        ),
        (
            &["request", "GET", &item, "--force"],
            "does not take --type, --field-manager or --force",
        ),
        (&["patch"], "usage: incluster patch PATH"),
        // The core decides which options go with which type, for every front.
        (
            &["patch", &item, "--type", "merge", "--force", "--data", "{}"],
            "force is only valid for an apply patch, not for a merge patch",
        ),
    ] {
        let o = run(Some(&p), args);
        assert_exit(&o, 2);
        assert!(text(&o).1.contains(says), "{args:?}: {}", text(&o).1);
    }
    assert!(p.server.requests().is_empty());
    // A field manager goes with every patch type, not only apply.
    let o = run(
        Some(&p),
        &[
            "patch",
            &item,
            "--field-manager",
            "m",
            "--data",
            r#"{"data":{"e":"5"}}"#,
        ],
    );
    assert_exit(&o, 0);
    let last = p.server.requests().pop().unwrap();
    assert_eq!(
        (last["path"].as_str(), last["content_type"].as_str()),
        (
            Some(format!("{item}?fieldManager=m").as_str()),
            Some("application/merge-patch+json")
        ),
        "{last}"
    );
}

#[test]
fn a_patch_through_request_without_a_content_type_gets_a_hint() {
    let p = pod();
    let coll = "/api/v1/namespaces/cli-ns/configmaps";
    create(&p, coll, r#"{"metadata":{"name":"h"}}"#);
    let item = format!("{coll}/h");
    let o = run(
        Some(&p),
        &["request", "PATCH", &item, "--data", r#"{"data":{}}"#],
    );
    assert_exit(&o, 5);
    let err = text(&o).1;
    assert!(err.contains("415 (UnsupportedMediaType)"), "{err}");
    assert!(
        err.contains("hint:")
            && err.contains("incluster patch PATH")
            && err.contains("--content-type"),
        "{err}"
    );
    // With a content type given, the 415 is the server's word alone.
    let o = run(
        Some(&p),
        &[
            "request",
            "PATCH",
            &item,
            "--data",
            "{}",
            "--content-type",
            "text/plain",
        ],
    );
    assert_exit(&o, 5);
    assert!(!text(&o).1.contains("hint:"), "{}", text(&o).1);
}

#[test]
fn info_and_whoami_take_output_options() {
    let p = pod();
    let o = run(Some(&p), &["info", "--pointer", "/namespace"]);
    assert_exit(&o, 0);
    assert_eq!(text(&o).0, "cli-ns\n");
    let o = run(
        Some(&p),
        &["whoami", "-o", "jsonpath={.username} {.source}"],
    );
    assert_exit(&o, 0);
    assert_eq!(
        text(&o).0,
        "system:serviceaccount:test:tester SelfSubjectReview"
    );
    let o = run(Some(&p), &["info", "--pointer", "/nope"]);
    assert_exit(&o, 1);
    let o = run(Some(&p), &["whoami", "-o", "name"]);
    assert_exit(&o, 2);
    assert!(
        text(&o).1.contains("whoami does not take -o name"),
        "{}",
        text(&o).1
    );
}

#[test]
fn jsonpath_mistakes_show_the_right_form() {
    let p = pod();
    // A space instead of '=': the template became an argument of its own.
    let o = run(Some(&p), &["get", "/version", "-o", "jsonpath", "{.major}"]);
    assert_exit(&o, 2);
    assert!(
        text(&o).1.contains("-o jsonpath='{.major}'"),
        "{}",
        text(&o).1
    );
    let o = run(Some(&p), &["get", "/version", "-o", "jsonpath"]);
    assert_exit(&o, 2);
    assert!(
        text(&o).1.contains("-o jsonpath='{.metadata.name}'"),
        "{}",
        text(&o).1
    );
    // A union names the expression and spells out what to write instead.
    let o = run(
        Some(&p),
        &["get", "/version", "-o", "jsonpath={.major,.minor}"],
    );
    assert_exit(&o, 2);
    assert!(
        text(&o)
            .1
            .contains("unions (',') are not supported in {.major,.minor}; write one expression per member instead: {.major} {.minor}"),
        "{}",
        text(&o).1
    );
    let o = run(
        Some(&p),
        &["get", "/version", "-o", "jsonpath={.major} {.minor}"],
    );
    assert_exit(&o, 0);
    assert_eq!(text(&o).0, "1 37");
}

/// Wait up to `limit` for a child to exit.
fn exits_within(child: &mut std::process::Child, limit: std::time::Duration) -> Option<i32> {
    let end = std::time::Instant::now() + limit;
    while std::time::Instant::now() < end {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s.code().unwrap_or(-1));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().ok();
    child.wait().ok();
    None
}

#[test]
fn an_idle_stream_ends_when_the_reader_of_stdout_goes_away() {
    use std::io::BufRead;
    let p = pod();
    p.server.create_pod("cli-ns", "quiet", &["app"]);
    p.server
        .append_logs("cli-ns", "quiet", "app", &["only line"]);
    let coll = "/api/v1/namespaces/cli-ns/configmaps";
    create(&p, coll, r#"{"metadata":{"name":"one"}}"#);
    for args in [&["watch", coll][..], &["logs", "quiet", "-f"]] {
        // `incluster ... | head -1`: a real pipe whose reader exits after one line, while the
        // stream has nothing more to send.
        let mut child = cmd(Some(&p), args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut r = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        r.read_line(&mut first).unwrap();
        assert!(!first.is_empty(), "{args:?}");
        drop(r);
        let code = exits_within(&mut child, std::time::Duration::from_secs(10));
        assert_eq!(code, Some(0), "{args:?} kept running after its reader left");
        let mut err = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
        assert!(err.is_empty(), "{args:?}: {err}");
    }
}

#[test]
fn help_tells_where_output_options_apply() {
    for verb in ["get", "request", "patch", "info", "whoami"] {
        let o = run(None, &[verb, "--help"]);
        assert_exit(&o, 0);
        let (out, _) = text(&o);
        assert!(
            out.contains("-o jsonpath=") && out.contains("--pointer"),
            "{verb}: {out}"
        );
    }
    let (out, _) = text(&run(None, &["watch", "--help"]));
    assert!(out.contains("apply to each event as printed"), "{out}");
    assert!(out.contains("ADDED configmap/x"), "{out}");
    let (out, _) = text(&run(None, &["--help"]));
    assert!(out.contains("incluster patch PATH"), "{out}");
}

#[test]
fn help_into_a_closed_pipe_is_not_a_crash() {
    let mut child = cmd(None, &["--help"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end before the help is written: `incluster --help | true`.
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn timeout_bounds_are_the_cores() {
    let p = pod();
    for bad in ["0", "-1", "1e300", "nan"] {
        let o = run(Some(&p), &["--timeout", bad, "get", "/version"]);
        assert_exit(&o, 2);
        assert!(
            text(&o)
                .1
                .contains("--timeout must be a number of seconds > 0"),
            "{bad}: {}",
            text(&o).1
        );
    }
}

/// A kubeconfig for `server` in `dir` (the CA by a path relative to the file), with one
/// context `ctx` for the user whose YAML body is `user`.
fn kubeconfig(
    dir: &std::path::Path,
    name: &str,
    server: &TestServer,
    ctx: &str,
    user: &str,
) -> std::path::PathBuf {
    std::fs::create_dir_all(dir.join("pki")).unwrap();
    std::fs::copy(&server.ca, dir.join("pki/ca.crt")).unwrap();
    let text = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: {ctx}\nclusters:\n- name: test\n  cluster:\n    \
         server: {}\n    certificate-authority: pki/ca.crt\ncontexts:\n- name: {ctx}\n  context:\n    \
         cluster: test\n    user: {ctx}-user\n    namespace: {ctx}-ns\nusers:\n- name: {ctx}-user\n  user:\n{user}\n",
        server.url
    );
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn script(dir: &std::path::Path, name: &str, body: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

#[test]
fn off_cluster_the_kubeconfig_is_found_and_info_names_it() {
    let server = TestServer::start(&["--token", TOKEN]);
    let home = unique_dir("cli-kc-home");
    let cfg = kubeconfig(
        &home.join(".kube"),
        "config",
        &server,
        "dev",
        &format!("    token: {TOKEN}"),
    );
    // No pod environment, HOME with ~/.kube/config: the same command works unchanged.
    let o = cmd(None, &["get", "/version"])
        .env("HOME", &home)
        .output()
        .unwrap();
    assert_exit(&o, 0);
    assert!(text(&o).0.contains("gitVersion"));
    let o = cmd(None, &["info"]).env("HOME", &home).output().unwrap();
    assert_exit(&o, 0);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["source"]["type"], "kubeconfig");
    assert_eq!(v["source"]["context"], "dev");
    assert_eq!(v["source"]["files"][0], cfg.display().to_string());
    assert_eq!(v["namespace"], "dev-ns");
    assert!(!text(&o).0.contains(TOKEN) && !text(&o).1.contains(TOKEN));
    // In a pod, the pod wins, and says so.
    let p = pod();
    let o = cmd(Some(&p), &["info"])
        .env("HOME", &home)
        .output()
        .unwrap();
    assert_exit(&o, 0);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["source"]["type"], "in-cluster");
    // --kubeconfig and --context, explicitly, even in a pod.
    let other = kubeconfig(
        &home,
        "other",
        &server,
        "prod",
        &format!("    token: {TOKEN}"),
    );
    let o = cmd(
        Some(&p),
        &[
            "--kubeconfig",
            other.to_str().unwrap(),
            "--context",
            "prod",
            "info",
        ],
    )
    .output()
    .unwrap();
    assert_exit(&o, 0);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["source"]["context"], "prod");
    assert_eq!(v["namespace"], "prod-ns");
    let o = run(
        None,
        &["--server", &server.url, "--kubeconfig", "x", "info"],
    );
    assert_exit(&o, 2);
    std::fs::remove_dir_all(&home).ok();
}

#[test]
fn kubeconfig_list_first_file_wins() {
    let server = TestServer::start(&["--token", TOKEN]);
    let d = unique_dir("cli-kc-list");
    let good = kubeconfig(&d, "good", &server, "dev", &format!("    token: {TOKEN}"));
    let bad = kubeconfig(&d, "bad", &server, "dev", "    token: wrong-token");
    let list =
        |a: &std::path::Path, b: &std::path::Path| format!("{}:{}", a.display(), b.display());
    let o = cmd(None, &["get", "/version"])
        .env("KUBECONFIG", list(&good, &bad))
        .output()
        .unwrap();
    assert_exit(&o, 0);
    let o = cmd(None, &["get", "/version"])
        .env("KUBECONFIG", list(&bad, &good))
        .output()
        .unwrap();
    assert_exit(&o, 5);
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn kubeconfig_token_file_and_exec_plugin() {
    let server = TestServer::start(&["--token", TOKEN]);
    let d = unique_dir("cli-kc-exec");
    std::fs::write(d.join("token"), TOKEN).unwrap();
    let tf = kubeconfig(&d, "tf", &server, "dev", "    tokenFile: token");
    let o = run(
        None,
        &["--kubeconfig", tf.to_str().unwrap(), "get", "/version"],
    );
    assert_exit(&o, 0);
    script(
        &d,
        "plugin.sh",
        &format!(
            "echo '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{TOKEN}\"}}}}'"
        ),
    );
    let exec = "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ./plugin.sh\n      interactiveMode: Never";
    let ex = kubeconfig(&d, "exec", &server, "dev", exec);
    let o = run(
        None,
        &["--kubeconfig", ex.to_str().unwrap(), "get", "/version"],
    );
    assert_exit(&o, 0);
    let (out, err) = text(&o);
    assert!(!out.contains(TOKEN) && !err.contains(TOKEN));
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn every_bad_kubeconfig_is_a_config_error_naming_it() {
    let server = TestServer::start(&["--token", TOKEN]);
    let d = unique_dir("cli-kc-bad");
    let exec_user = |cmd: &str| {
        format!(
            "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {cmd}\n      interactiveMode: Never"
        )
    };
    script(
        &d,
        "fails.sh",
        &format!("echo {TOKEN}; echo 'token expired: log in again' >&2; exit 1"),
    );
    script(&d, "hangs.sh", "exec sleep 30");
    script(&d, "garbage.sh", &format!("echo 'not json {TOKEN}'"));
    let cases: Vec<(Vec<String>, Vec<String>)> = vec![
        (
            vec![
                "--kubeconfig".into(),
                d.join("absent").display().to_string(),
            ],
            vec![format!(
                "kubeconfig {} does not exist",
                d.join("absent").display()
            )],
        ),
        (
            vec![
                "--kubeconfig".into(),
                kubeconfig(&d, "c1", &server, "dev", "    token: x")
                    .display()
                    .to_string(),
                "--context".into(),
                "nope".into(),
            ],
            vec![
                "context \"nope\" is not in kubeconfig".into(),
                "its contexts: dev".into(),
            ],
        ),
        (
            vec!["--kubeconfig".into(), {
                let p = d.join("malformed");
                std::fs::write(
                    &p,
                    format!("users:\n- name: u\n  user:\n    token: {TOKEN}\n  - [\n"),
                )
                .unwrap();
                p.display().to_string()
            }],
            vec!["malformed".into(), "at line".into()],
        ),
        (
            vec!["--kubeconfig".into(), {
                let p = kubeconfig(&d, "ghost", &server, "dev", "    token: x");
                let t = std::fs::read_to_string(&p)
                    .unwrap()
                    .replace("user: dev-user", "user: ghost");
                std::fs::write(&p, t).unwrap();
                p.display().to_string()
            }],
            vec!["user \"ghost\" (of context \"dev\"".into()],
        ),
        (
            vec![
                "--kubeconfig".into(),
                kubeconfig(
                    &d,
                    "missing",
                    &server,
                    "dev",
                    &exec_user("no-such-plugin-xyz"),
                )
                .display()
                .to_string(),
            ],
            vec![
                "exec plugin no-such-plugin-xyz".into(),
                "was not found".into(),
                "user \"dev-user\"".into(),
            ],
        ),
        (
            vec![
                "--kubeconfig".into(),
                kubeconfig(&d, "fails", &server, "dev", &exec_user("./fails.sh"))
                    .display()
                    .to_string(),
            ],
            vec!["fails.sh".into(), "token expired: log in again".into()],
        ),
        (
            vec![
                "--timeout".into(),
                "1".into(),
                "--kubeconfig".into(),
                kubeconfig(&d, "hangs", &server, "dev", &exec_user("./hangs.sh"))
                    .display()
                    .to_string(),
            ],
            vec!["hangs.sh".into(), "did not answer within 1s".into()],
        ),
        (
            vec![
                "--kubeconfig".into(),
                kubeconfig(&d, "garbage", &server, "dev", &exec_user("./garbage.sh"))
                    .display()
                    .to_string(),
            ],
            vec!["garbage.sh".into(), "not an ExecCredential".into()],
        ),
        (
            vec![
                "--kubeconfig".into(),
                kubeconfig(&d, "ap", &server, "dev", "    auth-provider: {name: gcp}")
                    .display()
                    .to_string(),
            ],
            vec!["auth-provider \"gcp\"".into(), "does not support".into()],
        ),
        (
            vec![
                "--kubeconfig".into(),
                kubeconfig(
                    &d,
                    "basic",
                    &server,
                    "dev",
                    "    username: a\n    password: b",
                )
                .display()
                .to_string(),
            ],
            vec!["basic authentication".into()],
        ),
    ];
    for (args, wanted) in cases {
        let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
        all.extend(["get", "/version"]);
        let o = run(None, &all);
        let (out, err) = text(&o);
        assert_exit(&o, 3);
        for w in &wanted {
            assert!(err.contains(w.as_str()), "{all:?}: {w:?} not in {err}");
        }
        assert!(!err.contains(TOKEN) && !out.contains(TOKEN), "{err}");
    }
    // `info` reads local things only, and shows a failing plugin's error where the token's
    // identity would be.
    let fails = d.join("fails").display().to_string();
    let o = run(None, &["--kubeconfig", &fails, "info"]);
    assert_exit(&o, 0);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let e = v["token"]["error"].as_str().unwrap_or_default();
    assert!(e.contains("token expired: log in again"), "{v}");
    assert!(!text(&o).0.contains(TOKEN));
    // Not in a pod and no kubeconfig at all: the pod's error, which now names the kubeconfig.
    let o = run(None, &["get", "/version"]);
    assert_exit(&o, 3);
    assert!(text(&o).1.contains("no kubeconfig"), "{}", text(&o).1);
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn kubeconfig_insecure_skip_tls_verify_is_loud() {
    let server = TestServer::start(&["--token", TOKEN]);
    let d = unique_dir("cli-kc-insecure");
    let p = kubeconfig(&d, "config", &server, "dev", &format!("    token: {TOKEN}"));
    let t = std::fs::read_to_string(&p).unwrap().replace(
        "certificate-authority: pki/ca.crt",
        "insecure-skip-tls-verify: true",
    );
    std::fs::write(&p, t).unwrap();
    let o = run(
        None,
        &["--kubeconfig", p.to_str().unwrap(), "get", "/version"],
    );
    assert_exit(&o, 0);
    assert!(
        text(&o).1.contains("WARNING: insecure-skip-tls-verify"),
        "{}",
        text(&o).1
    );
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn kubeconfig_proxy_url_is_used_for_every_request() {
    let server = TestServer::start(&["--token", TOKEN]);
    let d = unique_dir("cli-kc-proxy");
    let p = kubeconfig(&d, "config", &server, "dev", &format!("    token: {TOKEN}"));
    assert_exit(
        &run(
            None,
            &["--kubeconfig", p.to_str().unwrap(), "get", "/version"],
        ),
        0,
    );
    // Through a proxy that is not there: the request fails at the proxy, not at the server.
    let t = std::fs::read_to_string(&p).unwrap().replace(
        "certificate-authority: pki/ca.crt",
        "certificate-authority: pki/ca.crt\n    proxy-url: http://user:pw-SECRET@127.0.0.1:1",
    );
    std::fs::write(&p, t).unwrap();
    let o = run(
        None,
        &["--kubeconfig", p.to_str().unwrap(), "get", "/version"],
    );
    assert_exit(&o, 4);
    let err = text(&o).1;
    assert!(err.contains("through the proxy 127.0.0.1:1"), "{err}");
    assert!(!err.contains("pw-SECRET"), "{err}");
    std::fs::remove_dir_all(&d).ok();
}

/// `incluster wait PATH ...` in the simulated pod.
fn wait_cli(p: &Pod, args: &[&str]) -> Output {
    let mut all = vec!["wait"];
    all.extend_from_slice(args);
    run(Some(p), &all)
}

#[test]
fn wait_met_prints_what_met_it_and_exits_0() {
    let p = pod();
    let coll = "/api/v1/namespaces/w/configmaps";
    create(
        &p,
        coll,
        r#"{"metadata":{"name":"job","labels":{"app":"web"}},
            "status":{"conditions":[{"type":"Failed","status":"True"}]}}"#,
    );
    create(
        &p,
        coll,
        r#"{"metadata":{"name":"job2","labels":{"app":"web"}},
            "status":{"conditions":[{"type":"Complete","status":"True"}]}}"#,
    );
    let obj = format!("{coll}/job");
    let o = wait_cli(&p, &[&obj, "--for", "condition=failed"]);
    assert_exit(&o, 0);
    assert_eq!(text(&o).0, "configmap/job condition=failed=True met\n");
    // --for-any says which one held.
    let o = wait_cli(
        &p,
        &[
            &obj,
            "--for-any",
            "condition=Complete",
            "--for-any",
            "condition=Failed",
        ],
    );
    assert_exit(&o, 0);
    assert_eq!(text(&o).0, "configmap/job condition=Failed=True met\n");
    let o = wait_cli(&p, &[&obj, "--for", "create", "-o", "name"]);
    assert_exit(&o, 0);
    assert_eq!(text(&o).0, "configmap/job\n");
    let o = wait_cli(
        &p,
        &[
            &obj,
            "--for",
            "jsonpath={.metadata.name}=job",
            "-o",
            "jsonpath={.metadata.name}",
        ],
    );
    assert_exit(&o, 0);
    assert_eq!(text(&o).0, "job");
    // A selection: every object, as a List with -o json.
    let o = wait_cli(
        &p,
        &[coll, "-l", "app=web", "--for", "create", "-o", "json"],
    );
    assert_exit(&o, 0);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["kind"], "List");
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
    // An object that does not exist is deleted already.
    let o = wait_cli(&p, &[&format!("{coll}/none"), "--for", "delete"]);
    assert_exit(&o, 0);
    assert_eq!(text(&o).0, "configmap/none delete met\n");
}

#[test]
fn wait_exit_codes_timeout_7_unmeetable_8_usage_2() {
    let p = pod();
    let coll = "/api/v1/namespaces/w2/configmaps";
    create(
        &p,
        coll,
        r#"{"metadata":{"name":"job"},"status":{"conditions":[{"type":"Failed","status":"True"}]}}"#,
    );
    let obj = format!("{coll}/job");
    let o = wait_cli(
        &p,
        &[&obj, "--for", "condition=Complete", "--timeout", "300ms"],
    );
    assert_exit(&o, 7);
    assert!(
        text(&o)
            .1
            .contains("did not meet condition=Complete=True within 300ms"),
        "{}",
        text(&o).1
    );
    let o = wait_cli(
        &p,
        &[
            &obj,
            "--for-any",
            "condition=Complete",
            "--fail-on",
            "condition=Failed",
        ],
    );
    assert_exit(&o, 8);
    assert!(
        text(&o)
            .1
            .contains("the failure condition condition=Failed=True is met"),
        "{}",
        text(&o).1
    );
    // The empty selection: not met (checked once here), unless allowed.
    let o = wait_cli(
        &p,
        &[coll, "-l", "app=none", "--for", "create", "--timeout", "0"],
    );
    assert_exit(&o, 7);
    let o = wait_cli(
        &p,
        &[
            coll,
            "-l",
            "app=none",
            "--for",
            "create",
            "--allow-empty",
            "--timeout",
            "0",
        ],
    );
    assert_exit(&o, 0);
    for (args, says) in [
        (vec![obj.as_str()], "needs --for"),
        (
            vec![obj.as_str(), "--for", "ready"],
            "wait condition \"ready\"",
        ),
        // Names are resolved (resources by name); an unknown one is a usage error.
        (
            vec!["deploymnet/web", "--for", "create"],
            "did you mean deployments.apps?",
        ),
        (
            vec![obj.as_str(), "--for", "create", "--timeout", "soon"],
            "--timeout \"soon\"",
        ),
        (
            vec![obj.as_str(), "-l", "a=b", "--for", "create"],
            "applies to a collection",
        ),
        (
            vec![obj.as_str(), "--for", "jsonpath={.metadata.*}=x"],
            "values in w2/job, not one",
        ),
    ] {
        let o = wait_cli(&p, &args);
        assert_exit(&o, 2);
        assert!(text(&o).1.contains(says), "{args:?}: {}", text(&o).1);
    }
    let o = run(Some(&p), &["get", "/version", "--for", "create"]);
    assert_exit(&o, 2);
    let o = run(None, &["wait", "--help"]);
    assert_exit(&o, 0);
    let help = text(&o).0;
    assert!(
        help.contains("7 timed out") && help.contains("8 can no longer be met"),
        "{help}"
    );
}

#[test]
fn wait_for_an_object_created_while_waiting() {
    let p = pod();
    let coll = "/api/v1/namespaces/w3/configmaps";
    let obj = format!("{coll}/later");
    let child = cmd(
        Some(&p),
        &[
            "wait",
            &obj,
            "--for",
            "jsonpath={.data.k}=v",
            "--timeout",
            "60s",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    create(
        &p,
        coll,
        r#"{"metadata":{"name":"later"},"data":{"k":"v"}}"#,
    );
    let o = child.wait_with_output().unwrap();
    assert_exit(&o, 0);
    assert_eq!(text(&o).0, "configmap/later jsonpath={.data.k}=v met\n");
}

// ---- lease run / lease status ----

/// Short election settings for the lease tests (3 s / 2 s / 300 ms).
const LEASE_FAST: [&str; 6] = [
    "--duration",
    "3s",
    "--renew-deadline",
    "2s",
    "--retry-period",
    "300ms",
];

fn lease_args<'a>(name: &'a str, extra: &[&'a str], command: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["lease", "run", name];
    v.extend(LEASE_FAST);
    v.extend(extra);
    v.push("--");
    v.extend(command);
    v
}

fn lease_status(p: &Pod, name: &str) -> Value {
    let o = run(Some(p), &["lease", "status", name]);
    assert_exit(&o, 0);
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Read the child's stderr until a line contains `needle`; every line read so far.
fn stderr_until(
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    needle: &str,
) -> Vec<String> {
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let hit = line.contains(needle);
        seen.push(line);
        if hit {
            return seen;
        }
    }
    panic!("stderr ended without {needle:?}: {seen:#?}");
}

#[test]
fn lease_run_passes_the_exit_code_through_and_releases_the_lease() {
    let p = pod();
    let o = run(
        Some(&p),
        &lease_args("lock", &["--identity", "cli-a"], &["sh", "-c", "exit 7"]),
    );
    assert_exit(&o, 7);
    let (_, err) = text(&o);
    assert!(err.contains("became the leader"), "{err}");
    assert!(err.contains("released the Lease"), "{err}");
    // Timestamps: `incluster: 2026-…Z lease cli-ns/lock: …`.
    assert!(err.lines().all(|l| l.starts_with("incluster: 2")), "{err}");
    let s = lease_status(&p, "lock");
    assert_eq!(s["holderIdentity"], "");
    assert_eq!(s["leaseDurationSeconds"], 1);
    assert_eq!(s["leaseTransitions"], 0);
    assert_eq!(s["namespace"], "cli-ns");
    // -o is honoured.
    let o = run(
        Some(&p),
        &[
            "lease",
            "status",
            "lock",
            "-o",
            "jsonpath={.leaseTransitions}",
        ],
    );
    assert_exit(&o, 0);
    assert_eq!(text(&o).0.trim(), "0");
}

#[test]
fn lease_run_never_runs_the_command_without_leadership() {
    let p = pod();
    let now = humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string();
    let lease = json!({"metadata": {"name": "held"},
        "spec": {"holderIdentity": "other", "leaseDurationSeconds": 60,
                 "renewTime": now, "acquireTime": now, "leaseTransitions": 0}});
    create(
        &p,
        "/apis/coordination.k8s.io/v1/namespaces/cli-ns/leases",
        &lease.to_string(),
    );
    let marker = p.dir.join("ran");
    let touch = format!("touch {}", marker.display());
    let o = run(
        Some(&p),
        &lease_args("held", &["--wait-timeout", "1s"], &["sh", "-c", &touch]),
    );
    assert_exit(&o, 11);
    assert!(!marker.exists());
    assert!(text(&o).1.contains("the leader is other"), "{}", text(&o).1);
    assert_eq!(lease_status(&p, "held")["holderIdentity"], "other");
}

#[test]
fn lease_run_stops_the_command_when_leadership_is_lost() {
    use std::io::BufRead;
    let p = pod();
    let mut child = cmd(Some(&p), &lease_args("lost", &[], &["sleep", "60"]))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    stderr_until(&mut lines, "started the command");
    p.server.set_lease_faults(&json!({"unavailable": true}));
    let seen = stderr_until(&mut lines, "leadership lost");
    let status = child.wait().unwrap();
    p.server.set_lease_faults(&json!({"unavailable": false}));
    assert_eq!(status.code(), Some(10), "{seen:#?}");
    assert!(
        seen.iter().any(|l| l.contains("renew deadline")),
        "{seen:#?}"
    );
}

#[test]
fn lease_run_forwards_sigterm_to_the_command_and_releases() {
    use std::io::BufRead;
    let p = pod();
    // The script says when its trap is set, so the signal cannot come before it.
    let ready = p.dir.join("trap-set");
    let script = format!(
        "trap 'exit 42' TERM; touch {}; sleep 60 & wait",
        ready.display()
    );
    let mut child = cmd(Some(&p), &lease_args("term", &[], &["sh", "-c", &script]))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    stderr_until(&mut lines, "started the command");
    while !ready.exists() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: kill(2) on the child we spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(42));
    assert_eq!(lease_status(&p, "term")["holderIdentity"], "");
}

#[test]
fn lease_errors_name_what_is_wrong() {
    let p = pod();
    let o = run(
        Some(&p),
        &[
            "lease",
            "run",
            "x",
            "--duration",
            "2s",
            "--renew-deadline",
            "3s",
            "--",
            "true",
        ],
    );
    assert_exit(&o, 2);
    assert!(text(&o).1.contains("lease duration (2s)"), "{}", text(&o).1);
    let o = run(Some(&p), &["lease", "run", "x"]);
    assert_exit(&o, 2);
    assert!(text(&o).1.contains("needs a command"), "{}", text(&o).1);
    let o = run(Some(&p), &["get", "/version", "--identity", "x"]);
    assert_exit(&o, 2);
    p.server.set_lease_faults(&json!({"forbidden": true}));
    let o = run(Some(&p), &["lease", "status", "x"]);
    assert_exit(&o, 5);
    let err = text(&o).1;
    assert!(
        err.contains("cannot get leases.coordination.k8s.io in namespace cli-ns"),
        "{err}"
    );
    let o = run(Some(&p), &lease_args("x", &[], &["true"]));
    assert_exit(&o, 5);
    assert!(text(&o).1.contains("cannot get leases"), "{}", text(&o).1);
    assert!(!text(&o).1.contains(TOKEN));
}

#[test]
fn lease_run_kills_a_command_that_ignores_sigterm_after_the_grace_period() {
    use std::io::BufRead;
    let p = pod();
    let ready = p.dir.join("ignoring");
    let script = format!(
        "trap '' TERM; touch {}; while :; do sleep 0.1; done",
        ready.display()
    );
    let mut child = cmd(
        Some(&p),
        &lease_args(
            "stubborn",
            &["--grace-period", "1s"],
            &["sh", "-c", &script],
        ),
    )
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    stderr_until(&mut lines, "started the command");
    while !ready.exists() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    p.server.set_lease_faults(&json!({"unavailable": true}));
    stderr_until(&mut lines, "leadership lost");
    let seen = stderr_until(&mut lines, "SIGKILL");
    let status = child.wait().unwrap();
    p.server.set_lease_faults(&json!({"unavailable": false}));
    assert_eq!(status.code(), Some(10), "{seen:#?}");
}

/// The paths of the requests the server received since the last clear, discovery left out.
fn sent_paths(p: &Pod) -> Vec<String> {
    p.server
        .requests()
        .into_iter()
        .map(|r| {
            format!(
                "{} {}",
                r["method"].as_str().unwrap(),
                r["path"].as_str().unwrap()
            )
        })
        .filter(|r| !r.ends_with(" /api") && !r.ends_with(" /apis"))
        .collect()
}

#[test]
fn get_and_delete_by_name_in_kubectls_forms() {
    let p = pod();
    let coll = "/api/v1/namespaces/cli-ns/configmaps";
    create(
        &p,
        coll,
        r#"{"metadata":{"name":"one","labels":{"app":"web"}},"data":{"a":"1"}}"#,
    );
    create(&p, coll, r#"{"metadata":{"name":"two"}}"#);
    create(
        &p,
        "/api/v1/namespaces/elsewhere/configmaps",
        r#"{"metadata":{"name":"three","labels":{"app":"web"}}}"#,
    );
    let out = |args: &[&str]| {
        let o = run(Some(&p), args);
        assert_exit(&o, 0);
        text(&o).0
    };
    assert_eq!(out(&["get", "cm/one", "-o", "name"]), "configmap/one\n");
    assert_eq!(
        out(&["get", "configmap", "one", "--pointer", "/data/a"]),
        "1\n"
    );
    assert_eq!(
        out(&["get", "ConfigMaps/one", "-o", "jsonpath={.data.a}"]),
        "1"
    );
    assert_eq!(
        out(&["get", "configmaps", "-l", "app=web", "-o", "name"]),
        "configmap/one\n"
    );
    assert_eq!(
        out(&["get", "cm", "-o", "name"]),
        "configmap/one\nconfigmap/two\n"
    );
    assert_eq!(
        out(&["get", "cm", "-n", "elsewhere", "-o", "name"]),
        "configmap/three\n"
    );
    let mut all = out(&["get", "cm", "-A", "-l", "app=web", "-o", "name"]);
    all = all.lines().collect::<Vec<_>>().join(",");
    assert_eq!(all, "configmap/one,configmap/three");
    // A path still works, and -n does not touch it.
    assert_eq!(
        out(&["get", &format!("{coll}/two"), "-n", "x", "-o", "name"]),
        "configmap/two\n"
    );

    // Names of other groups resolve to their paths (this server holds no Deployments: the
    // 404 is the object's, exit 5, and names the path).
    p.server.clear_requests();
    let o = run(Some(&p), &["get", "deploy", "web"]);
    assert_exit(&o, 5);
    assert!(text(&o).1.contains("404"), "{}", text(&o).1);
    run(Some(&p), &["get", "jobs.batch", "-A"]);
    run(Some(&p), &["watch", "po/web-0", "--no-resume", "-n", "w"]);
    let sent = sent_paths(&p);
    assert_eq!(
        sent[..2],
        [
            "GET /apis/apps/v1/namespaces/cli-ns/deployments/web",
            "GET /apis/batch/v1/jobs",
        ]
    );
    // The watch of one pod is one of its collection narrowed to the name.
    assert!(
        sent[2].starts_with("GET /api/v1/namespaces/w/pods?")
            && sent[2].contains("fieldSelector=metadata.name%3Dweb-0"),
        "{sent:?}"
    );

    // delete: one object by name; a collection only with -l.
    assert_exit(&run(Some(&p), &["delete", "cm", "two"]), 0);
    assert_exit(&run(Some(&p), &["get", "cm/two"]), 5);
    let o = run(Some(&p), &["delete", "cm"]);
    assert_exit(&o, 2);
    assert!(
        text(&o).1.contains("select with -l SELECTOR"),
        "{}",
        text(&o).1
    );
    p.server.clear_requests();
    run(Some(&p), &["delete", "cm", "-l", "app=web"]);
    assert_eq!(
        sent_paths(&p),
        ["DELETE /api/v1/namespaces/cli-ns/configmaps?labelSelector=app%3Dweb"]
    );
}

#[test]
fn unknown_resource_names_are_usage_errors_with_close_matches() {
    let p = pod();
    let o = run(Some(&p), &["get", "deploymnet/web"]);
    assert_exit(&o, 2);
    assert_eq!(
        text(&o).1,
        "incluster: error: invalid argument: no resource \"deploymnet\"; did you mean \
         deployments.apps?\n"
    );
    for (args, says) in [
        (&["delete", "cnofigmaps/x"][..], "did you mean configmaps?"),
        (&["get", "pod/web-0", "-A"], "across all namespaces"),
        (&["get", "/api/v1/pods", "-A"], "names its namespace itself"),
        (&["get", "cm/x", "y"], "not both"),
        (&["get", "cm/x", "-l", "a=b"], "names one object"),
        (&["info", "-A"], "does not take -A"),
        (&["logs", "x", "-l", "a=b"], "does not take -l"),
    ] {
        let o = run(Some(&p), args);
        assert_exit(&o, 2);
        assert!(text(&o).1.contains(says), "{args:?}: {}", text(&o).1);
    }
}

#[test]
fn apply_a_multi_document_manifest_server_side() {
    let p = pod();
    let file = p.dir.join("m.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: \"1\"\n---\n\
         apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: other}\ndata: {k: \"2\"}\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    p.server.clear_requests();
    let o = run(Some(&p), &["apply", "-f", f, "--field-manager", "ci"]);
    assert_exit(&o, 0);
    assert_eq!(
        text(&o).0,
        "configmap/a serverside-applied\nconfigmap/b serverside-applied\n"
    );
    let sent: Vec<Value> = p
        .server
        .requests()
        .into_iter()
        .filter(|r| r["method"] == "PATCH")
        .collect();
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[0]["path"],
        "/api/v1/namespaces/cli-ns/configmaps/a?fieldManager=ci"
    );
    assert_eq!(
        sent[1]["path"],
        "/api/v1/namespaces/other/configmaps/b?fieldManager=ci"
    );
    assert_eq!(sent[0]["content_type"], "application/apply-patch+yaml");
    let o = run(
        Some(&p),
        &["get", "cm/b", "-n", "other", "--pointer", "/data/k"],
    );
    assert_eq!(text(&o).0, "2\n");

    // JSON from stdin, -n for objects naming no namespace, and the default field manager.
    p.server.clear_requests();
    let mut child = cmd(
        Some(&p),
        &["apply", "-f", "-", "-n", "third", "--force-conflicts"],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}"#)
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_exit(&o, 0);
    assert_eq!(text(&o).0, "configmap/c serverside-applied\n");
    let paths: Vec<String> = p
        .server
        .requests()
        .into_iter()
        .filter(|r| r["method"] == "PATCH")
        .map(|r| r["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        paths,
        ["/api/v1/namespaces/third/configmaps/c?fieldManager=incluster&force=true"]
    );

    // Failures name the document; a bad one is found before anything is sent.
    for (manifest, code, says) in [
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\n---\nkind: ConfigMap\n",
            2,
            "document 2: it has no apiVersion",
        ),
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\n---\n\
             apiVersion: apps/v1\nkind: Deploymnet\nmetadata: {name: w}\n",
            2,
            "document 2 (Deploymnet w): no resource of kind \"Deploymnet\" in apiVersion \"apps/v1\"",
        ),
        ("a: [", 2, "not valid YAML or JSON"),
        ("", 2, "no objects in it"),
    ] {
        std::fs::write(&file, manifest).unwrap();
        p.server.clear_requests();
        let o = run(Some(&p), &["apply", "-f", f]);
        assert_exit(&o, code);
        assert!(text(&o).1.contains(says), "{manifest}: {}", text(&o).1);
        let patches = p
            .server
            .requests()
            .into_iter()
            .filter(|r| r["method"] == "PATCH")
            .count();
        let applied_first = says.contains("Deploymnet");
        assert_eq!(patches, usize::from(applied_first), "{manifest}");
    }
    for (args, says) in [
        (&["apply"][..], "apply needs -f FILE"),
        (&["apply", "-f", "/nonexistent/m.yaml"], "cannot read it"),
        (
            &["get", "cm", "--force-conflicts"],
            "does not take -f/--filename",
        ),
        (
            &["apply", "-f", f, "--force"],
            "apply does not take --type or --force",
        ),
    ] {
        let o = run(Some(&p), args);
        assert_exit(&o, 2);
        assert!(text(&o).1.contains(says), "{args:?}: {}", text(&o).1);
    }
}

#[test]
fn wait_by_name() {
    let p = pod();
    create(
        &p,
        "/api/v1/namespaces/cli-ns/configmaps",
        r#"{"metadata":{"name":"w1"}}"#,
    );
    for args in [
        &["wait", "cm/w1", "--for", "create", "--timeout", "10s"][..],
        &[
            "wait",
            "configmap",
            "w1",
            "--for",
            "create",
            "--timeout",
            "10s",
        ],
    ] {
        let o = run(Some(&p), args);
        assert_exit(&o, 0);
        assert!(
            text(&o).0.contains("configmap/w1"),
            "{args:?}: {}",
            text(&o).0
        );
    }
    let o = run(Some(&p), &["wait", "cmm/w1", "--for", "create"]);
    assert_exit(&o, 2);
    assert!(
        text(&o).1.contains("did you mean configmaps?"),
        "{}",
        text(&o).1
    );
}

#[test]
fn exec_passes_streams_apart_and_exits_with_the_command_code() {
    let p = pod();
    let o = run(
        Some(&p),
        &[
            "exec",
            "web",
            "--",
            "sh",
            "-c",
            "echo out; echo err >&2; exit 3",
        ],
    );
    assert_exit(&o, 3);
    assert_eq!(text(&o), ("out\n".into(), "err\n".into()));
    // Options after `--` belong to the command.
    let o = run(Some(&p), &["exec", "web", "--", "echo", "-n", "-c", "x"]);
    assert_exit(&o, 0);
    assert_eq!(text(&o).0, "-c x");
}

#[test]
fn exec_dash_i_pipes_stdin_and_closes_it() {
    let p = pod();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let mut child = cmd(Some(&p), &["exec", "-i", "web", "--", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let d2 = data.clone();
    let feeder = std::thread::spawn(move || stdin.write_all(&d2));
    let o = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert_exit(&o, 0);
    assert!(o.stdout == data, "{} bytes back", o.stdout.len());
}

#[test]
fn exec_goes_through_the_https_proxy_unless_no_proxy_says_otherwise() {
    use common::proxy::{ConnectProxy, ProxyAnswer};
    let p = pod();
    let target = p.server.config().server.replace("https://", "");
    let proxy = ConnectProxy::start(ProxyAnswer::Tunnel);
    let exec = |proxy_url: &str, no_proxy: Option<&str>| {
        let mut c = cmd(Some(&p), &["exec", "web", "--", "echo", "through"]);
        c.env("HTTPS_PROXY", proxy_url);
        if let Some(np) = no_proxy {
            c.env("NO_PROXY", np);
        }
        c.output().unwrap()
    };
    let o = exec(&proxy.url(), None);
    assert_exit(&o, 0);
    assert_eq!(text(&o).0, "through\n");
    assert_eq!(
        proxy.heads(),
        [format!(
            "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n"
        )]
    );
    let up = proxy.upstream_bytes();
    assert!(!up.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()));
    // NO_PROXY covers the server: straight there, the proxy sees nothing more.
    assert_exit(&exec(&proxy.url(), Some("127.0.0.0/8")), 0);
    assert_eq!(proxy.heads().len(), 1);
    // A proxy that refuses: exit 4 (transport), naming the proxy and its answer.
    let refusing = ConnectProxy::start(ProxyAnswer::Refuse(407));
    let o = exec(&refusing.url(), None);
    assert_exit(&o, 4);
    let err = text(&o).1;
    assert!(
        err.contains(&format!(
            "proxy 127.0.0.1:{} refused the tunnel (CONNECT) to {target}: HTTP/1.1 407",
            refusing.port()
        )),
        "{err}"
    );
    assert!(!err.contains(TOKEN), "{err}");
}

#[test]
fn exec_errors_are_usage_or_named_api_errors() {
    let p = pod();
    let o = run(Some(&p), &["exec", "web"]);
    assert_exit(&o, 2);
    assert!(text(&o).1.contains("needs a command"), "{}", text(&o).1);
    let o = run(Some(&p), &["get", "/version", "-i"]);
    assert_exit(&o, 2);
    let o = run(Some(&p), &["exec", "fault-forbidden", "--", "true"]);
    assert_exit(&o, 5);
    assert!(
        text(&o).1.contains("`create` on `pods/exec`"),
        "{}",
        text(&o).1
    );
    let o = run(Some(&p), &["exec", "fault-drop", "--", "echo", "partial"]);
    assert_exit(&o, 4);
    assert!(
        text(&o).1.contains("may still be running"),
        "{}",
        text(&o).1
    );
    assert!(!text(&o).1.contains(TOKEN));
}

#[test]
fn attach_ends_with_the_process() {
    let p = pod();
    let o = run(Some(&p), &["attach", "web"]);
    assert_exit(&o, 0);
}

#[test]
fn port_forward_listens_locally_and_forwards() {
    use std::io::{BufRead, BufReader, Read};
    let p = pod();
    // An echo server standing in for the pod's port.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let remote = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let mut r = s.try_clone().unwrap();
            let mut w = s;
            std::thread::spawn(move || std::io::copy(&mut r, &mut w));
        }
    });
    let mut child = cmd(Some(&p), &["port-forward", "web", &format!(":{remote}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .strip_prefix("Forwarding from ")
        .and_then(|r| r.split(" -> ").next())
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_owned();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    for i in 0..5 {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        let msg = format!("hello {i}");
        s.write_all(msg.as_bytes()).unwrap();
        let mut back = vec![0u8; msg.len()];
        s.read_exact(&mut back).unwrap();
        assert_eq!(back, msg.as_bytes());
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let o = run(Some(&p), &["port-forward", "web", "x:y"]);
    assert_exit(&o, 2);
    assert!(text(&o).1.contains("[LOCAL:]REMOTE"), "{}", text(&o).1);
}

//! Secret hygiene: every front runs with a recognizable token, through successes and every
//! kind of failure, and everything they print or format is scanned: the token (or a long
//! piece of it) never appears. Python has the same scan in tests/python/test_secrets.py; the C
//! programs' output is scanned by tests/c_api.rs and tests/e2e.

use incluster_testserver::harness as common;

use std::process::Command;
use std::time::Duration;

use common::{SaDir, TestServer, unique_dir};
use incluster::core::logs::{LogOptions, LogStream};
use incluster::core::watch::{Watch, WatchOptions};
use incluster::{Client, Config};

/// A token nobody could confuse with anything else.
const TOKEN: &str = "CANARY-7f3a9c1e-SECRET-d4b2e8a06c95-TOKEN";

/// Fails if `text` contains the token or any 12-character piece of it.
fn assert_clean(what: &str, text: &str) {
    let bytes = TOKEN.as_bytes();
    for w in bytes.windows(12) {
        let piece = std::str::from_utf8(w).unwrap();
        assert!(
            !text.contains(piece),
            "{what} contains a piece of the token ({piece:?}):\n{text}"
        );
    }
}

struct Pod {
    server: TestServer,
    sa: SaDir,
    dir: std::path::PathBuf,
}

fn pod() -> Pod {
    let server = TestServer::start(&["--token", TOKEN]);
    let dir = unique_dir("secrets");
    let sa = SaDir::new(&dir, TOKEN, &server.ca, "sec");
    server.create_pod("sec", "p", &["app"]);
    server.append_logs("sec", "p", "app", &["hello"]);
    Pod { server, sa, dir }
}

impl Drop for Pod {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

#[test]
fn the_core_never_formats_the_token() {
    let p = pod();
    let config = p.server.config().with_token_file(p.sa.path.join("token"));
    let mut seen = vec![format!("{config:?}")];
    let client = Client::new(config.clone()).unwrap();
    seen.push(format!("{client:?}"));
    seen.push(format!("{:?}", client.get_json("/version").unwrap()));
    seen.push(format!("{:?}", client.get_json("/_test/echo").unwrap()));
    seen.push(format!("{}", incluster::core::info::describe(&client)));
    // Every kind of failure, in Display and Debug form.
    let mut errors = vec![
        client
            .get_json("/api/v1/namespaces/sec/configmaps/missing")
            .unwrap_err(),
        client.get_json("/_test/status/403").unwrap_err(),
        client.get_json("/_test/status/500").unwrap_err(),
    ];
    let explicit = |c: Config| Client::new(c).unwrap();
    errors.push(
        explicit(config.clone().with_token("wrong-token"))
            .get_json("/version")
            .unwrap_err(),
    );
    errors.push(
        explicit(config.clone().with_ca_file(&p.server.other_ca))
            .get_json("/version")
            .unwrap_err(),
    );
    let mut slow = config.clone();
    slow.request_timeout = Some(Duration::from_millis(200));
    errors.push(explicit(slow).get_json("/_test/delay?ms=2000").unwrap_err());
    let mut nowhere = config.clone();
    nowhere.server = "https://127.0.0.1:1".into();
    errors.push(explicit(nowhere).get_json("/version").unwrap_err());
    for e in &errors {
        seen.push(format!("{e}"));
        seen.push(format!("{e:?}"));
    }
    let watch = Watch::new(
        &client,
        "/api/v1/namespaces/sec/configmaps",
        WatchOptions::default(),
    )
    .unwrap();
    seen.push(format!("{watch:?}"));
    let logs = LogStream::open(
        &client,
        "sec",
        "p",
        LogOptions {
            container: Some("app".into()),
            ..LogOptions::default()
        },
    )
    .unwrap();
    seen.push(format!("{logs:?}"));
    for (i, s) in seen.iter().enumerate() {
        assert_clean(&format!("formatted value #{i}"), s);
    }
}

fn cli(p: &Pod, args: &[&str]) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_incluster"))
        .args(args)
        .envs(common::env_for_pod(&p.server, &p.sa))
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_cli_never_prints_the_token() {
    let p = pod();
    let runs: &[&[&str]] = &[
        &["info"],
        &["get", "/version"],
        &["get", "/api/v1/namespaces/sec/configmaps/missing"],
        &["get", "/_test/status/403"],
        &["get", "/_test/echo"],
        &[
            "request",
            "POST",
            "/api/v1/namespaces/sec/configmaps",
            "--data",
            "{bad json",
        ],
        &["whoami"],
        &["can-i", "list", "secrets"],
        &["logs", "p", "-c", "app"],
        &["logs", "p", "-c", "nope"],
        &[
            "watch",
            "/api/v1/namespaces/sec/configmaps",
            "--no-resume",
            "--param",
            "timeoutSeconds=1",
        ],
        &["get", "/version", "--server", "https://127.0.0.1:1"],
        &["get", "/version", "--insecure-skip-tls-verify"],
        &["--help"],
        &["no-such-verb"],
    ];
    for args in runs {
        let (out, err) = cli(&p, args);
        assert_clean(&format!("incluster {args:?} stdout"), &out);
        assert_clean(&format!("incluster {args:?} stderr"), &err);
    }
    // The echo route shows the request the server received: the Authorization header is
    // there on the wire, but the CLI's output is the server's answer, which masks it.
    // A 401 (token no longer accepted) must not quote it either.
    p.server.set_tokens(&["another"]);
    let (out, err) = cli(&p, &["get", "/version"]);
    assert!(err.contains("401"), "{err}");
    assert_clean("401 stdout", &out);
    assert_clean("401 stderr", &err);
}

/// A kubeconfig whose user is `user` (YAML lines), for the test server of `p`.
fn kubeconfig(p: &Pod, name: &str, user: &str) -> std::path::PathBuf {
    let path = p.dir.join(name);
    std::fs::write(
        &path,
        format!(
            "current-context: c\nclusters:\n- name: s\n  cluster:\n    server: {}\n    \
             certificate-authority: {}\ncontexts:\n- name: c\n  context: {{cluster: s, user: u}}\n\
             users:\n- name: u\n  user:\n{user}\n",
            p.server.url,
            p.server.ca.display()
        ),
    )
    .unwrap();
    path
}

fn plugin(p: &Pod, name: &str, body: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = p.dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    format!(
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {}",
        path.display()
    )
}

/// Kubeconfig paths: an inline token, a plugin's answer, a plugin that prints the token and
/// then fails or prints garbage, a wrong token: the Config, the client, every error and the
/// CLI's output are scanned.
#[test]
fn kubeconfigs_and_exec_plugins_never_show_the_token() {
    let p = pod();
    let answer = format!(
        "echo '{{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{TOKEN}\"}}}}'"
    );
    let users = [
        ("inline", format!("    token: {TOKEN}")),
        ("exec-ok", plugin(&p, "ok.sh", &answer)),
        (
            "exec-fails",
            plugin(&p, "fails.sh", &format!("echo {TOKEN}; exit 1")),
        ),
        (
            "exec-garbage",
            plugin(&p, "garbage.sh", &format!("echo '{{\"x\": \"{TOKEN}\"'")),
        ),
        (
            "exec-wrong-kind",
            plugin(&p, "kind.sh", &answer.replace("ExecCredential", "Other")),
        ),
        ("inline-bad-yaml", format!("    token: [{TOKEN}")),
    ];
    let mut seen = Vec::new();
    for (name, user) in users {
        let path = kubeconfig(&p, name, &user);
        match Config::from_kubeconfig(Some(&path), None) {
            Err(e) => seen.push(format!("{e} {e:?}")),
            Ok(config) => {
                seen.push(format!("{config:?}"));
                let client = Client::new(config).unwrap();
                seen.push(format!("{client:?}"));
                match client.get_json("/_test/echo") {
                    Ok(v) => seen.push(format!("{v:?}")),
                    Err(e) => seen.push(format!("{e} {e:?}")),
                }
                seen.push(format!("{:?}", incluster::core::info::describe(&client)));
            }
        }
        for args in [&["info"][..], &["get", "/version"][..]] {
            let out = Command::new(env!("CARGO_BIN_EXE_incluster"))
                .args(args)
                .env("KUBECONFIG", &path)
                .env_remove("KUBERNETES_SERVICE_HOST")
                .output()
                .unwrap();
            seen.push(String::from_utf8_lossy(&out.stdout).into_owned());
            seen.push(String::from_utf8_lossy(&out.stderr).into_owned());
        }
    }
    p.server.set_tokens(&["someone-else"]);
    let path = kubeconfig(&p, "refused", &format!("    token: {TOKEN}"));
    let client = Client::new(Config::from_kubeconfig(Some(&path), None).unwrap()).unwrap();
    let e = client.get_json("/version").unwrap_err();
    seen.push(format!("{e} {e:?}"));
    for (i, text) in seen.iter().enumerate() {
        assert_clean(&format!("output #{i}"), text);
    }
}

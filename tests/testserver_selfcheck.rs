//! Checks the test harness itself: the test API server starts, its control API works, and
//! the library can reach it over TLS with a token and from a kubelet-style ServiceAccount dir.

mod common;

use common::{SaDir, TestServer, env_for_pod};
use serde_json::Value;

#[test]
fn version_over_tls_with_a_token() {
    let server = TestServer::start(&[]);
    server.set_tokens(&["t1"]);
    server.clear_requests();

    let config = server.config().with_token("t1");
    let client = incluster::Client::new(config).expect("client");
    let version = client.get_json("/version").expect("GET /version");
    assert_eq!(version["gitVersion"], "v1.37.2-incluster-test");

    // A wrong token is refused with a Kubernetes Status.
    let wrong = incluster::Client::new(server.config().with_token("nope")).expect("client");
    let err = wrong.get_json("/version").unwrap_err();
    assert_eq!(err.status(), 401, "{err}");

    let log = server.requests();
    let auth: Vec<&str> = log
        .iter()
        .map(|r| r["authorization"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(auth, ["valid", "invalid"], "{log:?}");
    assert!(log.iter().all(|r| r["path"] == "/version"), "{log:?}");
    // The log never carries a token.
    let text = serde_json::to_string(&log).unwrap();
    assert!(!text.contains("t1") && !text.contains("nope"), "{text}");
}

#[test]
fn in_cluster_config_from_a_kubelet_style_serviceaccount_dir() {
    let server = TestServer::start(&["--token", "first"]);
    let sa = SaDir::new(&server.dir, "first", &server.ca, "team-a");
    let env: Vec<(String, String)> = env_for_pod(&server, &sa);
    let lookup = |k: &str| {
        env.iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.clone())
    };
    let mut config = incluster::Config::in_cluster_from(&lookup, None).expect("discovery");
    config.proxy_from_env = false;
    assert_eq!(config.namespace, "team-a");
    let client = incluster::Client::new(config).expect("client");
    let v: Value = client.get_json("/version").expect("GET /version");
    assert_eq!(v["major"], "1");

    // A kubelet-style rotation: the symlinks now resolve to the new token.
    sa.rotate("second");
    assert_eq!(sa.token(), "second");
    let entries: Vec<String> = std::fs::read_dir(&sa.path)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("..2026"))
        .collect();
    assert_eq!(
        entries.len(),
        1,
        "the old generation is removed: {entries:?}"
    );
    assert!(!sa.path.join("..data_tmp").exists());
}

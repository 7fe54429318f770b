//! Checks the test harness itself: the test API server starts, its control API works, and
//! the library can reach it over TLS with a token and from a kubelet-style ServiceAccount dir.

use incluster_testserver::harness as common;

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

/// The server's request parsing (httparse for the head, our framing rules after it): a
/// well-formed request is answered, a malformed one gets the documented status and the
/// connection closes.
#[test]
fn malformed_requests_get_a_clear_status() {
    use std::io::{Read, Write};

    let server = TestServer::start(&["--plain"]);
    let status_of = |raw: &[u8]| -> String {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        s.write_all(raw).unwrap();
        let mut out = Vec::new();
        // Each case either ends with `Connection: close` or sends one request and then EOF.
        s.shutdown(std::net::Shutdown::Write).ok();
        s.read_to_end(&mut out).ok();
        let text = String::from_utf8_lossy(&out);
        text.split("\r\n").next().unwrap_or("").to_owned()
    };
    let many_headers: String = (0..201).map(|i| format!("X-{i}: v\r\n")).collect();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            b"GET /_test/echo-anon HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(),
            "HTTP/1.1 200 OK",
        ),
        // Empty lines before the request line are skipped; a bare LF ends a line too.
        (
            b"\r\n\r\nGET /_test/echo-anon HTTP/1.1\nHost: a\n\n".to_vec(),
            "HTTP/1.1 200 OK",
        ),
        (
            b"GET /_test/echo-anon HTTP/2.0\r\n\r\n".to_vec(),
            "HTTP/1.1 505 HTTP Version Not Supported",
        ),
        (
            b"G@T /_test/echo-anon HTTP/1.1\r\n\r\n".to_vec(),
            "HTTP/1.1 400 Bad Request",
        ),
        (
            b"GET1 /_test/echo-anon HTTP/1.1\r\n\r\n".to_vec(),
            "HTTP/1.1 400 Bad Request",
        ),
        (
            b"GET /_test/echo-anon HTTP/1.1\r\nBad Name: v\r\n\r\n".to_vec(),
            "HTTP/1.1 400 Bad Request",
        ),
        (
            b"GET /_test/echo-anon HTTP/1.1\r\nX: a\r\n folded\r\n\r\n".to_vec(),
            "HTTP/1.1 400 Bad Request",
        ),
        (
            b"GET nowhere HTTP/1.1\r\n\r\n".to_vec(),
            "HTTP/1.1 400 Bad Request",
        ),
        (
            format!("GET /_test/echo-anon HTTP/1.1\r\n{many_headers}\r\n").into_bytes(),
            "HTTP/1.1 431 Request Header Fields Too Large",
        ),
        (
            b"POST /_test/echo-anon HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"
                .to_vec(),
            "HTTP/1.1 400 Bad Request",
        ),
    ];
    for (raw, want) in cases {
        let shown: String = String::from_utf8_lossy(&raw).chars().take(120).collect();
        assert_eq!(status_of(&raw), want, "{shown}");
    }
}

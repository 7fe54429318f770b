//! Checks the test API server's watch emulation and its fault injection, with a tiny raw
//! HTTP/1.1 client over plain TCP (`--plain`), independent of the library under test.

use incluster_testserver::harness as common;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::TestServer;
use common::raw::{header, read_head};
use serde_json::{Value, json};

const NS: &str = "w";

fn start() -> TestServer {
    TestServer::start(&["--plain"])
}

fn connect(server: &TestServer, method: &str, path: &str, body: Option<&Value>) -> TcpStream {
    let addr = server.url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect to the test server");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    let content_type = match method {
        "PATCH" => "application/merge-patch+json",
        _ => "application/json",
    };
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    s
}

/// A request with a sized answer: the status and the JSON body.
fn call(server: &TestServer, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let mut r = BufReader::new(connect(server, method, path, body));
    let (status, headers) = read_head(&mut r);
    let len: usize = header(&headers, "content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or_else(|| panic!("{method} {path}: no content-length in {headers:?}"));
    let mut buf = vec![0; len];
    r.read_exact(&mut buf).unwrap();
    (status, serde_json::from_slice(&buf).unwrap())
}

fn create(server: &TestServer, ns: &str, name: &str, labels: Value) -> Value {
    let obj = json!({"metadata": {"name": name, "labels": labels}, "data": {"k": "v"}});
    let path = format!("/api/v1/namespaces/{ns}/configmaps");
    let (status, v) = call(server, "POST", &path, Some(&obj));
    assert_eq!(status, 201, "{v}");
    v
}

fn patch(server: &TestServer, name: &str, patch: Value) -> Value {
    let path = format!("/api/v1/namespaces/{NS}/configmaps/{name}");
    let (status, v) = call(server, "PATCH", &path, Some(&patch));
    assert_eq!(status, 200, "{v}");
    v
}

fn delete(server: &TestServer, name: &str) {
    let path = format!("/api/v1/namespaces/{NS}/configmaps/{name}");
    let (status, v) = call(server, "DELETE", &path, None);
    assert_eq!(status, 200, "{v}");
}

/// The store's current resourceVersion, from a list.
fn current_rv(server: &TestServer) -> u64 {
    let (_, list) = call(server, "GET", "/api/v1/configmaps", None);
    rv_of(&list)
}

fn rv_of(obj: &Value) -> u64 {
    obj["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("no resourceVersion in {obj}"))
}

/// What the stream gave next.
#[derive(Debug, PartialEq)]
enum Next {
    /// A complete line (without its newline).
    Line(Vec<u8>),
    /// The terminating chunk: a clean end.
    End,
    /// The connection closed without the terminating chunk; the bytes of an unfinished line.
    Cut(Vec<u8>),
}

/// A chunked watch stream, read line by line.
struct Watch {
    r: BufReader<TcpStream>,
    /// Bytes left in the current chunk.
    left: usize,
    /// Received bytes not yet returned as lines.
    pending: Vec<u8>,
    ended: bool,
}

impl Watch {
    fn open(server: &TestServer, path: &str) -> Watch {
        let mut r = BufReader::new(connect(server, "GET", path, None));
        let (status, headers) = read_head(&mut r);
        assert_eq!(status, 200, "{path}");
        assert_eq!(header(&headers, "transfer-encoding"), Some("chunked"));
        assert_eq!(header(&headers, "content-type"), Some("application/json"));
        Watch {
            r,
            left: 0,
            pending: Vec::new(),
            ended: false,
        }
    }

    fn set_timeout(&self, t: Duration) {
        self.r.get_ref().set_read_timeout(Some(t)).unwrap();
    }

    fn next(&mut self) -> io::Result<Next> {
        loop {
            if let Some(i) = self.pending.iter().position(|&b| b == b'\n') {
                let rest = self.pending.split_off(i + 1);
                let mut line = std::mem::replace(&mut self.pending, rest);
                line.pop();
                return Ok(Next::Line(line));
            }
            if self.ended {
                assert!(self.pending.is_empty(), "a partial line before the end");
                return Ok(Next::End);
            }
            if self.left == 0 {
                let mut size = String::new();
                if self.r.read_line(&mut size)? == 0 {
                    return Ok(Next::Cut(std::mem::take(&mut self.pending)));
                }
                self.left = usize::from_str_radix(size.trim(), 16)
                    .unwrap_or_else(|_| panic!("bad chunk size {size:?}"));
                if self.left == 0 {
                    let mut crlf = String::new();
                    self.r.read_line(&mut crlf)?;
                    self.ended = true;
                }
                continue;
            }
            let mut buf = vec![0; self.left.min(64 * 1024)];
            let n = self.r.read(&mut buf)?;
            if n == 0 {
                return Ok(Next::Cut(std::mem::take(&mut self.pending)));
            }
            self.pending.extend_from_slice(&buf[..n]);
            self.left -= n;
            if self.left == 0 {
                let mut crlf = [0; 2];
                self.r.read_exact(&mut crlf)?;
                assert_eq!(&crlf, b"\r\n");
            }
        }
    }

    /// The next line, which must be a JSON event.
    fn event(&mut self) -> Value {
        match self.next().expect("read the watch") {
            Next::Line(l) => serde_json::from_slice(&l)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&l))),
            other => panic!("expected an event, got {other:?}"),
        }
    }

    /// The next `n` events, as (type, name, rv).
    fn events(&mut self, n: usize) -> Vec<(String, String, u64)> {
        (0..n).map(|_| brief(&self.event())).collect()
    }
}

fn brief(ev: &Value) -> (String, String, u64) {
    let o = &ev["object"];
    (
        ev["type"].as_str().unwrap_or("?").to_owned(),
        o["metadata"]["name"].as_str().unwrap_or("").to_owned(),
        rv_of(o),
    )
}

fn watch_path(query: &str) -> String {
    format!("/api/v1/namespaces/{NS}/configmaps?watch=1&{query}")
}

#[test]
fn initial_state_then_live_events_in_order() {
    let server = start();
    let a = create(&server, NS, "a", json!({}));
    let b = create(&server, NS, "b", json!({}));
    create(&server, "elsewhere", "x", json!({}));

    let mut w = Watch::open(&server, &watch_path(""));
    assert_eq!(
        w.events(2),
        [
            ("ADDED".into(), "a".into(), rv_of(&a)),
            ("ADDED".into(), "b".into(), rv_of(&b)),
        ]
    );
    // The all-namespaces watch (on the deprecated path too) sees the other namespace.
    let mut all = Watch::open(&server, "/api/v1/watch/configmaps");
    let names: Vec<String> = all.events(3).into_iter().map(|e| e.1).collect();
    assert_eq!(names, ["x", "a", "b"]);

    let c = create(&server, NS, "c", json!({}));
    let a2 = patch(&server, "a", json!({"data": {"k": "changed"}}));
    delete(&server, "b");
    create(&server, "elsewhere", "y", json!({}));
    let after = current_rv(&server);
    let ev = w.events(3);
    assert_eq!(
        ev,
        [
            ("ADDED".into(), "c".into(), rv_of(&c)),
            ("MODIFIED".into(), "a".into(), rv_of(&a2)),
            ("DELETED".into(), "b".into(), rv_of(&a2) + 1),
        ]
    );
    assert_eq!(after, rv_of(&a2) + 2, "the write elsewhere came last");
    let names: Vec<String> = all.events(4).into_iter().map(|e| e.1).collect();
    assert_eq!(names, ["c", "a", "b", "y"]);
}

#[test]
fn resume_from_a_resource_version_replays_only_later_changes() {
    let server = start();
    create(&server, NS, "a", json!({}));
    let mark = current_rv(&server);
    create(&server, NS, "b", json!({}));
    patch(&server, "a", json!({"data": {"k": "2"}}));

    let mut w = Watch::open(&server, &watch_path(&format!("resourceVersion={mark}")));
    assert_eq!(
        w.events(2),
        [
            ("ADDED".into(), "b".into(), mark + 1),
            ("MODIFIED".into(), "a".into(), mark + 2),
        ]
    );
    create(&server, NS, "c", json!({}));
    assert_eq!(w.events(1), [("ADDED".into(), "c".into(), mark + 3)]);

    // resourceVersion=0 is like none: the current state first.
    let mut w0 = Watch::open(&server, &watch_path("resourceVersion=0"));
    let names: Vec<String> = w0.events(3).into_iter().map(|e| e.1).collect();
    assert_eq!(names, ["a", "b", "c"]);
}

#[test]
fn compacted_history_gives_an_expired_error_event() {
    let server = start();
    let old = current_rv(&server);
    create(&server, NS, "a", json!({}));
    let now = current_rv(&server);
    server.set_watch(&json!({"compact": true}));

    let mut w = Watch::open(&server, &watch_path(&format!("resourceVersion={old}")));
    let ev = w.event();
    assert_eq!(ev["type"], "ERROR", "{ev}");
    assert_eq!(ev["object"]["code"], 410);
    assert_eq!(ev["object"]["reason"], "Expired");
    assert_eq!(
        ev["object"]["message"],
        format!("too old resource version: {old} ({now})")
    );
    assert_eq!(w.next().unwrap(), Next::End, "the stream ends cleanly");

    // From the current resourceVersion on, watching works.
    let mut w = Watch::open(&server, &watch_path(&format!("resourceVersion={now}")));
    create(&server, NS, "b", json!({}));
    assert_eq!(w.events(1)[0].1, "b");

    // A bounded history expires old resourceVersions by itself.
    let settings = server.set_watch(&json!({"history_limit": 2}));
    assert_eq!(settings["history_limit"], 2);
    let before = current_rv(&server);
    server.churn(NS, 3, "h");
    let mut w = Watch::open(&server, &watch_path(&format!("resourceVersion={before}")));
    assert_eq!(w.event()["object"]["code"], 410);
    let mut w = Watch::open(
        &server,
        &watch_path(&format!("resourceVersion={}", before + 1)),
    );
    assert_eq!(w.events(2).len(), 2);
}

/// Follow a churn through a watch that the server keeps cutting, resuming each time from
/// the last complete event; every change must arrive exactly once.
fn follow_through_drops(mid_line: bool) {
    let server = start();
    server.set_watch(&json!({"drop_every": 4, "drop_mid_line": mid_line}));
    let start_rv = current_rv(&server);
    let done = server.churn(NS, 10, "d");
    let end_rv: u64 = done["resourceVersion"].as_str().unwrap().parse().unwrap();

    let mut seen = Vec::new();
    let mut rv = start_rv;
    let mut connections = 0;
    while rv < end_rv {
        connections += 1;
        assert!(connections < 10, "no progress: {seen:?}");
        let mut w = Watch::open(&server, &watch_path(&format!("resourceVersion={rv}")));
        let mut on_this = 0;
        loop {
            match w.next().unwrap() {
                Next::Line(l) => {
                    let ev: Value = serde_json::from_slice(&l).unwrap();
                    rv = rv_of(&ev["object"]);
                    seen.push(rv);
                    on_this += 1;
                    if rv == end_rv {
                        break;
                    }
                }
                Next::Cut(partial) => {
                    assert_eq!(on_this, 4, "dropped after drop_every events");
                    assert_eq!(!partial.is_empty(), mid_line, "{partial:?}");
                    break;
                }
                Next::End => panic!("a clean end instead of a drop"),
            }
        }
    }
    let expected: Vec<u64> = (start_rv + 1..=end_rv).collect();
    assert_eq!(seen, expected);
    assert_eq!(connections, 3);
}

#[test]
fn drop_every_cuts_the_stream_and_resuming_loses_nothing() {
    follow_through_drops(false);
}

#[test]
fn drop_mid_line_leaves_a_partial_line_that_comes_again() {
    follow_through_drops(true);
}

#[test]
fn bookmarks_arrive_while_idle() {
    let server = start();
    server.set_watch(&json!({"bookmark_ms": 100}));
    create(&server, NS, "a", json!({}));
    let rv = current_rv(&server);
    let mut w = Watch::open(&server, &watch_path("allowWatchBookmarks=true"));
    assert_eq!(w.event()["type"], "ADDED");
    let started = Instant::now();
    let bm = w.event();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(bm["type"], "BOOKMARK", "{bm}");
    assert_eq!(bm["object"]["kind"], "ConfigMap");
    assert_eq!(rv_of(&bm["object"]), rv);
    assert!(
        bm["object"]["metadata"].get("annotations").is_none(),
        "{bm}"
    );
    // A bookmark carries the newest resourceVersion, even of changes the watch filters out
    // (one more bookmark may already have been on its way).
    create(&server, "elsewhere", "x", json!({}));
    let rvs: Vec<u64> = (0..2)
        .map(|_| {
            let bm = w.event();
            assert_eq!(bm["type"], "BOOKMARK", "{bm}");
            rv_of(&bm["object"])
        })
        .collect();
    assert!(rvs == [rv + 1, rv + 1] || rvs == [rv, rv + 1], "{rvs:?}");

    // Without allowWatchBookmarks, no bookmarks.
    let mut quiet = Watch::open(&server, &watch_path(&format!("resourceVersion={rv}")));
    quiet.set_timeout(Duration::from_millis(600));
    assert_eq!(
        quiet.next().unwrap_err().kind(),
        io::ErrorKind::WouldBlock,
        "nothing is sent"
    );
}

#[test]
fn send_initial_events_ends_with_an_annotated_bookmark() {
    let server = start();
    create(&server, NS, "a", json!({}));
    create(&server, NS, "b", json!({}));
    let rv = current_rv(&server);
    let q = "sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true";
    let mut w = Watch::open(&server, &watch_path(q));
    let names: Vec<String> = w.events(2).into_iter().map(|e| e.1).collect();
    assert_eq!(names, ["a", "b"]);
    let bm = w.event();
    assert_eq!(bm["type"], "BOOKMARK");
    assert_eq!(rv_of(&bm["object"]), rv);
    assert_eq!(
        bm["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    create(&server, NS, "c", json!({}));
    assert_eq!(w.events(1)[0], ("ADDED".into(), "c".into(), rv + 1));

    // The API server's validation: 422 Invalid.
    for bad in [
        "sendInitialEvents=true&allowWatchBookmarks=true",
        "sendInitialEvents=true&resourceVersionMatch=NotOlderThan",
        "resourceVersionMatch=NotOlderThan",
    ] {
        let (status, v) = call(&server, "GET", &watch_path(bad), None);
        assert_eq!(status, 422, "{bad}: {v}");
        assert_eq!(v["reason"], "Invalid");
    }
}

#[test]
fn churn_seq_numbers_are_contiguous() {
    let server = start();
    let start_rv = current_rv(&server);
    let mut w = Watch::open(&server, &watch_path(&format!("resourceVersion={start_rv}")));
    let done = server.churn(NS, 300, "c");
    assert_eq!(done["writes"], 300);
    let end_rv: u64 = done["resourceVersion"].as_str().unwrap().parse().unwrap();
    assert_eq!(end_rv, start_rv + 300);

    let mut seqs = Vec::new();
    let mut deleted = 0;
    for want_rv in start_rv + 1..=end_rv {
        let ev = w.event();
        assert_eq!(rv_of(&ev["object"]), want_rv, "{ev}");
        let seq: u64 = ev["object"]["data"]["seq"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        if ev["type"] == "DELETED" {
            deleted += 1;
            assert_eq!(Some(&seq), seqs.last(), "a deletion shows the last write");
        } else {
            seqs.push(seq);
        }
    }
    assert_eq!(seqs, (1..=250).collect::<Vec<u64>>());
    assert_eq!(deleted, 50);
    assert_eq!(done["first_seq"], 1);
    assert_eq!(done["last_seq"], 250);
    let (_, list) = call(&server, "GET", "/api/v1/namespaces/w/configmaps", None);
    assert_eq!(list["items"].as_array().unwrap().len(), 50);

    // In the background, spaced out: the answer comes first, the writes follow.
    let body = json!({"namespace": NS, "count": 3, "prefix": "bg", "interval_ms": 50});
    let (status, v) = call(&server, "POST", "/_control/churn", Some(&body));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["resourceVersion"], end_rv.to_string());
    let seqs: Vec<String> = (0..3)
        .map(|_| {
            w.event()["object"]["data"]["seq"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(seqs, ["251", "252", "253"]);
}

#[test]
fn selectors_filter_lists_and_watches() {
    let server = start();
    create(&server, NS, "a", json!({"app": "web", "tier": "front"}));
    create(&server, NS, "b", json!({"app": "db"}));
    create(&server, NS, "c", json!({}));
    let list = |q: &str| -> Vec<String> {
        let path = format!("/api/v1/namespaces/{NS}/configmaps?{q}");
        let (status, v) = call(&server, "GET", &path, None);
        assert_eq!(status, 200, "{q}: {v}");
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(list("labelSelector=app%3Dweb"), ["a"]);
    assert_eq!(list("labelSelector=app!%3Dweb"), ["b", "c"]);
    assert_eq!(list("labelSelector=app"), ["a", "b"]);
    assert_eq!(list("labelSelector=!app"), ["c"]);
    assert_eq!(list("labelSelector=app,tier%3Dfront"), ["a"]);
    assert_eq!(list("labelSelector=app%20in%20(db,cache)"), ["b"]);
    assert_eq!(list("fieldSelector=metadata.name%3Db"), ["b"]);
    assert_eq!(list("fieldSelector=metadata.name!%3Db"), ["a", "c"]);
    let (status, _) = call(
        &server,
        "GET",
        "/api/v1/configmaps?fieldSelector=spec.x%3D1",
        None,
    );
    assert_eq!(status, 400);

    // A change moving an object out of (into) the selection is DELETED (ADDED).
    let mut w = Watch::open(&server, &watch_path("labelSelector=app%3Dweb"));
    assert_eq!(w.events(1)[0].1, "a");
    patch(&server, "b", json!({"data": {"k": "unseen"}}));
    patch(
        &server,
        "a",
        json!({"metadata": {"labels": {"app": "other"}}}),
    );
    patch(
        &server,
        "c",
        json!({"metadata": {"labels": {"app": "web"}}}),
    );
    let got: Vec<(String, String)> = w.events(2).into_iter().map(|e| (e.0, e.1)).collect();
    assert_eq!(
        got,
        [("DELETED".into(), "a".into()), ("ADDED".into(), "c".into())]
    );
    let mut f = Watch::open(&server, &watch_path("fieldSelector=metadata.name%3Dc"));
    assert_eq!(f.events(1)[0].1, "c");
}

#[test]
fn lists_page_with_limit_and_continue() {
    let server = start();
    for n in ["a", "b", "c", "d", "e"] {
        create(&server, NS, n, json!({}));
    }
    create(&server, "zz", "other", json!({}));
    let list_rv = current_rv(&server);
    let mut names = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        pages += 1;
        let mut path = format!("/api/v1/namespaces/{NS}/configmaps?limit=2");
        if !token.is_empty() {
            path += &format!("&continue={token}");
        }
        let (status, v) = call(&server, "GET", &path, None);
        assert_eq!(status, 200, "{v}");
        assert_eq!(rv_of(&v), list_rv, "every page has the first page's rv");
        for o in v["items"].as_array().unwrap() {
            names.push(o["metadata"]["name"].as_str().unwrap().to_owned());
        }
        if pages == 1 {
            assert_eq!(v["metadata"]["remainingItemCount"], 3);
            // A write between pages does not change the pages' resourceVersion.
            create(&server, NS, "f", json!({}));
        }
        match v["metadata"]["continue"].as_str() {
            Some(t) => token = t.to_owned(),
            None => break,
        }
    }
    assert_eq!(names, ["a", "b", "c", "d", "e", "f"]);
    assert_eq!(pages, 3);

    let (status, v) = call(&server, "GET", "/api/v1/configmaps?limit=6", None);
    assert_eq!(status, 200);
    assert_eq!(v["items"].as_array().unwrap().len(), 6);
    assert_eq!(v["metadata"]["remainingItemCount"], 1);
    let (status, _) = call(&server, "GET", "/api/v1/configmaps?continue=nonsense", None);
    assert_eq!(status, 400);
}

#[test]
fn timeout_ends_the_stream_cleanly() {
    let server = start();
    let started = Instant::now();
    let mut w = Watch::open(&server, &watch_path("timeoutSeconds=1"));
    assert_eq!(w.next().unwrap(), Next::End);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(3));
}

#[test]
fn stall_410_malformed_and_padding_faults() {
    let server = start();
    for n in ["a", "b", "c"] {
        create(&server, NS, n, json!({}));
    }

    // Stalled after 2 events: no third event, no bookmark, no end; the connection stays.
    server.set_watch(&json!({"stall_after": 2, "bookmark_ms": 50}));
    let mut w = Watch::open(&server, &watch_path("allowWatchBookmarks=true"));
    assert_eq!(w.events(2).len(), 2);
    w.set_timeout(Duration::from_millis(700));
    assert_eq!(w.next().unwrap_err().kind(), io::ErrorKind::WouldBlock);
    drop(w);

    // A 410 ERROR event after 1 event, then a clean end.
    server.set_watch(&json!({"stall_after": 0, "error_410_after": 1}));
    let mut w = Watch::open(&server, &watch_path(""));
    assert_eq!(w.event()["type"], "ADDED");
    let ev = w.event();
    assert_eq!(
        (&ev["type"], &ev["object"]["code"]),
        (&json!("ERROR"), &json!(410))
    );
    assert_eq!(w.next().unwrap(), Next::End);

    // One line that is not JSON after 2 events, then the stream goes on.
    server.set_watch(&json!({"error_410_after": 0, "malformed_after": 2}));
    let mut w = Watch::open(&server, &watch_path(""));
    assert_eq!(w.events(2).len(), 2);
    assert_eq!(w.next().unwrap(), Next::Line(b"this is not json".to_vec()));
    assert_eq!(w.events(1)[0].1, "c");

    // Every event line padded to at least 5000 bytes.
    server.set_watch(&json!({"malformed_after": 0, "max_event_line": 5000}));
    let mut w = Watch::open(&server, &watch_path(""));
    match w.next().unwrap() {
        Next::Line(l) => {
            assert_eq!(l.len() + 1, 5000, "the line with its newline");
            let ev: Value = serde_json::from_slice(&l).unwrap();
            assert_eq!(ev["object"]["metadata"]["name"], "a");
        }
        other => panic!("{other:?}"),
    }
    let settings = server.set_watch(&json!({}));
    assert_eq!(settings["max_event_line"], 5000);
    assert_eq!(settings["bookmark_ms"], 50);

    // Unknown settings are refused.
    let (status, _) = call(&server, "PUT", "/_control/watch", Some(&json!({"nope": 1})));
    assert_eq!(status, 400);
}

#[test]
fn watchbench_streams_increasing_events_over_a_bounded_set_of_pods() {
    let server = start();
    let mut w = Watch::open(&server, "/_test/watchbench?n=1000&size=2048");
    let mut last = 0;
    for i in 1..=1000u64 {
        let Next::Line(l) = w.next().unwrap() else {
            panic!("event {i} missing")
        };
        assert!((2048..2300).contains(&l.len()), "{}", l.len());
        let ev: Value = serde_json::from_slice(&l).unwrap();
        assert_eq!(ev["type"], if i % 2 == 1 { "ADDED" } else { "MODIFIED" });
        assert_eq!(ev["object"]["kind"], "Pod");
        assert_eq!(
            ev["object"]["metadata"]["name"],
            format!("bench-pod-{:012}", i % 1000)
        );
        let rv = rv_of(&ev["object"]);
        assert!(rv > last);
        last = rv;
    }
    assert_eq!(w.next().unwrap(), Next::End);

    // Smaller objects: the Pod sheds optional parts to come close to the size asked for.
    let mut w = Watch::open(&server, "/_test/watchbench?n=2&size=1500");
    for _ in 0..2 {
        let len = w.event()["object"].to_string().len();
        assert!((1460..=1500).contains(&len), "{len}");
    }
    assert_eq!(w.next().unwrap(), Next::End);
}

//! Checks the test API server's pods, pod logs and their fault injection, with a tiny raw
//! HTTP/1.1 client over plain TCP (`--plain`), independent of the library under test.

use incluster_testserver::harness as common;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use base64::Engine;
use common::TestServer;
use common::raw::{header, read_head};
use serde_json::{Value, json};

const NS: &str = "logs";

fn start() -> TestServer {
    TestServer::start(&["--plain"])
}

fn connect(server: &TestServer, path: &str) -> TcpStream {
    let addr = server.url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect to the test server");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    s
}

/// What a chunked stream gave next.
#[derive(Debug, PartialEq)]
enum Piece {
    Chunk(Vec<u8>),
    /// The terminating chunk: a clean end.
    End,
    /// The connection closed without the terminating chunk.
    Cut,
}

/// What a log stream gave next, line by line.
#[derive(Debug, PartialEq)]
enum Next {
    /// A complete line (without its newline).
    Line(Vec<u8>),
    /// A clean end; the bytes after the last newline (a final line without one).
    End(Vec<u8>),
    /// The connection closed without the terminating chunk; the bytes of an unfinished line.
    Cut(Vec<u8>),
}

/// A chunked `text/plain` log stream.
struct LogStream {
    r: BufReader<TcpStream>,
    /// Received bytes not yet returned as lines.
    pending: Vec<u8>,
    /// How the stream ended, once it has.
    ended: Option<Piece>,
}

impl LogStream {
    fn open(server: &TestServer, path: &str) -> LogStream {
        let mut r = BufReader::new(connect(server, path));
        let (status, headers) = read_head(&mut r);
        if status != 200 {
            let mut body = String::new();
            let _ = r.read_to_string(&mut body);
            panic!("{path}: {status} {body}");
        }
        assert_eq!(header(&headers, "transfer-encoding"), Some("chunked"));
        assert_eq!(header(&headers, "content-type"), Some("text/plain"));
        LogStream {
            r,
            pending: Vec::new(),
            ended: None,
        }
    }

    fn set_timeout(&self, t: Duration) {
        self.r.get_ref().set_read_timeout(Some(t)).unwrap();
    }

    /// The next chunk as it was framed.
    fn chunk(&mut self) -> io::Result<Piece> {
        let mut size = String::new();
        if self.r.read_line(&mut size)? == 0 {
            return Ok(Piece::Cut);
        }
        let len = usize::from_str_radix(size.trim(), 16)
            .unwrap_or_else(|_| panic!("bad chunk size {size:?}"));
        if len == 0 {
            let mut crlf = String::new();
            self.r.read_line(&mut crlf)?;
            assert_eq!(crlf, "\r\n", "no trailers expected");
            return Ok(Piece::End);
        }
        let mut data = vec![0; len];
        let mut got = 0;
        while got < len {
            match self.r.read(&mut data[got..])? {
                0 => return Ok(Piece::Cut),
                n => got += n,
            }
        }
        let mut crlf = [0; 2];
        self.r.read_exact(&mut crlf)?;
        assert_eq!(&crlf, b"\r\n");
        Ok(Piece::Chunk(data))
    }

    fn next(&mut self) -> io::Result<Next> {
        loop {
            if let Some(i) = self.pending.iter().position(|&b| b == b'\n') {
                let rest = self.pending.split_off(i + 1);
                let mut line = std::mem::replace(&mut self.pending, rest);
                line.pop();
                return Ok(Next::Line(line));
            }
            match &self.ended {
                Some(Piece::End) => return Ok(Next::End(std::mem::take(&mut self.pending))),
                Some(_) => return Ok(Next::Cut(std::mem::take(&mut self.pending))),
                None => {}
            }
            match self.chunk()? {
                Piece::Chunk(data) => self.pending.extend_from_slice(&data),
                end => self.ended = Some(end),
            }
        }
    }

    /// The next line as text.
    fn line(&mut self) -> String {
        match self.next().expect("read the log") {
            Next::Line(l) => String::from_utf8(l).expect("UTF-8 line"),
            other => panic!("expected a line, got {other:?}"),
        }
    }

    fn lines(&mut self, n: usize) -> Vec<String> {
        (0..n).map(|_| self.line()).collect()
    }

    /// Everything up to the end: the bytes and whether the end was clean.
    fn rest(&mut self) -> (Vec<u8>, bool) {
        let mut all = std::mem::take(&mut self.pending);
        loop {
            match self.chunk().expect("read the log") {
                Piece::Chunk(data) => all.extend_from_slice(&data),
                Piece::End => return (all, true),
                Piece::Cut => return (all, false),
            }
        }
    }

    fn expect_end(&mut self) {
        assert_eq!(self.next().unwrap(), Next::End(Vec::new()), "a clean end");
    }
}

/// A GET with a sized (error) or chunked answer: status, content type and body.
fn fetch(server: &TestServer, path: &str) -> (u16, Option<String>, Vec<u8>) {
    let mut r = BufReader::new(connect(server, path));
    let (status, headers) = read_head(&mut r);
    let ct = header(&headers, "content-type").map(str::to_owned);
    if header(&headers, "transfer-encoding") == Some("chunked") {
        let mut s = LogStream {
            r,
            pending: Vec::new(),
            ended: None,
        };
        let (body, clean) = s.rest();
        assert!(clean, "{path}: the stream was cut");
        return (status, ct, body);
    }
    let len: usize = header(&headers, "content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or_else(|| panic!("{path}: no content-length in {headers:?}"));
    let mut body = vec![0; len];
    r.read_exact(&mut body).unwrap();
    (status, ct, body)
}

/// A GET answered with JSON: status and body.
fn get_json(server: &TestServer, path: &str) -> (u16, Value) {
    let (status, ct, body) = fetch(server, path);
    assert_eq!(ct.as_deref(), Some("application/json"), "{path}");
    (status, serde_json::from_slice(&body).unwrap())
}

/// A whole (non-follow) log as text.
fn log_text(server: &TestServer, pod: &str, query: &str) -> String {
    let (status, ct, body) = fetch(server, &log_path(pod, query));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(ct.as_deref(), Some("text/plain"));
    String::from_utf8(body).expect("UTF-8 log")
}

/// A log request that must fail: the status and the Status message.
fn log_error(server: &TestServer, pod: &str, query: &str) -> (u16, String, Value) {
    let (status, v) = get_json(server, &log_path(pod, query));
    assert_eq!(v["kind"], "Status", "{v}");
    assert_eq!(v["code"], status, "{v}");
    (status, v["message"].as_str().unwrap_or("").to_owned(), v)
}

fn log_path(pod: &str, query: &str) -> String {
    format!("/api/v1/namespaces/{NS}/pods/{pod}/log?{query}")
}

fn append(server: &TestServer, pod: &str, body: Value) -> Value {
    let mut body = body;
    body["namespace"] = NS.into();
    body["pod"] = pod.into();
    server.control("POST", "/_control/logs", Some(&body.to_string()))
}

/// The sequence number of a generated line (`gen seq=NNNNNNNNNN ...`).
fn seq_of(line: &str) -> u64 {
    let at = line
        .find("seq=")
        .unwrap_or_else(|| panic!("no seq in {line:?}"));
    line[at + 4..at + 14].parse().unwrap()
}

#[test]
fn pods_are_served_and_missing_ones_are_404() {
    let server = start();
    let body = json!({
        "namespace": NS, "name": "web", "containers": ["app", "side"],
        "init_containers": ["setup"], "labels": {"app": "web"},
    });
    let created = server.control("POST", "/_control/pods", Some(&body.to_string()));
    server.create_pod("other", "db", &["db"]);

    let (status, pod) = get_json(&server, &format!("/api/v1/namespaces/{NS}/pods/web"));
    assert_eq!(status, 200, "{pod}");
    assert_eq!(pod, created);
    assert_eq!(pod["kind"], "Pod");
    assert_eq!(pod["metadata"]["name"], "web");
    assert_eq!(pod["metadata"]["namespace"], NS);
    assert!(
        pod["metadata"]["uid"]
            .as_str()
            .is_some_and(|u| u.len() == 36)
    );
    assert!(pod["metadata"]["resourceVersion"].as_str().is_some());
    assert_eq!(
        pod["spec"]["containers"],
        json!([{"name": "app", "image": "example/app:1"}, {"name": "side", "image": "example/side:1"}])
    );
    assert_eq!(pod["spec"]["initContainers"][0]["name"], "setup");
    assert_eq!(pod["status"]["phase"], "Running");
    let app = &pod["status"]["containerStatuses"][0];
    assert_eq!(app["name"], "app");
    assert_eq!(app["ready"], true);
    assert_eq!(app["restartCount"], 0);
    assert!(
        app["state"]["running"]["startedAt"].as_str().is_some(),
        "{app}"
    );
    let setup = &pod["status"]["initContainerStatuses"][0];
    assert_eq!(
        setup["state"]["terminated"]["reason"], "Completed",
        "{setup}"
    );

    let (status, v) = get_json(&server, &format!("/api/v1/namespaces/{NS}/pods/nope"));
    assert_eq!(status, 404);
    assert_eq!(v["reason"], "NotFound");
    assert_eq!(v["message"], "pods \"nope\" not found");
    assert_eq!(v["details"], json!({"name": "nope", "kind": "pods"}));
    // A pod of another namespace is not there either.
    let (status, _) = get_json(&server, &format!("/api/v1/namespaces/{NS}/pods/db"));
    assert_eq!(status, 404);

    // Lists, with selectors, per namespace and across them.
    let (_, list) = get_json(&server, &format!("/api/v1/namespaces/{NS}/pods"));
    assert_eq!(list["kind"], "PodList");
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (_, all) = get_json(&server, "/api/v1/pods");
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let (_, sel) = get_json(&server, "/api/v1/pods?labelSelector=app%3Dweb");
    assert_eq!(sel["items"][0]["metadata"]["name"], "web");
    assert_eq!(sel["items"].as_array().unwrap().len(), 1);

    // States and phases.
    server.set_container_state(NS, "web", "app", "terminated", 0);
    let pod = server.set_container_state(NS, "web", "side", "terminated", 2);
    assert_eq!(pod["status"]["phase"], "Failed");
    let side = &pod["status"]["containerStatuses"][1];
    assert_eq!(side["state"]["terminated"]["exitCode"], 2, "{side}");
    assert_eq!(side["state"]["terminated"]["reason"], "Error");
    assert_eq!(side["ready"], false);
    let pod = server.set_container_state(NS, "web", "side", "terminated", 0);
    assert_eq!(pod["status"]["phase"], "Succeeded");
    // Running again is a restart.
    let pod = server.set_container_state(NS, "web", "side", "running", 0);
    let side = &pod["status"]["containerStatuses"][1];
    assert_eq!(side["restartCount"], 1, "{side}");
    assert_eq!(side["lastState"]["terminated"]["exitCode"], 0, "{side}");
    assert_eq!(pod["status"]["phase"], "Running");
}

#[test]
fn the_container_must_be_named_when_there_are_several() {
    let server = start();
    server.create_pod(NS, "two", &["app", "side"]);
    server.create_pod(NS, "one", &["app"]);
    server.append_logs(NS, "one", "app", &["only"]);
    server.append_logs(NS, "two", "side", &["from side"]);

    let (status, message, v) = log_error(&server, "two", "");
    assert_eq!(status, 400);
    assert_eq!(v["reason"], "BadRequest");
    assert_eq!(
        message,
        "a container name must be specified for pod two, choose one of: [app side]"
    );
    let (status, message, _) = log_error(&server, "two", "container=nope");
    assert_eq!(status, 400);
    assert_eq!(message, "container nope is not valid for pod two");
    let (status, message, _) = log_error(&server, "missing", "container=app");
    assert_eq!(status, 404);
    assert_eq!(message, "pods \"missing\" not found");

    assert_eq!(log_text(&server, "two", "container=side"), "from side\n");
    assert_eq!(log_text(&server, "two", "container=app"), "");
    // A lone container needs no name.
    assert_eq!(log_text(&server, "one", ""), "only\n");

    // Init containers are listed first, as the API server does.
    let body = json!({"namespace": NS, "name": "init", "containers": ["a", "b"],
                      "init_containers": ["i"]});
    server.control("POST", "/_control/pods", Some(&body.to_string()));
    let (_, message, _) = log_error(&server, "init", "");
    assert_eq!(
        message,
        "a container name must be specified for pod init, choose one of: [i a b]"
    );
    // A waiting container has no log yet.
    let body = json!({"namespace": NS, "name": "wait", "containers": ["app"],
                      "state": "waiting"});
    server.control("POST", "/_control/pods", Some(&body.to_string()));
    let (status, message, _) = log_error(&server, "wait", "");
    assert_eq!(status, 400);
    assert_eq!(
        message,
        "container \"app\" in pod \"wait\" is waiting to start: ContainerCreating"
    );
}

#[test]
fn a_plain_read_sends_what_exists_and_ends() {
    let server = start();
    server.create_pod(NS, "p", &["app"]);
    server.append_logs(NS, "p", "app", &["one", "two", "three"]);
    let mut s = LogStream::open(&server, &log_path("p", "container=app"));
    assert_eq!(s.lines(3), ["one", "two", "three"]);
    s.expect_end();
    // Options the server accepts without effect, and booleans in every spelling.
    assert_eq!(
        log_text(
            &server,
            "p",
            "insecureSkipTLSVerifyBackend=true&follow=false&previous=0&timestamps=False"
        ),
        "one\ntwo\nthree\n"
    );
    assert_eq!(log_text(&server, "p", "stream=Stdout"), "one\ntwo\nthree\n");
    assert_eq!(log_text(&server, "p", "stream=Stderr"), "");
}

#[test]
fn follow_streams_appended_lines_and_stays_open_while_quiet() {
    let server = start();
    server.create_pod(NS, "p", &["app"]);
    server.append_logs(NS, "p", "app", &["before"]);
    let mut s = LogStream::open(&server, &log_path("p", "follow=true"));
    assert_eq!(s.line(), "before");

    // A quiet period: nothing comes, and the stream stays open.
    s.set_timeout(Duration::from_millis(1500));
    let err = s
        .next()
        .expect_err("nothing is sent while the log is quiet");
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ),
        "{err}"
    );
    s.set_timeout(Duration::from_secs(10));

    let started = Instant::now();
    server.append_logs(NS, "p", "app", &["after", "the quiet"]);
    assert_eq!(s.lines(2), ["after", "the quiet"]);
    assert!(started.elapsed() < Duration::from_secs(2));
    // Lines appended one by one come one by one.
    for i in 0..5 {
        server.append_logs(NS, "p", "app", &[&format!("n{i}")]);
        assert_eq!(s.line(), format!("n{i}"));
    }
}

#[test]
fn follow_streams_end_when_their_clients_leave() {
    let server = start();
    server.create_pod(NS, "p", &["app"]);
    // One server thread per connection: count them (Linux only).
    let threads =
        || std::fs::read_dir(format!("/proc/{}/task", server.pid())).map_or(0, |d| d.count());
    let before = threads();
    if before == 0 {
        return;
    }
    let streams: Vec<LogStream> = (0..20)
        .map(|_| LogStream::open(&server, &log_path("p", "follow=1")))
        .collect();
    assert!(threads() >= before + 20);
    drop(streams);
    // Quiet streams look for their client twice a second.
    let deadline = Instant::now() + Duration::from_secs(5);
    while threads() > before {
        assert!(Instant::now() < deadline, "{} threads left", threads());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn termination_ends_a_follow_cleanly_after_what_was_buffered() {
    let server = start();
    server.create_pod(NS, "p", &["app", "side"]);
    let mut s = LogStream::open(&server, &log_path("p", "container=app&follow=1"));
    let mut other = LogStream::open(&server, &log_path("p", "container=side&follow=1"));
    server.append_logs(NS, "p", "app", &["a"]);
    assert_eq!(s.line(), "a");
    server.append_logs(NS, "p", "app", &["last 1", "last 2"]);
    server.set_container_state(NS, "p", "app", "terminated", 0);
    assert_eq!(s.lines(2), ["last 1", "last 2"]);
    s.expect_end();

    // The other container's stream goes on.
    server.append_logs(NS, "p", "side", &["still here"]);
    assert_eq!(other.line(), "still here");

    // Following a terminated container sends its log and ends.
    let mut again = LogStream::open(&server, &log_path("p", "container=app&follow=1"));
    assert_eq!(again.lines(3), ["a", "last 1", "last 2"]);
    again.expect_end();

    // Replacing the pod ends the streams of its old containers too.
    server.create_pod(NS, "p", &["app", "side"]);
    assert_eq!(other.next().unwrap(), Next::End(Vec::new()));
}

#[test]
fn timestamps_are_rfc3339nano_with_trailing_zeros_trimmed() {
    let server = start();
    server.create_pod(NS, "p", &["app"]);
    let times = [
        "2026-11-29T03:00:00Z",
        "2026-11-29T03:00:00.1Z",
        "2026-11-29T03:00:00.120Z",
        "2026-11-29T03:00:00.123456789Z",
        "2026-11-29T03:00:00.000000001Z",
        "2026-11-29T04:00:01+01:00",
    ];
    let stamps = append(
        &server,
        "p",
        json!({"lines": ["a", "b", "c", "d", "e", "f"], "times": times}),
    );
    assert_eq!(
        log_text(&server, "p", "timestamps=true"),
        "2026-11-29T03:00:00Z a\n\
         2026-11-29T03:00:00.1Z b\n\
         2026-11-29T03:00:00.12Z c\n\
         2026-11-29T03:00:00.123456789Z d\n\
         2026-11-29T03:00:00.000000001Z e\n\
         2026-11-29T03:00:01Z f\n"
    );
    assert_eq!(stamps["timestamps"][2], "2026-11-29T03:00:00.12Z");

    // Automatic timestamps strictly increase, by at least a microsecond.
    let auto = server.append_logs(NS, "p", "app", &["x", "y", "z"]);
    let mut s = LogStream::open(&server, &log_path("p", "timestamps=1&tailLines=3"));
    let lines = s.lines(3);
    let mut prev: Option<String> = None;
    for (i, line) in lines.iter().enumerate() {
        let (ts, text) = line.split_once(' ').unwrap();
        assert_eq!(auto["timestamps"][i], ts);
        assert!(ts.ends_with('Z') && ts.len() <= 30, "{ts}");
        assert_eq!(text, ["x", "y", "z"][i]);
        if let Some(p) = &prev {
            let (a, b) = (nanos(p), nanos(ts));
            assert!(b >= a + 1000, "{p} then {ts}");
        }
        prev = Some(ts.to_owned());
    }
}

/// The nanoseconds of the day of an RFC3339Nano UTC time (enough to compare times that
/// are close together).
fn nanos(ts: &str) -> u64 {
    let time = &ts[11..ts.len() - 1];
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let secs = hms
        .split(':')
        .fold(0u64, |acc, p| acc * 60 + p.parse::<u64>().unwrap());
    let frac: u64 = format!("{frac:0<9}").parse().unwrap();
    secs * 1_000_000_000 + frac
}

#[test]
fn since_time_and_since_seconds_filter_by_timestamp() {
    let server = start();
    server.create_pod(NS, "p", &["app"]);
    append(
        &server,
        "p",
        json!({"lines": ["old", "mid", "new"],
               "times": ["2026-11-29T03:00:00Z", "2026-11-29T03:00:01.5Z",
                         "2026-11-29T03:00:03Z"]}),
    );
    assert_eq!(
        log_text(&server, "p", "sinceTime=2026-11-29T03:00:01.5Z"),
        "mid\nnew\n"
    );
    // At or after the instant, with the fraction; offsets are understood.
    assert_eq!(
        log_text(&server, "p", "sinceTime=2026-11-29T04:00:01%2B01:00"),
        "mid\nnew\n"
    );
    assert_eq!(
        log_text(&server, "p", "sinceTime=2026-11-29T03:00:01.6Z"),
        "new\n"
    );
    assert_eq!(
        log_text(&server, "p", "sinceTime=2026-11-29T02:00:00Z"),
        "old\nmid\nnew\n"
    );

    // sinceSeconds is relative to now: the explicit times above are hours ago.
    server.create_pod(NS, "q", &["app"]);
    server.append_logs(NS, "q", "app", &["earlier"]);
    std::thread::sleep(Duration::from_millis(1200));
    server.append_logs(NS, "q", "app", &["recent"]);
    assert_eq!(log_text(&server, "q", "sinceSeconds=1"), "recent\n");
    assert_eq!(
        log_text(&server, "q", "sinceSeconds=60"),
        "earlier\nrecent\n"
    );
    // With follow, new lines pass the filter too.
    let mut s = LogStream::open(&server, &log_path("q", "sinceSeconds=1&follow=1"));
    assert_eq!(s.line(), "recent");
    server.append_logs(NS, "q", "app", &["later"]);
    assert_eq!(s.line(), "later");
}

#[test]
fn tail_lines_starts_with_the_last_lines_then_follows() {
    let server = start();
    server.create_pod(NS, "p", &["app"]);
    server.append_logs(NS, "p", "app", &["1", "2", "3", "4", "5"]);
    assert_eq!(log_text(&server, "p", "tailLines=2"), "4\n5\n");
    assert_eq!(log_text(&server, "p", "tailLines=0"), "");
    assert_eq!(log_text(&server, "p", "tailLines=99"), "1\n2\n3\n4\n5\n");
    let mut s = LogStream::open(&server, &log_path("p", "tailLines=1&follow=true"));
    assert_eq!(s.line(), "5");
    server.append_logs(NS, "p", "app", &["6"]);
    assert_eq!(s.line(), "6");
    let mut s = LogStream::open(&server, &log_path("p", "tailLines=0&follow=true"));
    server.append_logs(NS, "p", "app", &["7"]);
    assert_eq!(s.line(), "7");
}

#[test]
fn limit_bytes_stops_mid_line_with_a_clean_end() {
    let server = start();
    server.create_pod(NS, "p", &["app"]);
    server.append_logs(NS, "p", "app", &["hello", "world"]);
    assert_eq!(log_text(&server, "p", "limitBytes=8"), "hello\nwo");
    assert_eq!(log_text(&server, "p", "limitBytes=6"), "hello\n");
    assert_eq!(log_text(&server, "p", "limitBytes=1000"), "hello\nworld\n");
    // The timestamp prefixes count.
    let text = log_text(&server, "p", "limitBytes=10&timestamps=true");
    assert_eq!(text.len(), 10);
    assert!(text.starts_with("20"), "{text}");

    // A follow ends once the limit is reached, although the container still runs.
    let mut s = LogStream::open(&server, &log_path("p", "limitBytes=15&follow=1"));
    assert_eq!(s.lines(2), ["hello", "world"]);
    server.append_logs(NS, "p", "app", &["more lines"]);
    assert_eq!(s.next().unwrap(), Next::End(b"mor".to_vec()));
}

#[test]
fn previous_reads_the_last_terminated_instance() {
    let server = start();
    server.create_pod(NS, "p", &["app"]);
    server.append_logs(NS, "p", "app", &["first run"]);
    let (status, message, _) = log_error(&server, "p", "previous=true");
    assert_eq!(status, 400);
    assert_eq!(
        message,
        "previous terminated container \"app\" in pod \"p\" not found"
    );

    server.set_container_state(NS, "p", "app", "terminated", 1);
    // Still the current log while it is terminated.
    assert_eq!(log_text(&server, "p", ""), "first run\n");
    server.set_container_state(NS, "p", "app", "running", 0);
    server.append_logs(NS, "p", "app", &["second run"]);
    assert_eq!(log_text(&server, "p", "previous=true"), "first run\n");
    assert_eq!(log_text(&server, "p", ""), "second run\n");
    // A previous log is never followed: it ends.
    let mut s = LogStream::open(&server, &log_path("p", "previous=true&follow=true"));
    assert_eq!(s.line(), "first run");
    s.expect_end();

    // Lines can be put in the previous log directly.
    server.create_pod(NS, "q", &["app"]);
    append(
        &server,
        "q",
        json!({"container": "app", "lines": ["crashed"], "previous": true}),
    );
    assert_eq!(log_text(&server, "q", "previous=1"), "crashed\n");
    assert_eq!(log_text(&server, "q", ""), "");
}

#[test]
fn invalid_options_are_rejected_as_the_api_server_does() {
    let server = start();
    server.create_pod(NS, "p", &["app"]);
    for (query, status, message) in [
        (
            "tailLines=-1",
            422,
            "PodLogOptions \"p\" is invalid: tailLines: Invalid value: -1: must be greater \
             than or equal to 0",
        ),
        (
            "limitBytes=0",
            422,
            "PodLogOptions \"p\" is invalid: limitBytes: Invalid value: 0: must be greater \
             than 0",
        ),
        (
            "sinceSeconds=0",
            422,
            "PodLogOptions \"p\" is invalid: sinceSeconds: Invalid value: 0: must be greater \
             than 0",
        ),
        (
            "sinceSeconds=5&sinceTime=2026-11-29T03:00:00Z",
            422,
            "PodLogOptions \"p\" is invalid: : Forbidden: at most one of `sinceTime` or \
             `sinceSeconds` may be specified",
        ),
        (
            "tailLines=x",
            400,
            "invalid value for tailLines: strconv.ParseInt: parsing \"x\": invalid syntax",
        ),
        (
            "sinceTime=yesterday",
            400,
            "invalid value for sinceTime: \"yesterday\" is not an RFC 3339 time",
        ),
    ] {
        let (s, m, v) = log_error(&server, "p", query);
        assert_eq!((s, m.as_str()), (status, message), "{query}: {v}");
        if status == 422 {
            assert_eq!(v["reason"], "Invalid");
            assert_eq!(v["details"]["kind"], "PodLogOptions");
        }
    }
    // Validation comes before the pod lookup.
    let (status, _, _) = log_error(&server, "missing", "tailLines=-1");
    assert_eq!(status, 422);
}

/// Follow a terminated container's numbered log through a stream the server keeps cutting,
/// resuming from the last timestamp seen (`sinceTime` is inclusive, so that line comes again
/// and is skipped); every line must arrive exactly once.
fn follow_through_drops(mid_line: bool) {
    let server = start();
    server.create_pod(NS, "p", &["app"]);
    let generated = server.generate_logs(NS, "p", "app", 10, 60);
    assert_eq!(
        (
            generated["first_seq"].as_u64(),
            generated["last_seq"].as_u64()
        ),
        (Some(1), Some(10))
    );
    server.set_container_state(NS, "p", "app", "terminated", 0);
    server.set_log_faults(&json!({"drop_every": 4, "drop_mid_line": mid_line}));

    let mut seqs = Vec::new();
    let mut last_ts: Option<String> = None;
    let mut connections = 0;
    loop {
        connections += 1;
        assert!(connections < 10, "no progress: {seqs:?}");
        let query = match &last_ts {
            None => "follow=1&timestamps=1".to_owned(),
            Some(ts) => format!("follow=1&timestamps=1&sinceTime={ts}"),
        };
        let mut s = LogStream::open(&server, &log_path("p", &query));
        let mut on_this = 0;
        let clean = loop {
            match s.next().unwrap() {
                Next::Line(l) => {
                    on_this += 1;
                    let l = String::from_utf8(l).unwrap();
                    let (ts, text) = l.split_once(' ').unwrap();
                    if last_ts.as_deref() != Some(ts) {
                        seqs.push(seq_of(text));
                        last_ts = Some(ts.to_owned());
                    }
                }
                Next::Cut(partial) => {
                    assert_eq!(on_this, 4, "dropped after drop_every lines");
                    if mid_line && seqs.len() < 10 {
                        assert!(!partial.is_empty(), "half of the next line first");
                        assert!(!partial.contains(&b'\n'));
                    } else {
                        assert_eq!(partial, b"");
                    }
                    break false;
                }
                Next::End(rest) => {
                    assert_eq!(rest, b"");
                    break true;
                }
            }
        };
        if clean {
            break;
        }
    }
    assert_eq!(seqs, (1..=10).collect::<Vec<u64>>());
    // 1-4 | 4 5 6 7 | 7 8 9 10 | 10, end.
    assert_eq!(connections, 4);

    // Plain reads are never dropped.
    server.set_log_faults(&json!({"drop_every": 1}));
    assert_eq!(log_text(&server, "p", "").lines().count(), 10);
}

#[test]
fn drop_every_cuts_follow_streams() {
    follow_through_drops(false);
}

#[test]
fn drop_mid_line_sends_half_a_line_before_cutting() {
    follow_through_drops(true);
}

#[test]
fn drops_also_cut_live_follow_streams() {
    let server = start();
    server.create_pod(NS, "p", &["app"]);
    let faults = server.set_log_faults(&json!({"drop_every": 2, "drop_mid_line": true}));
    assert_eq!(faults["drop_every"], 2);
    let mut s = LogStream::open(&server, &log_path("p", "follow=1"));
    server.append_logs(NS, "p", "app", &["one", "two"]);
    assert_eq!(s.lines(2), ["one", "two"]);
    // The cut waits for the next line, and sends half of it.
    server.append_logs(NS, "p", "app", &["three!"]);
    assert_eq!(s.next().unwrap(), Next::Cut(b"thr".to_vec()));
    // Turned off, later streams are whole again.
    server.set_log_faults(&json!({"drop_every": 0}));
    let mut s = LogStream::open(&server, &log_path("p", "follow=1"));
    assert_eq!(s.lines(3), ["one", "two", "three!"]);
}

#[test]
fn chunk_split_sends_every_line_in_two_chunks() {
    let server = start();
    server.create_pod(NS, "p", &["app"]);
    server.append_logs(NS, "p", "app", &["hello world", "ab", ""]);
    let faults = server.set_log_faults(&json!({"chunk_split": true}));
    assert_eq!(faults["chunk_split"], true);
    let mut s = LogStream::open(&server, &log_path("p", ""));
    let mut chunks = Vec::new();
    loop {
        match s.chunk().unwrap() {
            Piece::Chunk(c) => chunks.push(String::from_utf8(c).unwrap()),
            Piece::End => break,
            Piece::Cut => panic!("cut"),
        }
    }
    // A one-byte line cannot be split.
    assert_eq!(chunks, ["hello ", "world\n", "a", "b\n", "\n"]);

    // Followed lines are split too, and reassemble.
    let mut s = LogStream::open(&server, &log_path("p", "follow=1&tailLines=0"));
    server.append_logs(NS, "p", "app", &["ünïcödé splits mid-character"]);
    assert_eq!(s.line(), "ünïcödé splits mid-character");
}

#[test]
fn bytes_that_are_not_utf8_and_a_final_line_without_newline() {
    let server = start();
    server.create_pod(NS, "p", &["app"]);
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    append(
        &server,
        "p",
        json!({"lines": [b64(&[0xff, 0xfe, b'a']), b64(b"ok")], "base64": true}),
    );
    let (_, _, body) = fetch(&server, &log_path("p", ""));
    assert_eq!(body, b"\xff\xfea\nok\n");

    server.create_pod(NS, "q", &["app"]);
    append(
        &server,
        "q",
        json!({"lines": ["a", "no newline"], "no_newline_last": true}),
    );
    assert_eq!(log_text(&server, "q", ""), "a\nno newline");
    let mut s = LogStream::open(&server, &log_path("q", ""));
    assert_eq!(s.line(), "a");
    assert_eq!(s.next().unwrap(), Next::End(b"no newline".to_vec()));
    // With follow, the next entry continues that line (as the runtime's partial lines do).
    let mut s = LogStream::open(&server, &log_path("q", "follow=1"));
    assert_eq!(s.line(), "a");
    server.append_logs(NS, "q", "app", &[", continued"]);
    assert_eq!(s.line(), "no newline, continued");
}

#[test]
fn generated_lines_are_numbered_contiguously() {
    let server = start();
    server.create_pod(NS, "p", &["app"]);
    let g = server.generate_logs(NS, "p", "app", 100, 80);
    assert_eq!(g, json!({"count": 100, "first_seq": 1, "last_seq": 100}));
    let text = log_text(&server, "p", "");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 100);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(seq_of(l), i as u64 + 1);
        assert_eq!(l.len() + 1, 80, "{l:?}");
        assert!(l.starts_with(&format!("gen seq={:010} x", i + 1)), "{l:?}");
    }

    // In the background, while a follow watches; the numbers go on.
    let mut s = LogStream::open(&server, &log_path("p", "follow=1&tailLines=0"));
    let body = json!({"namespace": NS, "pod": "p", "container": "app", "count": 20,
                      "size": 10, "interval_ms": 5, "prefix": "bg"});
    let g = server.control("POST", "/_control/logs/generate", Some(&body.to_string()));
    assert_eq!(g["background"], true);
    assert_eq!(
        (g["first_seq"].as_u64(), g["last_seq"].as_u64()),
        (Some(101), Some(120))
    );
    let got: Vec<u64> = s.lines(20).iter().map(|l| seq_of(l)).collect();
    assert_eq!(got, (101..=120).collect::<Vec<u64>>());
    // Too short for padding: just the number.
    assert_eq!(log_text(&server, "p", "tailLines=1"), "bg seq=0000000120\n");
}

#[test]
fn logbench_streams_numbered_lines_in_large_chunks() {
    let server = start();
    let mut s = LogStream::open(&server, "/_test/logbench?n=5000&size=100");
    let mut sizes = Vec::new();
    let mut body = Vec::new();
    loop {
        match s.chunk().unwrap() {
            Piece::Chunk(c) => {
                sizes.push(c.len());
                body.extend_from_slice(&c);
            }
            Piece::End => break,
            Piece::Cut => panic!("cut"),
        }
    }
    assert_eq!(body.len(), 5000 * 100);
    assert!(
        sizes[..sizes.len() - 1].iter().all(|&n| n >= 64 * 1024),
        "{sizes:?}"
    );
    let text = String::from_utf8(body).unwrap();
    for (i, line) in text.lines().enumerate() {
        assert_eq!(line.len(), 99);
        assert!(
            line.starts_with(&format!("line {:010} xx", i + 1)),
            "{line}"
        );
    }

    // The `logbench` pod's log, sized by the control route (no such pod needs to exist).
    let v = server.control(
        "PUT",
        "/_control/logbench",
        Some(r#"{"n": 300, "size": 20}"#),
    );
    assert_eq!(v, json!({"n": 300, "size": 20}));
    let text = log_text(&server, "logbench", "container=whatever");
    assert_eq!(text.len(), 300 * 20);
    assert_eq!(text.lines().last(), Some("line 0000000300 xxx"));
    // Tiny sizes give the shortest line.
    let (_, _, body) = fetch(&server, "/_test/logbench?n=2&size=1");
    assert_eq!(body, b"line 0000000001\nline 0000000002\n");
}

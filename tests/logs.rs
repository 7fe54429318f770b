//! Pod logs through the core, against the test API server's log behaviour and faults.

use incluster_testserver::harness as common;

use std::time::{Duration, Instant};

use common::TestServer;
use incluster::core::logs::{LogOptions, LogStream};
use incluster::{Client, Error, ErrorKind};
use serde_json::json;

const TOKEN: &str = "tok-logs-tests";
const NS: &str = "logs";

fn setup() -> (TestServer, Client) {
    let s = TestServer::start(&["--token", TOKEN]);
    let c = Client::new(s.config().with_token(TOKEN)).unwrap();
    (s, c)
}

fn follow() -> LogOptions {
    LogOptions {
        follow: true,
        resume: true,
        backoff_initial: Duration::from_millis(5),
        backoff_max: Duration::from_millis(50),
        ..LogOptions::default()
    }
}

/// Cancel the stream if a test is still on it after 30 s: a bug fails, never hangs.
fn watchdog(s: &LogStream) {
    let h = s.cancel_handle();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(30));
        h.cancel();
    });
}

fn all(s: &mut LogStream) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(l) = s.next_line().unwrap() {
        out.push(l);
    }
    out
}

fn text(lines: &[Vec<u8>]) -> Vec<String> {
    lines
        .iter()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect()
}

fn seq(line: &[u8]) -> u64 {
    let t = String::from_utf8_lossy(line);
    let i = t.find("seq=").expect("a generated line");
    t[i + 4..i + 14].parse().unwrap()
}

#[test]
fn whole_log_with_partial_last_line_and_invalid_utf8() {
    let (s, c) = setup();
    s.create_pod(NS, "p", &["app"]);
    s.append_logs(NS, "p", "app", &["first", "second"]);
    s.control(
        "POST",
        "/_control/logs",
        Some(
            &json!({"namespace": NS, "pod": "p", "lines": ["/w==", "bGFzdA=="],
                     "base64": true, "no_newline_last": true})
            .to_string(),
        ),
    );
    let mut l = LogStream::open(&c, NS, "p", LogOptions::default()).unwrap();
    let lines = all(&mut l);
    assert_eq!(
        lines,
        vec![
            b"first".to_vec(),
            b"second".to_vec(),
            vec![0xff],
            b"last".to_vec()
        ]
    );
}

#[test]
fn lines_split_across_chunks_arrive_whole() {
    let (s, c) = setup();
    s.create_pod(NS, "p", &["app"]);
    s.set_log_faults(&json!({"chunk_split": true}));
    s.generate_logs(NS, "p", "app", 50, 80);
    let mut l = LogStream::open(&c, NS, "p", LogOptions::default()).unwrap();
    let lines = all(&mut l);
    assert_eq!(lines.len(), 50);
    assert!(lines.iter().all(|l| l.len() == 79), "{:?}", text(&lines));
    let seqs: Vec<u64> = lines.iter().map(|l| seq(l)).collect();
    assert_eq!(seqs, (1..=50).collect::<Vec<_>>());
}

#[test]
fn overlong_lines_are_split() {
    let (s, c) = setup();
    s.create_pod(NS, "p", &["app"]);
    let long = "x".repeat(350);
    s.append_logs(NS, "p", "app", &[&long, "short"]);
    let o = LogOptions {
        max_line_bytes: 100,
        ..LogOptions::default()
    };
    let mut l = LogStream::open(&c, NS, "p", o).unwrap();
    let lens: Vec<usize> = all(&mut l).iter().map(Vec::len).collect();
    assert_eq!(lens, [100, 100, 100, 50, 5]);
}

#[test]
fn follow_sees_lines_as_they_come_and_ends_when_the_container_terminates() {
    let (s, c) = setup();
    s.create_pod(NS, "p", &["app"]);
    s.append_logs(NS, "p", "app", &["before"]);
    let mut l = LogStream::open(&c, NS, "p", follow()).unwrap();
    watchdog(&l);
    assert_eq!(l.next_line().unwrap().unwrap(), b"before");
    s.append_logs(NS, "p", "app", &["during"]);
    assert_eq!(l.next_line().unwrap().unwrap(), b"during");
    s.append_logs(NS, "p", "app", &["last"]);
    s.set_container_state(NS, "p", "app", "terminated", 0);
    assert_eq!(l.next_line().unwrap().unwrap(), b"last");
    assert!(l.next_line().unwrap().is_none());
}

/// A stream that breaks after the container terminated has not necessarily delivered
/// everything (the real API server even ends its response cleanly then): a last request
/// without `follow` collects the rest.
#[test]
fn a_drop_after_the_container_terminated_loses_no_line() {
    let (s, c) = setup();
    s.create_pod(NS, "p", &["app"]);
    s.generate_logs(NS, "p", "app", 50, 60);
    s.set_container_state(NS, "p", "app", "terminated", 0);
    // Follow streams break after 10 lines; the container is already over, so there is no
    // follow to resume: only the final request brings lines 11..50.
    s.set_log_faults(&json!({"drop_every": 10, "drop_mid_line": true}));
    let mut l = LogStream::open(&c, NS, "p", follow()).unwrap();
    watchdog(&l);
    let seqs: Vec<u64> = all(&mut l).iter().map(|l| seq(l)).collect();
    assert_eq!(seqs, (1..=50).collect::<Vec<_>>());
}

#[test]
fn fifty_drops_lose_and_repeat_no_line() {
    let (s, c) = setup();
    s.create_pod(NS, "p", &["app"]);
    s.set_log_faults(&json!({"drop_every": 10, "drop_mid_line": true}));
    s.generate_logs(NS, "p", "app", 250, 60);
    let mut l = LogStream::open(&c, NS, "p", follow()).unwrap();
    watchdog(&l);
    let mut got = Vec::new();
    for _ in 0..250 {
        got.push(l.next_line().unwrap().unwrap());
    }
    // More while following, through more drops.
    s.generate_logs(NS, "p", "app", 250, 60);
    for _ in 0..250 {
        got.push(l.next_line().unwrap().unwrap());
    }
    let seqs: Vec<u64> = got.iter().map(|l| seq(l)).collect();
    assert_eq!(
        seqs,
        (1..=500).collect::<Vec<_>>(),
        "a line was lost or repeated"
    );
    // The caller did not ask for timestamps: none leaked in from the resume machinery.
    assert!(got.iter().all(|l| l.starts_with(b"gen seq=")));
    s.set_container_state(NS, "p", "app", "terminated", 0);
    assert!(l.next_line().unwrap().is_none());
}

#[test]
fn quiet_periods_are_not_mistaken_for_dead_connections() {
    let (s, c) = setup();
    s.create_pod(NS, "p", &["app"]);
    let o = LogOptions {
        idle_check: Duration::from_millis(300),
        ..follow()
    };
    let mut l = LogStream::open(&c, NS, "p", o).unwrap();
    watchdog(&l);
    // Over a second of silence: several idle checks find the container running.
    std::thread::sleep(Duration::from_millis(1200));
    s.append_logs(NS, "p", "app", &["after a quiet second"]);
    assert_eq!(l.next_line().unwrap().unwrap(), b"after a quiet second");
    s.set_container_state(NS, "p", "app", "terminated", 0);
    assert!(l.next_line().unwrap().is_none());
}

#[test]
fn timestamps_tail_since_limit_and_previous() {
    let (s, c) = setup();
    s.create_pod(NS, "p", &["app"]);
    let r = s.append_logs(NS, "p", "app", &["a", "b", "c", "d"]);
    let ts: Vec<String> = r["timestamps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    let read = |o: LogOptions| text(&all(&mut LogStream::open(&c, NS, "p", o).unwrap()));
    let with_ts = read(LogOptions {
        timestamps: true,
        tail_lines: Some(2),
        ..LogOptions::default()
    });
    assert_eq!(with_ts, [format!("{} c", ts[2]), format!("{} d", ts[3])]);
    let since = read(LogOptions {
        since_time: Some(ts[1].clone()),
        ..LogOptions::default()
    });
    assert_eq!(since, ["b", "c", "d"]);
    let limited = read(LogOptions {
        limit_bytes: Some(3),
        ..LogOptions::default()
    });
    assert_eq!(limited, ["a", "b"]);
    // A restart: the old log becomes the previous one.
    s.set_container_state(NS, "p", "app", "terminated", 1);
    s.set_container_state(NS, "p", "app", "running", 0);
    s.append_logs(NS, "p", "app", &["new life"]);
    assert_eq!(read(LogOptions::default()), ["new life"]);
    let prev = read(LogOptions {
        previous: true,
        ..LogOptions::default()
    });
    assert_eq!(prev, ["a", "b", "c", "d"]);
}

#[test]
fn cancel_unblocks_a_blocked_follow() {
    let (s, c) = setup();
    s.create_pod(NS, "p", &["app"]);
    let mut l = LogStream::open(&c, NS, "p", follow()).unwrap();
    let h = l.cancel_handle();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        let at = Instant::now();
        h.cancel();
        at
    });
    assert_eq!(l.next_line().unwrap_err(), Error::Cancelled);
    assert!(t.join().unwrap().elapsed() < Duration::from_secs(1));
}

#[test]
fn errors_name_the_pod_and_its_containers() {
    let (s, c) = setup();
    let e = LogStream::open(&c, NS, "nope", LogOptions::default()).unwrap_err();
    assert_eq!(e.status(), 404);
    assert!(e.to_string().contains("pods \"nope\" not found"), "{e}");

    s.create_pod(NS, "two", &["app", "side"]);
    let e = LogStream::open(&c, NS, "two", LogOptions::default()).unwrap_err();
    assert_eq!(e.status(), 400);
    assert!(e.to_string().contains("choose one of: [app side]"), "{e}");

    let o = LogOptions {
        container: Some("ghost".into()),
        ..LogOptions::default()
    };
    let e = LogStream::open(&c, NS, "two", o).unwrap_err();
    assert_eq!(e.status(), 400);
    assert!(
        e.to_string().contains("(the pod's containers: app, side)"),
        "{e}"
    );

    let bad = Client::new(s.config().with_token("wrong")).unwrap();
    assert_eq!(
        LogStream::open(&bad, NS, "two", LogOptions::default())
            .unwrap_err()
            .status(),
        401
    );
    let o = LogOptions {
        since_time: Some("yesterday".into()),
        ..LogOptions::default()
    };
    assert_eq!(
        LogStream::open(&c, NS, "two", o).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

/// The asyncio front's way through a resume (`read_ready`, then `resume_delay` and
/// `wait_once` for `NeedsIo`): a stream that brought nothing backs off before it resumes, and
/// the backoff is handed to the front instead of slept in `wait_once`. The backoff here is
/// 20 s, so a `wait_once` that slept it would take 20 s; the watchdog ends the test at 30 s.
#[test]
fn a_front_that_asks_for_resume_delays_gets_the_backoff_and_wait_once_never_sleeps_it() {
    use incluster::core::logs::stream::Ready;
    let (s, c) = setup();
    s.create_pod(NS, "p", &["app"]);
    let o = LogOptions {
        backoff_initial: Duration::from_secs(20),
        backoff_max: Duration::from_secs(20),
        ..follow()
    };
    let mut l = LogStream::open(&c, NS, "p", o).unwrap();
    watchdog(&l);
    // From this call on the front waits out the backoffs; nothing to wait for yet.
    assert_eq!(l.resume_delay(), None);
    let mut got: Vec<Vec<u8>> = Vec::new();
    assert!(matches!(
        l.read_ready(&mut |x| got.push(x.to_vec())).unwrap(),
        Ready::Socket(_)
    ));
    // Silence past the idle check: the stream counts as lost, having brought nothing.
    l.idle_expired();
    assert!(matches!(
        l.read_ready(&mut |x| got.push(x.to_vec())).unwrap(),
        Ready::NeedsIo
    ));
    let t = Instant::now();
    // The resume checks the pod, then stops before its backoff, keeping its place.
    let e = l.wait_once(&mut |x| got.push(x.to_vec())).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled);
    assert!(!l.cancel_handle().is_cancelled());
    assert!(matches!(
        l.read_ready(&mut |x| got.push(x.to_vec())).unwrap(),
        Ready::NeedsIo
    ));
    let d = l
        .resume_delay()
        .expect("the backoff, for the front to wait");
    assert!(
        d > Duration::from_secs(5) && d <= Duration::from_secs(20),
        "{d:?}"
    );
    // The front waited it; the resume goes on without sleeping and opens the stream again.
    assert!(!l.wait_once(&mut |x| got.push(x.to_vec())).unwrap());
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert_eq!(l.resume_delay(), None);
    s.append_logs(NS, "p", "app", &["after the resume"]);
    while got.is_empty() {
        match l.read_ready(&mut |x| got.push(x.to_vec())).unwrap() {
            Ready::Line => {}
            Ready::Socket(_) => std::thread::sleep(Duration::from_millis(5)),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(text(&got), ["after the resume"]);
}

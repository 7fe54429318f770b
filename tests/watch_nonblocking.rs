//! The core watch driven as an event loop drives it (incluster.aio): `poll_next`, then either
//! `read_ready` (never waits; says which socket to wait for) or `resume_delay` + `wait_once`.
//! The same guarantees as the blocking `wait`: drops lose and repeat nothing, a 410 relists.

use incluster_testserver::harness as common;

use std::time::Duration;

use common::TestServer;
use incluster::Client;
use incluster::core::stream::Next;
use incluster::core::watch::event::RawDecoder;
use incluster::core::watch::{Event, EventType, Watch, WatchOptions};
use serde_json::{Value, json};

const TOKEN: &str = "tok-watch-nonblocking";

fn setup() -> (TestServer, Client) {
    let s = TestServer::start(&["--token", TOKEN]);
    let c = Client::new(s.config().with_token(TOKEN)).unwrap();
    (s, c)
}

fn opts() -> WatchOptions {
    WatchOptions {
        backoff_initial: Duration::from_millis(5),
        backoff_max: Duration::from_millis(50),
        ..WatchOptions::default()
    }
}

/// The next event as an event loop gets it: the socket waited for with `poll`, the resume
/// delay slept here, and counts of each kind of step.
fn next_event(w: &mut Watch, steps: &mut Steps) -> Event {
    loop {
        match w.poll_next(&mut RawDecoder).unwrap() {
            Next::Item(e) => return e,
            Next::End => panic!("the watch ended"),
            Next::NeedsIo if w.wants_read() => match w.read_ready().unwrap() {
                None => steps.reads += 1,
                Some(r) => {
                    steps.waits += 1;
                    let mut p = libc::pollfd {
                        fd: r.fd,
                        events: if r.writable {
                            libc::POLLOUT
                        } else {
                            libc::POLLIN
                        },
                        revents: 0,
                    };
                    let ms = w.idle_timeout().as_millis().min(30_000) as i32;
                    // SAFETY: one valid pollfd for the duration of the call.
                    if unsafe { libc::poll(&mut p, 1, ms) } == 0 {
                        w.idle_expired().unwrap();
                    }
                }
            },
            Next::NeedsIo => {
                steps.other += 1;
                if let Some(d) = w.resume_delay() {
                    std::thread::sleep(d);
                }
                w.wait_once().unwrap();
            }
        }
    }
}

#[derive(Default, Debug)]
struct Steps {
    reads: usize,
    waits: usize,
    other: usize,
}

fn seq(e: &Event) -> Option<u64> {
    let o: Value = serde_json::from_slice(&e.object).ok()?;
    o["data"]["seq"].as_str()?.parse().ok()
}

#[test]
fn drops_lose_and_repeat_nothing_when_driven_without_blocking() {
    let (s, c) = setup();
    s.set_watch(&json!({"drop_every": 3, "drop_mid_line": true}));
    let mut w = Watch::new(&c, "/api/v1/namespaces/nb/configmaps", opts()).unwrap();
    let r = s.churn("nb", 120, "d");
    let mut steps = Steps::default();
    let events: Vec<Event> = (0..120).map(|_| next_event(&mut w, &mut steps)).collect();
    let seqs: Vec<u64> = events
        .iter()
        .filter(|e| matches!(e.kind, EventType::Added | EventType::Modified))
        .filter_map(seq)
        .collect();
    let first = r["first_seq"].as_u64().unwrap();
    assert_eq!(seqs, (first..first + seqs.len() as u64).collect::<Vec<_>>());
    assert_eq!(
        events.last().unwrap().resource_version,
        r["resourceVersion"].as_str().unwrap()
    );
    // Every drop was resumed by wait_once, and bytes came through read_ready.
    assert!(steps.other >= 30, "{steps:?}");
    assert!(steps.reads > 0, "{steps:?}");
}

#[test]
fn a_410_relists_and_the_idle_timeout_resumes_when_driven_without_blocking() {
    let (s, c) = setup();
    s.churn("nb410", 4, "g");
    s.set_watch(&json!({"error_410_after": 2}));
    let mut w = Watch::new(&c, "/api/v1/namespaces/nb410/configmaps", opts()).unwrap();
    let mut steps = Steps::default();
    let mut kinds = Vec::new();
    while !kinds.contains(&EventType::ResyncEnd) {
        kinds.push(next_event(&mut w, &mut steps).kind);
    }
    assert!(kinds.contains(&EventType::ResyncStart), "{kinds:?}");

    // A silent stream: the idle timeout marks it lost and the next step resumes it.
    s.set_watch(&json!({"error_410_after": 0, "bookmark_ms": 0}));
    let mut quiet = Watch::new(
        &c,
        "/api/v1/namespaces/nb-idle/configmaps",
        WatchOptions {
            idle_timeout: Some(Duration::from_millis(200)),
            ..opts()
        },
    )
    .unwrap();
    let mut steps = Steps::default();
    let e = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(700));
            s.churn("nb-idle", 1, "late");
        });
        next_event(&mut quiet, &mut steps)
    });
    assert_eq!(e.kind, EventType::Added);
    // The silent stream was given up on after its idle timeout and resumed.
    assert!(steps.other >= 1, "{steps:?}");
}

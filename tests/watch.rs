//! The core watch against the test API server's watch, with its fault injection.

use incluster_testserver::harness as common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::TestServer;
use incluster::core::watch::{Event, EventType, OnGone, Watch, WatchOptions};
use incluster::{Client, Error, ErrorKind};
use serde_json::{Value, json};

const TOKEN: &str = "tok-watch-tests";

fn setup() -> (TestServer, Client) {
    let s = TestServer::start(&["--token", TOKEN]);
    let c = Client::new(s.config().with_token(TOKEN)).unwrap();
    (s, c)
}

/// Quick reconnects for tests (client-go's 0.8 s would make 100 drops take minutes).
fn opts() -> WatchOptions {
    WatchOptions {
        backoff_initial: Duration::from_millis(5),
        backoff_max: Duration::from_millis(50),
        ..WatchOptions::default()
    }
}

/// Cancel the watch if a test is still on it after 30 s, so a bug fails the test instead of
/// hanging the suite.
fn watchdog(w: &Watch) {
    let h = w.cancel_handle();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(30));
        h.cancel();
    });
}

fn path(ns: &str) -> String {
    format!("/api/v1/namespaces/{ns}/configmaps")
}

fn obj(e: &Event) -> Value {
    serde_json::from_slice(&e.object).unwrap()
}

/// The consumer's view: name → data, folded from events.
#[derive(Default)]
struct View {
    objects: BTreeMap<String, Value>,
    resyncs: usize,
}

impl View {
    fn apply(&mut self, e: &Event) {
        let o = obj(e);
        let name = o["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        match e.kind {
            EventType::Added | EventType::Modified => {
                self.objects.insert(name, o["data"].clone());
            }
            EventType::Deleted => {
                self.objects.remove(&name);
            }
            EventType::ResyncStart => self.resyncs += 1,
            EventType::ResyncEnd | EventType::Bookmark => {}
        }
    }
}

fn server_state(c: &Client, ns: &str) -> BTreeMap<String, Value> {
    let list = c.get_json(&path(ns)).unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["metadata"]["name"].as_str().unwrap().to_owned(),
                i["data"].clone(),
            )
        })
        .collect()
}

/// Read until the watched state matches the server's (or panic after `limit`).
fn follow_until_equal(w: &mut Watch, view: &mut View, c: &Client, ns: &str, limit: Duration) {
    let want = server_state(c, ns);
    let start = Instant::now();
    while view.objects != want {
        assert!(
            start.elapsed() < limit,
            "watch never caught up: {:?} vs {:?}",
            view.objects,
            want
        );
        let e = w.next_event().unwrap().expect("the watch ended");
        view.apply(&e);
    }
}

/// The `data.seq` numbers of ADDED/MODIFIED events, which churn makes contiguous.
fn seqs(events: &[Event]) -> Vec<u64> {
    events
        .iter()
        .filter(|e| matches!(e.kind, EventType::Added | EventType::Modified))
        .filter_map(|e| obj(e)["data"]["seq"].as_str().and_then(|s| s.parse().ok()))
        .collect()
}

fn take(w: &mut Watch, n: usize) -> Vec<Event> {
    (0..n)
        .map(|_| w.next_event().unwrap().expect("ended"))
        .collect()
}

#[test]
fn initial_state_then_live_changes_in_order() {
    let (s, c) = setup();
    s.churn("w1", 6, "pre");
    let mut w = Watch::new(&c, &path("w1"), opts()).unwrap();
    watchdog(&w);
    let mut view = View::default();
    follow_until_equal(&mut w, &mut view, &c, "w1", Duration::from_secs(10));
    let r = s.churn("w1", 30, "live");
    let events = take(&mut w, 30);
    let rvs: Vec<u64> = events
        .iter()
        .map(|e| e.resource_version.parse().unwrap())
        .collect();
    assert!(rvs.windows(2).all(|p| p[0] < p[1]), "{rvs:?}");
    assert_eq!(
        events.last().unwrap().resource_version,
        r["resourceVersion"].as_str().unwrap()
    );
    assert!(events.iter().any(|e| e.kind == EventType::Deleted));
    assert_eq!(w.resource_version(), r["resourceVersion"].as_str());
}

#[test]
fn a_hundred_drops_lose_and_repeat_nothing() {
    let (s, c) = setup();
    s.set_watch(&json!({"drop_every": 3, "drop_mid_line": true}));
    let mut w = Watch::new(&c, &path("drops"), opts()).unwrap();
    watchdog(&w);
    let r = s.churn("drops", 300, "d");
    let events = take(&mut w, 300);
    let seq = seqs(&events);
    let first = r["first_seq"].as_u64().unwrap();
    let expected: Vec<u64> = (first..first + seq.len() as u64).collect();
    assert_eq!(seq, expected, "an event was lost or repeated");
    assert_eq!(
        events.last().unwrap().resource_version,
        r["resourceVersion"].as_str().unwrap()
    );
    let mut view = View::default();
    events.iter().for_each(|e| view.apply(e));
    assert_eq!(view.objects, server_state(&c, "drops"));
}

#[test]
fn clean_server_timeouts_resume_from_the_last_version() {
    let (s, c) = setup();
    let mut o = opts();
    o.timeout_seconds = Some(1);
    let mut w = Watch::new(&c, &path("to"), o).unwrap();
    watchdog(&w);
    s.churn("to", 5, "a");
    let mut events = take(&mut w, 5);
    std::thread::sleep(Duration::from_millis(2200)); // at least two server-side timeouts
    let r = s.churn("to", 5, "b");
    events.extend(take(&mut w, 5));
    let seq = seqs(&events);
    assert!(seq.windows(2).all(|p| p[1] == p[0] + 1), "{seq:?}");
    assert_eq!(
        events.last().unwrap().resource_version,
        r["resourceVersion"].as_str().unwrap()
    );
}

#[test]
fn quiet_watches_stay_alive_on_bookmarks() {
    let (s, c) = setup();
    s.set_watch(&json!({"bookmark_ms": 100}));
    let mut o = opts();
    o.deliver_bookmarks = true;
    // Generous against a loaded machine: bookmarks every 100 ms, dead after 2 s of silence.
    o.idle_timeout = Some(Duration::from_millis(2000));
    let mut w = Watch::new(&c, &path("quiet"), o).unwrap();
    watchdog(&w);
    let start = Instant::now();
    let mut bookmarks = 0;
    while start.elapsed() < Duration::from_millis(2500) {
        let e = w.next_event().unwrap().unwrap();
        assert_eq!(e.kind, EventType::Bookmark);
        bookmarks += 1;
    }
    assert!(bookmarks >= 3, "{bookmarks}");
    // The bookmarks kept the connection healthy: one watch request, never a reconnect.
    let watches = s
        .requests()
        .iter()
        .filter(|r| r["path"].as_str().unwrap().contains("watch=1"))
        .count();
    assert_eq!(watches, 1);
}

#[test]
fn error_410_mid_stream_relists_with_resync_markers() {
    let (s, c) = setup();
    s.churn("g1", 9, "x");
    s.set_watch(&json!({"error_410_after": 4}));
    let mut w = Watch::new(&c, &path("g1"), opts()).unwrap();
    watchdog(&w);
    let mut view = View::default();
    // Meanwhile the world changes.
    s.churn("g1", 9, "y");
    s.set_watch(&json!({"error_410_after": 0}));
    follow_until_equal(&mut w, &mut view, &c, "g1", Duration::from_secs(10));
    assert!(view.resyncs >= 1, "no resync happened");
    // A relist started: the list requests carry limit=500 (paged).
    assert!(
        s.requests()
            .iter()
            .any(|r| r["path"].as_str().unwrap().contains("limit=500"))
    );
}

#[test]
fn gone_on_resume_relists_and_never_retries_the_expired_version() {
    let (s, c) = setup();
    s.set_watch(&json!({"drop_every": 5}));
    let mut w = Watch::new(&c, &path("g2"), opts()).unwrap();
    watchdog(&w);
    s.churn("g2", 5, "a");
    let mut view = View::default();
    for e in take(&mut w, 5) {
        view.apply(&e);
    }
    // While the watch is away (the server dropped it after 5 events), history is compacted.
    s.churn("g2", 12, "b");
    s.set_watch(&json!({"compact": true, "drop_every": 0}));
    follow_until_equal(&mut w, &mut view, &c, "g2", Duration::from_secs(10));
    assert_eq!(view.resyncs, 1);
    let expired = w.resource_version().unwrap().to_owned();
    // Each expired version was asked for at most once.
    let mut asked: BTreeMap<String, usize> = BTreeMap::new();
    for r in s.requests() {
        let p = r["path"].as_str().unwrap().to_owned();
        if p.contains("watch=1")
            && let Some(rv) = p.split("resourceVersion=").nth(1)
        {
            *asked
                .entry(rv.split('&').next().unwrap().to_owned())
                .or_default() += 1;
        }
    }
    assert!(
        asked.values().all(|n| *n == 1),
        "{asked:?} (now at {expired})"
    );
}

#[test]
fn on_gone_error_surfaces_the_410() {
    let (s, c) = setup();
    s.churn("g3", 3, "a");
    s.set_watch(&json!({"compact": true}));
    let mut o = opts();
    o.on_gone = OnGone::Error;
    o.resource_version = Some("1".into());
    // The API server answers an expired watch with 200 and an ERROR event.
    let mut w = Watch::new(&c, &path("g3"), o).unwrap();
    watchdog(&w);
    let e = w.next_event().unwrap_err();
    assert_eq!(e.status(), 410, "{e}");
    assert_eq!(e.api().unwrap().reason, "Expired");
}

#[test]
fn a_half_open_connection_is_noticed_by_the_idle_timeout() {
    let (s, c) = setup();
    s.set_watch(&json!({"stall_after": 2, "bookmark_ms": 0}));
    let mut o = opts();
    o.idle_timeout = Some(Duration::from_millis(400));
    let mut w = Watch::new(&c, &path("stall"), o).unwrap();
    watchdog(&w);
    s.churn("stall", 6, "s");
    let first = take(&mut w, 2);
    s.set_watch(&json!({"stall_after": 0}));
    let rest = take(&mut w, 4);
    let all: Vec<Event> = first.into_iter().chain(rest).collect();
    let seq = seqs(&all);
    assert!(seq.windows(2).all(|p| p[1] == p[0] + 1), "{seq:?}");
}

#[test]
fn an_oversized_event_is_a_clear_error() {
    let (s, c) = setup();
    s.set_watch(&json!({"max_event_line": 4000}));
    let mut o = opts();
    o.max_event_bytes = 1024;
    let mut w = Watch::new(&c, &path("big"), o).unwrap();
    watchdog(&w);
    s.churn("big", 1, "b");
    let e = w.next_event().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode);
    assert!(
        e.to_string()
            .contains("larger than the limit of 1024 bytes"),
        "{e}"
    );
    assert!(w.next_event().unwrap().is_none(), "the watch must stop");
}

#[test]
fn a_malformed_line_is_a_typed_error_and_the_stream_stops() {
    let (s, c) = setup();
    s.set_watch(&json!({"malformed_after": 1}));
    let mut w = Watch::new(&c, &path("mal"), opts()).unwrap();
    watchdog(&w);
    s.churn("mal", 3, "m");
    assert!(w.next_event().unwrap().is_some());
    let e = w.next_event().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode);
    assert!(e.to_string().contains("this is not json"), "{e}");
    assert!(w.next_event().unwrap().is_none());
}

#[test]
fn cancel_from_another_thread_unblocks_a_read() {
    let (s, c) = setup();
    s.set_watch(&json!({"bookmark_ms": 0}));
    let mut w = Watch::new(&c, &path("cancel"), opts()).unwrap();
    watchdog(&w);
    let h = w.cancel_handle();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        let at = Instant::now();
        h.cancel();
        at
    });
    let e = w.next_event().unwrap_err();
    let cancelled_at = canceller.join().unwrap();
    assert_eq!(e, Error::Cancelled);
    // Measured loosely (a loaded CI machine): the read noticed well within a second.
    assert!(cancelled_at.elapsed() < Duration::from_secs(1));
    assert_eq!(w.next_event().unwrap_err(), Error::Cancelled);
}

#[test]
fn a_watch_that_cannot_start_fails_with_the_usual_errors() {
    let (s, c) = setup();
    let e = Watch::new(&c, "/api/v1/namespaces/x/nothing", opts()).unwrap_err();
    assert_eq!(e.status(), 404);
    let bad = Client::new(s.config().with_token("wrong")).unwrap();
    let e = Watch::new(&bad, &path("x"), opts()).unwrap_err();
    assert_eq!(e.status(), 401);
    let e = Watch::new(&c, "/api/v1/namespaces/x/configmaps?watch=1", opts()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn resume_off_ends_with_the_stream() {
    let (s, c) = setup();
    let mut o = opts();
    o.resume = false;
    o.timeout_seconds = Some(1);
    let mut w = Watch::new(&c, &path("end"), o).unwrap();
    watchdog(&w);
    s.churn("end", 2, "e");
    assert_eq!(take(&mut w, 2).len(), 2);
    assert!(w.next_event().unwrap().is_none());
}

#[test]
fn selectors_and_initial_events() {
    let (s, c) = setup();
    for (n, app) in [("a", "web"), ("b", "db")] {
        c.request(
            &incluster::Request::new("POST", &path("sel")).with_json(&json!({
                "metadata": {"name": n, "labels": {"app": app}}, "data": {"n": n}
            })),
        )
        .unwrap();
    }
    let mut o = opts();
    o.label_selector = Some("app=web".into());
    o.send_initial_events = true;
    o.resource_version_match = Some("NotOlderThan".into());
    o.deliver_bookmarks = true;
    let mut w = Watch::new(&c, &path("sel"), o).unwrap();
    watchdog(&w);
    let first = w.next_event().unwrap().unwrap();
    assert_eq!(
        (first.kind, obj(&first)["metadata"]["name"].clone()),
        (EventType::Added, json!("a"))
    );
    let marker = w.next_event().unwrap().unwrap();
    assert_eq!(marker.kind, EventType::Bookmark);
    assert_eq!(
        obj(&marker)["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    assert_eq!(s.requests().len(), 3);
}

#[test]
fn poll_next_never_does_io_and_skips_what_it_does_not_hand_out() {
    use incluster::core::stream::Next;
    use incluster::core::watch::event::RawDecoder;
    let (s, c) = setup();
    s.control("PUT", "/_control/watch", Some(r#"{"bookmark_ms": 0}"#));
    s.churn("poll", 15, "p"); // 3 writes each to p-0..p-4; p-0, p-2 and p-4 remain
    let mut o = opts();
    o.send_initial_events = true;
    o.resource_version_match = Some("NotOlderThan".into());
    o.resource_version = Some(String::new());
    let mut w = Watch::new(&c, &path("poll"), o).unwrap();
    watchdog(&w);
    let mut events = Vec::new();
    let mut waits = 0;
    while events.len() < 3 {
        match w.poll_next(&mut RawDecoder).unwrap() {
            Next::Item(e) => events.push(e),
            Next::NeedsIo => {
                waits += 1;
                w.wait().unwrap();
            }
            Next::End => panic!("ended"),
        }
    }
    assert!(waits >= 1);
    // The initial-events-end bookmark came with the events; it is not handed out (bookmarks
    // were not asked for) and, with the server silent, nothing more is buffered: poll_next
    // must answer NeedsIo at once instead of reading. (A read here would block until the
    // watchdog cancels it, 30 s later, and the elapsed-time check would fail.)
    let start = Instant::now();
    assert_eq!(w.poll_next(&mut RawDecoder).unwrap(), Next::NeedsIo);
    assert_eq!(w.poll_next(&mut RawDecoder).unwrap(), Next::NeedsIo);
    assert!(start.elapsed() < Duration::from_secs(5));
    // The bookmark moved the resourceVersion the watch would resume from.
    assert!(w.resource_version().is_some());
}

#[test]
fn watching_one_object_watches_its_collection_by_name() {
    let (s, c) = setup();
    s.churn("one", 9, "o"); // 3 writes each to o-0..o-2; o-1 is deleted
    let mut w = Watch::new(&c, &format!("{}/o-2", path("one")), opts()).unwrap();
    watchdog(&w);
    let first = w.next_event().unwrap().unwrap();
    assert_eq!(obj(&first)["metadata"]["name"], "o-2");
    let last = s.requests().pop().unwrap();
    let target = last["path"].as_str().unwrap_or_default().to_owned()
        + "?"
        + last["query"].as_str().unwrap_or_default();
    assert!(target.starts_with(&path("one")), "{last}");
    assert!(
        target.contains("fieldSelector=metadata.name%3Do-2"),
        "{last}"
    );
    // A subresource cannot be watched: a typed error naming it, before any request.
    let e = Watch::new(&c, &format!("{}/o-2/status", path("one")), opts()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("status subresource"), "{e}");
}

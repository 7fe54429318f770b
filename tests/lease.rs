//! Leader election (the core) against the test API server's Lease store and its faults.

use incluster_testserver::harness as common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::TestServer;
use incluster::core::error::ErrorClass;
use incluster::core::lease::record::micro_time;
use incluster::core::lease::{Election, ElectionConfig, LeaseEvent, Outcome};
use incluster::{Client, Request};
use serde_json::{Value, json};

const TOKEN: &str = "tok-lease-tests";
const NS: &str = "lease-ns";
const PATH: &str = "/apis/coordination.k8s.io/v1/namespaces/lease-ns/leases/lock";

/// A generous bound on any wait, so that a bug fails a test instead of hanging it.
const PATIENCE: Option<Duration> = Some(Duration::from_secs(30));

fn setup() -> (TestServer, Client) {
    let s = TestServer::start(&["--token", TOKEN]);
    let c = Client::new(s.config().with_token(TOKEN).with_namespace(NS)).unwrap();
    (s, c)
}

/// Short durations (3 s / 2 s / 0.3 s), so that expiry tests take seconds.
fn cfg(identity: &str) -> ElectionConfig {
    ElectionConfig {
        identity: Some(identity.into()),
        lease_duration: Duration::from_secs(3),
        renew_deadline: Duration::from_secs(2),
        retry_period: Duration::from_millis(300),
        ..ElectionConfig::new("lock")
    }
}

/// Every event of a contender, with the instant it came.
type Log = Arc<Mutex<Vec<(Instant, LeaseEvent)>>>;

fn start(c: &Client, cfg: ElectionConfig) -> (Election, Log) {
    let log: Log = Arc::default();
    let l = log.clone();
    let e = Election::start(c, cfg, move |ev| {
        l.lock().unwrap().push((Instant::now(), ev))
    })
    .unwrap();
    (e, log)
}

fn lease(c: &Client) -> Value {
    c.get_json(PATH).unwrap()
}

fn events(log: &Log) -> Vec<LeaseEvent> {
    log.lock().unwrap().iter().map(|(_, e)| e.clone()).collect()
}

/// The leadership intervals in a log: (Started, Stopped) instants.
fn intervals(log: &Log) -> Vec<(Instant, Option<Instant>)> {
    let mut out: Vec<(Instant, Option<Instant>)> = Vec::new();
    for (t, e) in log.lock().unwrap().iter() {
        match e {
            LeaseEvent::Started => out.push((*t, None)),
            LeaseEvent::Stopped(_) => {
                if let Some(last) = out.last_mut() {
                    last.1 = Some(*t);
                }
            }
            _ => {}
        }
    }
    out
}

/// Write a Lease directly, as another (client-go) contender would have.
fn put_lease(c: &Client, holder: &str, secs: i64, transitions: i64, renew: &str) {
    let body = json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "lock", "namespace": NS},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": secs,
                 "acquireTime": renew, "renewTime": renew, "leaseTransitions": transitions},
    });
    let path = "/apis/coordination.k8s.io/v1/namespaces/lease-ns/leases";
    c.request(&Request::new("POST", path).with_json(&body))
        .unwrap();
}

#[test]
fn a_lone_contender_creates_the_lease_leads_and_releases_it_on_stop() {
    let (_s, c) = setup();
    let (a, log) = start(&c, cfg("a"));
    assert!(a.wait_leader(PATIENCE).unwrap());
    assert!(a.is_leader());
    let l = lease(&c);
    assert_eq!(l["spec"]["holderIdentity"], "a");
    assert_eq!(l["spec"]["leaseDurationSeconds"], 3);
    assert_eq!(l["spec"]["leaseTransitions"], 0);
    let renew = l["spec"]["renewTime"].as_str().unwrap();
    // client-go's MicroTime: RFC 3339, UTC, six fractional digits.
    assert!(renew.ends_with('Z') && renew.len() == 27, "{renew}");
    assert_eq!(a.stop(), Some(Ok(Outcome::Released)));
    assert!(!a.is_leader());
    let l = lease(&c);
    assert_eq!(l["spec"]["holderIdentity"], "");
    assert_eq!(l["spec"]["leaseDurationSeconds"], 1);
    assert_eq!(l["spec"]["leaseTransitions"], 0);
    let ev = events(&log);
    assert_eq!(ev[0], LeaseEvent::NewLeader("a".into()));
    assert_eq!(ev[1], LeaseEvent::Started);
    assert_eq!(
        ev.last(),
        Some(&LeaseEvent::Stopped("released the Lease".into()))
    );
}

#[test]
fn a_follower_takes_over_after_the_release_and_the_transition_is_counted() {
    let (_s, c) = setup();
    let (a, alog) = start(&c, cfg("a"));
    assert!(a.wait_leader(PATIENCE).unwrap());
    let (b, blog) = start(
        &c,
        ElectionConfig {
            // Without the release, B would wait out 30 s: the test's patience is what fails.
            lease_duration: Duration::from_secs(60),
            ..cfg("b")
        },
    );
    // B has seen A hold it before A lets go.
    while !events(&blog).contains(&LeaseEvent::NewLeader("a".into())) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!b.is_leader());
    a.stop();
    assert!(b.wait_leader(PATIENCE).unwrap());
    let l = lease(&c);
    assert_eq!(l["spec"]["holderIdentity"], "b");
    assert_eq!(l["spec"]["leaseTransitions"], 1);
    let (ia, ib) = (intervals(&alog), intervals(&blog));
    assert!(ia[0].1.unwrap() <= ib[0].0, "A's leadership overlaps B's");
    b.stop();
    // The release keeps the transitions.
    assert_eq!(lease(&c)["spec"]["leaseTransitions"], 1);
}

#[test]
fn an_unrenewed_lease_is_taken_over_once_it_expires() {
    let (_s, c) = setup();
    let now = micro_time(std::time::SystemTime::now());
    put_lease(&c, "ghost", 1, 4, &now);
    let (b, blog) = start(&c, cfg("b"));
    assert!(b.wait_leader(PATIENCE).unwrap());
    let l = lease(&c);
    assert_eq!(l["spec"]["holderIdentity"], "b");
    assert_eq!(l["spec"]["leaseTransitions"], 5);
    assert_ne!(l["spec"]["acquireTime"], now.as_str());
    let ev = events(&blog);
    assert_eq!(ev[0], LeaseEvent::NewLeader("ghost".into()));
    // It read the Lease more than once: the first sight starts the expiry clock.
    assert!(b.rounds() >= 2, "{}", b.rounds());
}

#[test]
fn expiry_is_judged_by_the_local_clock_not_by_renew_time() {
    let (_s, c) = setup();
    // A renewTime from 2001 by this node's clock: a client comparing wall clocks would take
    // the Lease at once; client-go's rule (and ours) waits the duration from first sight.
    put_lease(&c, "skewed", 30, 0, "2001-01-01T00:00:00.000000Z");
    let (b, _) = start(
        &c,
        ElectionConfig {
            wait_timeout: Some(Duration::from_secs(2)),
            ..cfg("b")
        },
    );
    assert!(!b.wait_leader(PATIENCE).unwrap());
    assert_eq!(b.wait(PATIENCE).unwrap(), Some(Ok(Outcome::WaitTimedOut)));
    assert_eq!(lease(&c)["spec"]["holderIdentity"], "skewed");
}

#[test]
fn a_conflict_loses_the_round_and_the_next_round_wins() {
    let (s, c) = setup();
    put_lease(&c, "", 1, 2, &micro_time(std::time::SystemTime::now()));
    s.set_lease_faults(&json!({"conflicts": 1}));
    let (b, _) = start(&c, cfg("b"));
    assert!(b.wait_leader(PATIENCE).unwrap());
    assert!(b.rounds() >= 2, "{}", b.rounds());
    let l = lease(&c);
    assert_eq!(l["spec"]["holderIdentity"], "b");
    assert_eq!(l["spec"]["leaseTransitions"], 3);
    let puts = s
        .requests()
        .iter()
        .filter(|r| r["method"] == "PUT" && r["path"] == PATH)
        .count();
    assert!(puts >= 2, "{puts}");
}

#[test]
fn forbidden_names_the_missing_verb_and_resource() {
    let (s, c) = setup();
    s.set_lease_faults(&json!({"forbidden": true}));
    let (b, _) = start(&c, cfg("b"));
    let e = b.wait_leader(PATIENCE).unwrap_err();
    assert_eq!(e.class(), ErrorClass::Forbidden);
    let m = e.to_string();
    assert!(
        m.contains("cannot get leases.coordination.k8s.io in namespace lease-ns"),
        "{m}"
    );
    assert!(!m.contains(TOKEN));
}

#[test]
fn a_refusal_after_the_lease_was_read_is_retried_not_the_end() {
    // As right after an API server restart, before its RBAC caches are filled: 403 for a
    // moment, to contenders that have read the Lease before.
    let (s, c) = setup();
    let (a, alog) = start(&c, cfg("a"));
    assert!(a.wait_leader(PATIENCE).unwrap());
    let (b, blog) = start(&c, cfg("b"));
    while !events(&blog).contains(&LeaseEvent::NewLeader("a".into())) {
        std::thread::sleep(Duration::from_millis(20));
    }
    s.set_lease_faults(&json!({"forbidden": true}));
    let refused = |log: &Log| {
        events(log)
            .iter()
            .any(|e| matches!(e, LeaseEvent::Retrying(m) if m.contains("cannot")))
    };
    let until = Instant::now() + PATIENCE.unwrap();
    while !(refused(&alog) && refused(&blog)) {
        assert!(
            Instant::now() < until,
            "a 403 ended the election instead of being retried:\n{:?}\n{:?}",
            events(&alog),
            events(&blog)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    s.set_lease_faults(&json!({"forbidden": false}));
    // Both are still in the election: A renews again, and B takes over when A lets go.
    assert!(a.is_leader(), "{:?}", events(&alog));
    a.stop();
    assert!(b.wait_leader(PATIENCE).unwrap(), "{:?}", events(&blog));
    assert_eq!(lease(&c)["spec"]["holderIdentity"], "b");
    b.stop();
}

#[test]
fn a_leader_that_cannot_renew_steps_down_before_another_takes_over() {
    let (s, c) = setup();
    let (a, alog) = start(&c, cfg("a"));
    assert!(a.wait_leader(PATIENCE).unwrap());
    let (b, blog) = start(&c, cfg("b"));
    while !events(&blog).contains(&LeaseEvent::NewLeader("a".into())) {
        std::thread::sleep(Duration::from_millis(20));
    }
    // The API server goes away for longer than the renew deadline.
    s.set_lease_faults(&json!({"unavailable": true}));
    assert!(a.wait_not_leader(PATIENCE).unwrap());
    let out = a.wait(PATIENCE).unwrap().unwrap().unwrap();
    let Outcome::Lost(reason) = out else {
        panic!("{out:?}")
    };
    assert!(reason.contains("renew deadline"), "{reason}");
    s.set_lease_faults(&json!({"unavailable": false}));
    assert!(b.wait_leader(PATIENCE).unwrap());
    let (ia, ib) = (intervals(&alog), intervals(&blog));
    assert!(
        !ia.is_empty() && !ib.is_empty(),
        "{:?}\n{:?}",
        events(&alog),
        events(&blog)
    );
    assert!(ia[0].1.unwrap() < ib[0].0, "A led while B did");
    assert_eq!(lease(&c)["spec"]["leaseTransitions"], 1);
    // A says why on its Stopped event.
    assert!(
        events(&alog)
            .iter()
            .any(|e| matches!(e, LeaseEvent::Stopped(r) if r.contains("could not be renewed")))
    );
}

#[test]
fn invalid_settings_are_refused_before_anything_is_sent() {
    let (s, c) = setup();
    let bad = ElectionConfig {
        renew_deadline: Duration::from_secs(3),
        ..cfg("a")
    };
    let e = Election::start(&c, bad, |_| {}).unwrap_err();
    assert_eq!(e.class(), ErrorClass::InvalidArgument);
    assert!(e.to_string().contains("lease duration (3s)"), "{e}");
    assert!(s.requests().is_empty());
}

#[test]
fn one_request_per_round_and_at_most_one_round_per_retry_period() {
    let (s, c) = setup();
    let (a, _) = start(&c, cfg("a"));
    assert!(a.wait_leader(PATIENCE).unwrap());
    let (b, _) = start(&c, cfg("b"));
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(3));
    drop(b);
    let elapsed = t0.elapsed();
    // Stopped first, so that no round starts after the count is read.
    a.stop();
    let ra = a.rounds();
    let reqs: Vec<Value> = s
        .requests()
        .into_iter()
        .filter(|r| r["path"].as_str().unwrap_or("").contains("/leases"))
        .collect();
    let count = |m: &str| reqs.iter().filter(|r| r["method"] == m).count() as u64;
    // A: GET (404) + POST in its first round, then one PUT per round, then the release PUT.
    // B: one GET per round (it never writes: the Lease is held).
    assert_eq!(count("POST"), 1);
    assert_eq!(count("PUT"), (ra - 1) + 1, "A's renewals");
    let b_gets = count("GET") - 1;
    eprintln!(
        "lease requests over {elapsed:?} at a 300 ms retry period: leader {} renewals, \
         follower {b_gets} reads",
        ra - 1
    );
    // No more than one round per retry period (the leader) and per jittered retry period
    // (the follower), over the whole run.
    let periods = (t0.elapsed().as_secs_f64() / 0.3).ceil() as u64 + 1;
    assert!(ra - 1 <= periods + 1, "{ra} rounds in {periods} periods");
    assert!(
        b_gets <= periods,
        "{b_gets} follower reads in {periods} periods"
    );
    assert!(b_gets >= 1);
}

//! The core wait against the test API server: ConfigMaps carrying a `status.conditions` list
//! stand in for Jobs and Pods (the server keeps every field it is given).

use incluster_testserver::harness as common;

use std::time::Duration;

use common::TestServer;
use incluster::core::cancel::CancelHandle;
use incluster::core::wait::{Met, Target, WaitOptions, target, wait};
use incluster::core::watch::WatchOptions;
use incluster::{Client, Error, Request};
use serde_json::{Value, json};

const TOKEN: &str = "tok-wait-tests";

fn setup() -> (TestServer, Client) {
    let s = TestServer::start(&["--token", TOKEN]);
    let c = Client::new(s.config().with_token(TOKEN)).unwrap();
    (s, c)
}

fn coll(ns: &str) -> String {
    format!("/api/v1/namespaces/{ns}/configmaps")
}

fn one(c: &Client, ns: &str, name: &str) -> Target {
    target(c, &format!("{}/{name}", coll(ns)), None, None).unwrap()
}

fn selection(c: &Client, ns: &str, sel: &str) -> Target {
    target(c, &coll(ns), None, Some(sel)).unwrap()
}

/// Options with quick reconnects and a generous timeout, so a bug fails a test rather than
/// hanging the suite.
fn opts(all: &[&str], any: &[&str], fail_on: &[&str]) -> WaitOptions {
    let mut o = WaitOptions::parse(all, any, fail_on).unwrap();
    o.timeout = Some(Duration::from_secs(30));
    o.watch = WatchOptions {
        backoff_initial: Duration::from_millis(5),
        backoff_max: Duration::from_millis(50),
        ..WatchOptions::default()
    };
    o
}

fn cm(name: &str, labels: Value, conditions: Value) -> Value {
    json!({"metadata": {"name": name, "labels": labels},
           "status": {"conditions": conditions}})
}

fn create(c: &Client, ns: &str, body: &Value) {
    c.request(&Request::new("POST", &coll(ns)).with_json(body))
        .unwrap();
}

/// Set the object's conditions (a merge patch of `status`, as a controller's status write).
fn set_conditions(c: &Client, ns: &str, name: &str, conditions: Value) {
    let body = json!({"status": {"conditions": conditions}});
    let req = Request::patch(
        &format!("{}/{name}", coll(ns)),
        &incluster::Patch::new(incluster::PatchType::Merge, None, false).unwrap(),
        serde_json::to_vec(&body).unwrap(),
    );
    c.request(&req).unwrap();
}

fn delete(c: &Client, ns: &str, name: &str) {
    c.request(&Request::new("DELETE", &format!("{}/{name}", coll(ns))))
        .unwrap();
}

fn ready(status: &str) -> Value {
    json!([{"type": "Ready", "status": status}])
}

/// Block until the wait has opened its watch (so what the test does next happens while it
/// waits, not before its list).
fn until_watching(s: &TestServer) {
    for _ in 0..3000 {
        if s.requests()
            .iter()
            .any(|r| r["path"].as_str().unwrap_or_default().contains("watch=1"))
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("the wait never opened a watch");
}

fn in_background(
    c: &Client,
    t: Target,
    o: WaitOptions,
) -> std::thread::JoinHandle<Result<Met, Error>> {
    let c = c.clone();
    std::thread::spawn(move || wait(&c, &t, &o, &CancelHandle::new()))
}

fn names(m: &Met) -> Vec<String> {
    m.objects
        .iter()
        .map(|o| {
            let v: Value = serde_json::from_slice(&o.object).unwrap();
            v["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[test]
fn an_already_met_condition_is_one_list_and_no_watch() {
    let (s, c) = setup();
    create(&c, "a", &cm("x", json!({}), ready("True")));
    s.clear_requests();
    let m = wait(
        &c,
        &one(&c, "a", "x"),
        &opts(&["condition=ready"], &[], &[]),
        &CancelHandle::new(),
    )
    .unwrap();
    assert_eq!(names(&m), ["x"]);
    assert_eq!(m.objects[0].met, ["condition=ready=True"]);
    let reqs = s.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    let p = reqs[0]["path"].as_str().unwrap();
    assert!(
        p.contains("fieldSelector=metadata.name%3Dx") && !p.contains("watch"),
        "{p}"
    );
}

#[test]
fn an_object_created_later_is_waited_for() {
    let (s, c) = setup();
    let h = in_background(
        &c,
        one(&c, "b", "later"),
        opts(&["condition=Ready"], &[], &[]),
    );
    until_watching(&s);
    create(&c, "b", &cm("later", json!({}), ready("False")));
    set_conditions(&c, "b", "later", ready("True"));
    let m = h.join().unwrap().unwrap();
    assert_eq!(names(&m), ["later"]);
    let v: Value = serde_json::from_slice(&m.objects[0].object).unwrap();
    assert_eq!(v["status"]["conditions"][0]["status"], "True");
}

#[test]
fn for_any_reports_which_and_fail_on_is_unmeetable() {
    let (s, c) = setup();
    create(&c, "c", &cm("ok", json!({}), json!([])));
    create(&c, "c", &cm("bad", json!({}), json!([])));
    let any = &["condition=Complete", "condition=Failed"];
    let h = in_background(&c, one(&c, "c", "ok"), opts(&[], any, &[]));
    until_watching(&s);
    set_conditions(&c, "c", "ok", json!([{"type": "Failed", "status": "True"}]));
    let m = h.join().unwrap().unwrap();
    assert_eq!(m.objects[0].met, ["condition=Failed=True"]);

    s.clear_requests();
    let o = opts(&[], &["condition=Complete"], &["condition=Failed"]);
    let h = in_background(&c, one(&c, "c", "bad"), o);
    until_watching(&s);
    set_conditions(
        &c,
        "c",
        "bad",
        json!([{"type": "failed", "status": "true"}]),
    );
    let e = h.join().unwrap().unwrap_err();
    assert!(matches!(e, Error::Unmeetable(_)), "{e}");
    assert_eq!(e.class().exit_code(), 8);
    assert!(
        e.to_string()
            .contains("c/bad: the failure condition condition=Failed=True is met"),
        "{e}"
    );
}

#[test]
fn deletion_meets_delete_and_ends_other_waits() {
    let (s, c) = setup();
    create(&c, "d", &cm("gone", json!({}), json!([])));
    let h = in_background(
        &c,
        one(&c, "d", "gone"),
        opts(&["condition=Ready"], &[], &[]),
    );
    until_watching(&s);
    delete(&c, "d", "gone");
    let e = h.join().unwrap().unwrap_err();
    assert!(matches!(e, Error::Unmeetable(_)), "{e}");
    assert!(
        e.to_string()
            .contains("deleted while waiting for condition=Ready=True"),
        "{e}"
    );

    create(&c, "d", &cm("del", json!({}), json!([])));
    s.clear_requests();
    let h = in_background(&c, one(&c, "d", "del"), opts(&["delete"], &[], &[]));
    until_watching(&s);
    delete(&c, "d", "del");
    let m = h.join().unwrap().unwrap();
    // The object's last state is what met it.
    assert_eq!(names(&m), ["del"]);
    // An object that does not exist is deleted already.
    let m = wait(
        &c,
        &one(&c, "d", "never"),
        &opts(&["delete"], &[], &[]),
        &CancelHandle::new(),
    )
    .unwrap();
    assert_eq!(names(&m), ["never"]);
}

#[test]
fn a_selection_must_meet_it_all_and_the_empty_one_only_when_allowed() {
    let (s, c) = setup();
    for n in ["p1", "p2", "p3"] {
        create(&c, "e", &cm(n, json!({"app": "web"}), ready("False")));
    }
    create(&c, "e", &cm("other", json!({"app": "db"}), ready("False")));
    let h = in_background(
        &c,
        selection(&c, "e", "app=web"),
        opts(&["condition=Ready"], &[], &[]),
    );
    until_watching(&s);
    for n in ["p1", "p2", "p3"] {
        set_conditions(&c, "e", n, ready("True"));
    }
    let m = h.join().unwrap().unwrap();
    assert_eq!(names(&m), ["p1", "p2", "p3"]);

    // Nothing matches: not met (here: check once) unless the empty set is allowed.
    let mut o = opts(&["condition=Ready"], &[], &[]);
    o.timeout = Some(Duration::ZERO);
    let e = wait(
        &c,
        &selection(&c, "e", "app=none"),
        &o,
        &CancelHandle::new(),
    )
    .unwrap_err();
    assert!(matches!(e, Error::WaitTimeout(_)), "{e}");
    o.allow_empty = true;
    let m = wait(
        &c,
        &selection(&c, "e", "app=none"),
        &o,
        &CancelHandle::new(),
    )
    .unwrap();
    assert!(m.objects.is_empty());
    // `delete` over a selection: met when nothing matches any more.
    let h = in_background(
        &c,
        selection(&c, "e", "app=web"),
        opts(&["delete"], &[], &[]),
    );
    for n in ["p1", "p2", "p3"] {
        delete(&c, "e", n);
    }
    assert!(h.join().unwrap().unwrap().objects.is_empty());
}

#[test]
fn drops_and_410_during_the_wait_lose_nothing() {
    let (s, c) = setup();
    create(&c, "f", &cm("j", json!({}), json!([])));
    // Every watch connection breaks after one event, and every other one says 410.
    s.set_watch(&json!({"drop_every": 1, "drop_mid_line": true}));
    let h = in_background(
        &c,
        one(&c, "f", "j"),
        opts(&["jsonpath={.data.step}=5"], &[], &[]),
    );
    until_watching(&s);
    for step in 1..=5 {
        let req = Request::patch(
            &format!("{}/j", coll("f")),
            &incluster::Patch::new(incluster::PatchType::Merge, None, false).unwrap(),
            serde_json::to_vec(&json!({"data": {"step": step.to_string()}})).unwrap(),
        );
        c.request(&req).unwrap();
        if step == 3 {
            s.set_watch(&json!({"drop_every": 0, "error_410_after": 1}));
        }
    }
    let m = h.join().unwrap().unwrap();
    assert_eq!(m.objects[0].met, ["jsonpath={.data.step}=5"]);
    let watches = s
        .requests()
        .iter()
        .filter(|r| r["path"].as_str().unwrap_or_default().contains("watch=1"))
        .count();
    assert!(
        watches >= 2,
        "the watch was never resumed ({watches} watch requests)"
    );
}

#[test]
fn the_timeout_and_a_cancel_end_the_wait() {
    let (_s, c) = setup();
    create(&c, "g", &cm("slow", json!({}), ready("False")));
    let mut o = opts(&["condition=Ready"], &[], &[]);
    o.timeout = Some(Duration::from_millis(300));
    let e = wait(&c, &one(&c, "g", "slow"), &o, &CancelHandle::new()).unwrap_err();
    assert!(matches!(e, Error::WaitTimeout(_)), "{e}");
    assert_eq!(e.class().exit_code(), 7);
    assert!(
        e.to_string()
            .contains("configmaps/slow did not meet condition=Ready=True within 300ms"),
        "{e}"
    );

    let cancel = CancelHandle::new();
    let (c2, t, o2, k) = (
        c.clone(),
        one(&c, "g", "slow"),
        opts(&["condition=Ready"], &[], &[]),
        cancel.clone(),
    );
    let h = std::thread::spawn(move || wait(&c2, &t, &o2, &k));
    std::thread::sleep(Duration::from_millis(100));
    cancel.cancel();
    assert!(matches!(h.join().unwrap(), Err(Error::Cancelled)));
}

#[test]
fn bad_input_is_named() {
    let (_s, c) = setup();
    create(
        &c,
        "h",
        &cm("two", json!({}), json!([{"type": "A"}, {"type": "B"}])),
    );
    let e = wait(
        &c,
        &one(&c, "h", "two"),
        &opts(&["jsonpath={.status.conditions[*].type}=A"], &[], &[]),
        &CancelHandle::new(),
    )
    .unwrap_err();
    assert!(
        matches!(e, Error::InvalidArgument(_))
            && e.to_string().contains("selects 2 values in h/two"),
        "{e}"
    );
    // Names are resolved through discovery; an unknown one is an argument error.
    let e = target(&c, "deploymnet/web", None, None).unwrap_err();
    assert!(
        matches!(e, Error::InvalidArgument(_))
            && e.to_string().contains("did you mean deployments.apps?"),
        "{e}"
    );
    let e = WaitOptions::parse(&["condition"], &[], &[]).unwrap_err();
    assert!(
        e.to_string().contains("wait condition \"condition\""),
        "{e}"
    );
    let e = wait(
        &c,
        &one(&c, "h", "two"),
        &WaitOptions::default(),
        &CancelHandle::new(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("no condition given"), "{e}");
}

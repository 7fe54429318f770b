//! Resources by name (`core::discovery`) against the loopback test API server: every kubectl
//! form, the namespace rules, the cache (two requests, a refetch on a miss), the legacy
//! discovery fallback, kubectl's priority between groups and the did-you-mean error.

use incluster::{Client, ErrorKind};
use incluster_testserver::harness::TestServer;

const TOKEN: &str = "tok-names-tests-81d3";

fn setup() -> (TestServer, Client) {
    let s = TestServer::start(&["--token", TOKEN]);
    let c = Client::new(s.config().with_token(TOKEN).with_namespace("home")).unwrap();
    (s, c)
}

/// The discovery requests the server received since the last clear.
fn discovery_requests(s: &TestServer) -> Vec<String> {
    s.requests()
        .into_iter()
        .filter_map(|r| r["path"].as_str().map(str::to_owned))
        .filter(|p| {
            p == "/api" || p == "/apis" || p.starts_with("/api/v1") || p.starts_with("/apis/")
        })
        .collect()
}

fn path(c: &Client, what: &str, ns: Option<&str>, all: bool) -> String {
    c.resolve(what, ns, all)
        .unwrap_or_else(|e| panic!("{what}: {e}"))
        .path
}

fn add_crd(s: &TestServer) {
    s.control(
        "POST",
        "/_control/discovery/resources",
        Some(
            r#"{"group":"stable.example.com","version":"v1","plural":"crontabs",
                "singular":"crontab","kind":"CronTab","shortNames":["ct"]}"#,
        ),
    );
}

#[test]
fn every_kubectl_form_resolves_to_its_path() {
    let (_s, c) = setup();
    for (what, want) in [
        ("pods", "/api/v1/namespaces/home/pods"),
        ("po", "/api/v1/namespaces/home/pods"),
        ("Pod", "/api/v1/namespaces/home/pods"),
        ("pod/web-0", "/api/v1/namespaces/home/pods/web-0"),
        ("cm", "/api/v1/namespaces/home/configmaps"),
        ("cm/x", "/api/v1/namespaces/home/configmaps/x"),
        (
            "deploy/web",
            "/apis/apps/v1/namespaces/home/deployments/web",
        ),
        (
            "deployments.apps/web",
            "/apis/apps/v1/namespaces/home/deployments/web",
        ),
        (
            "deployments.v1.apps",
            "/apis/apps/v1/namespaces/home/deployments",
        ),
        ("jobs.batch", "/apis/batch/v1/namespaces/home/jobs"),
        ("Deployment", "/apis/apps/v1/namespaces/home/deployments"),
        // Cluster-scoped: no namespace in the path.
        ("ns/kube-system", "/api/v1/namespaces/kube-system"),
        ("namespaces", "/api/v1/namespaces"),
        // A path stays a path.
        ("/api/v1/namespaces/x/pods", "/api/v1/namespaces/x/pods"),
    ] {
        assert_eq!(path(&c, what, None, false), want, "{what}");
    }
    let r = c.resolve("deploy/web", Some("prod"), false).unwrap();
    assert_eq!(r.path, "/apis/apps/v1/namespaces/prod/deployments/web");
    assert_eq!(r.name.as_deref(), Some("web"));
    assert_eq!(r.namespace.as_deref(), Some("prod"));
    let res = r.resource.unwrap();
    assert_eq!(
        (
            res.group.as_str(),
            res.version.as_str(),
            res.plural.as_str()
        ),
        ("apps", "v1", "deployments")
    );
    assert_eq!((res.kind.as_str(), res.namespaced), ("Deployment", true));
    // All namespaces: the cross-namespace collection; a cluster-scoped one ignores it.
    assert_eq!(path(&c, "pods", None, true), "/api/v1/pods");
    assert_eq!(
        path(&c, "deploy", Some("x"), true),
        "/apis/apps/v1/deployments"
    );
    assert_eq!(path(&c, "ns", Some("x"), false), "/api/v1/namespaces");
    assert_eq!(
        c.resolve("deploy/web", None, false)
            .unwrap()
            .collection_path(),
        "/apis/apps/v1/namespaces/home/deployments"
    );
    assert_eq!(
        c.resolve("ns/x", None, false).unwrap().collection_path(),
        "/api/v1/namespaces"
    );
    assert_eq!(
        c.resolve("/api/v1/namespaces/a/pods/b", None, false)
            .unwrap()
            .collection_path(),
        "/api/v1/namespaces/a/pods"
    );
    let p = c.resolve("/api/v1/pods", None, false).unwrap();
    assert_eq!((p.name, p.namespace, p.resource), (None, None, None));
}

#[test]
fn bad_names_are_argument_errors_that_name_them() {
    let (_s, c) = setup();
    let e = c.resolve("deploymnet", None, false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert_eq!(
        e.to_string(),
        "invalid argument: no resource \"deploymnet\"; did you mean deployments.apps?"
    );
    let e = c.resolve("jobs.batc/x", None, false).unwrap_err();
    assert!(e.to_string().contains("did you mean jobs.batch?"), "{e}");
    let e = c.resolve("zzqqxx", None, false).unwrap_err();
    assert!(
        e.to_string()
            .contains("no resource \"zzqqxx\" on the server"),
        "{e}"
    );
    for (what, says) in [
        ("pod/a b", "object name \"a b\""),
        ("pod/", "object name \"\""),
        ("/x", "names its namespace itself"),
        ("api/v1/pods", "must start with '/'"),
        ("/nothing", ""),
    ] {
        let all = what == "/x";
        match c.resolve(what, None, all) {
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{what}");
                assert!(e.to_string().contains(says), "{what}: {e}");
            }
            Ok(r) => assert_eq!((what, r.path.as_str()), ("/nothing", "/nothing")),
        }
    }
    let e = c.resolve("pod/web-0", None, true).unwrap_err();
    assert!(e.to_string().contains("across all namespaces"), "{e}");
    let e = c.resolve("pods", Some("a/b"), false).unwrap_err();
    assert!(e.to_string().contains("namespace \"a/b\""), "{e}");
}

#[test]
fn discovery_is_two_requests_cached_and_refetched_once_on_a_miss() {
    let (s, c) = setup();
    s.clear_requests();
    path(&c, "pods", None, false);
    path(&c, "deploy", None, false);
    path(&c, "jobs.batch/x", None, false);
    // A path never asks discovery.
    path(&c, "/api/v1/pods", None, false);
    assert_eq!(discovery_requests(&s), ["/api", "/apis"]);

    // A CRD created now is found by every name at once: the miss refetches.
    add_crd(&s);
    s.clear_requests();
    for what in [
        "crontabs",
        "crontab",
        "ct",
        "CronTab",
        "crontabs.stable.example.com",
    ] {
        assert_eq!(
            path(&c, &format!("{what}/a"), None, false),
            "/apis/stable.example.com/v1/namespaces/home/crontabs/a",
            "{what}"
        );
    }
    assert_eq!(discovery_requests(&s), ["/api", "/apis"]);
    // An unknown name refetches once per lookup, and fails.
    s.clear_requests();
    assert!(c.resolve("nosuch", None, false).is_err());
    assert_eq!(discovery_requests(&s), ["/api", "/apis"]);
    // Clones share the cache.
    s.clear_requests();
    path(&c.clone(), "ct", None, false);
    assert!(discovery_requests(&s).is_empty());
}

#[test]
fn legacy_discovery_when_the_server_has_no_aggregated_documents() {
    let (s, c) = setup();
    s.control(
        "PUT",
        "/_control/discovery",
        Some(r#"{"aggregated": false}"#),
    );
    add_crd(&s);
    s.clear_requests();
    assert_eq!(
        path(&c, "deploy/web", None, false),
        "/apis/apps/v1/namespaces/home/deployments/web"
    );
    assert_eq!(
        path(&c, "ct", None, false),
        "/apis/stable.example.com/v1/namespaces/home/crontabs"
    );
    assert_eq!(path(&c, "po", None, false), "/api/v1/namespaces/home/pods");
    let got = discovery_requests(&s);
    assert_eq!(got[..3], ["/api", "/apis", "/api/v1"], "{got:?}");
    assert!(
        got.contains(&"/apis/stable.example.com/v1".to_owned()),
        "{got:?}"
    );
    assert_eq!(got.iter().filter(|p| *p == "/api").count(), 1, "{got:?}");
}

#[test]
fn the_core_group_and_earlier_groups_win_as_in_kubectl() {
    let (s, c) = setup();
    // A later group reusing a core plural and short name, and another reusing apps' plural.
    s.control(
        "POST",
        "/_control/discovery/resources",
        Some(r#"{"group":"shadow.example.com","version":"v1","plural":"configmaps","kind":"ConfigMap","shortNames":["cm","deploy"]}"#),
    );
    s.control(
        "POST",
        "/_control/discovery/resources",
        Some(r#"{"group":"zz.example.com","version":"v1","plural":"deployments","kind":"Deployment"}"#),
    );
    assert_eq!(
        path(&c, "configmaps", None, false),
        "/api/v1/namespaces/home/configmaps"
    );
    assert_eq!(
        path(&c, "cm", None, false),
        "/api/v1/namespaces/home/configmaps"
    );
    assert_eq!(
        path(&c, "deploy", None, false),
        "/apis/apps/v1/namespaces/home/deployments"
    );
    assert_eq!(
        path(&c, "deployments", None, false),
        "/apis/apps/v1/namespaces/home/deployments"
    );
    assert_eq!(
        path(&c, "configmaps.shadow.example.com", None, false),
        "/apis/shadow.example.com/v1/namespaces/home/configmaps"
    );
    // A kind through the apiVersion, as apply resolves a manifest.
    let r = c
        .resource_for_kind("zz.example.com/v1", "Deployment")
        .unwrap();
    assert_eq!(r.group, "zz.example.com");
    let e = c.resource_for_kind("apps/v2", "Deployment").unwrap_err();
    assert!(
        e.to_string()
            .contains("(the server has Deployment in apps/v1)"),
        "{e}"
    );
}

#[test]
fn wait_targets_take_names() {
    use incluster::core::wait::target;
    let (_s, c) = setup();
    let t = target(&c, "deploy/web", Some("x"), None).unwrap();
    assert_eq!(
        (t.collection.as_str(), t.name.as_deref()),
        ("/apis/apps/v1/namespaces/x/deployments", Some("web"))
    );
    let t = target(&c, "cm", None, Some("app=web")).unwrap();
    assert_eq!(
        (t.collection.as_str(), t.label_selector.as_deref()),
        ("/api/v1/namespaces/home/configmaps", Some("app=web"))
    );
    let e = target(&c, "cm/x", None, Some("app=web")).unwrap_err();
    assert!(e.to_string().contains("applies to a collection"), "{e}");
    let e = target(&c, "jbos/x", None, None).unwrap_err();
    assert!(e.to_string().contains("did you mean jobs.batch?"), "{e}");
}

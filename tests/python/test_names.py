"""Resources by name from Python, against the loopback test API server: every method that
takes a path takes a kubectl name too, with namespace= and all_namespaces=; resolve() and
apply(); the did-you-mean error."""

from __future__ import annotations

from typing import Any

import pytest

import incluster
from conftest import Server, explicit

CRONTAB = {
    "group": "stable.example.com",
    "version": "v1",
    "plural": "crontabs",
    "singular": "crontab",
    "kind": "CronTab",
    "shortNames": ["ct"],
}


def sent(server: Server, method: str) -> list[str]:
    return [r["path"] for r in server.requests() if r["method"] == method]


def test_every_method_takes_names(server: Server) -> None:
    c = explicit(server, namespace="py")
    c.post("configmaps", {"metadata": {"name": "a", "labels": {"app": "web"}}})
    c.post("cm", {"metadata": {"name": "b"}}, namespace="other")
    assert c.get("cm/a")["metadata"]["name"] == "a"
    assert c.get("ConfigMap/b", namespace="other")["metadata"]["namespace"] == "other"
    names = [i["metadata"]["name"] for i in c.get("cm", all_namespaces=True)["items"]]
    assert sorted(names) == ["a", "b"]
    c.put("cm/a", {"metadata": {"name": "a"}, "data": {"k": "v"}})
    assert c.patch("cm/a", {"data": {"k": "w"}})["data"] == {"k": "w"}
    assert c.request("GET", "configmaps/a")["data"] == {"k": "w"}
    assert c.request_raw("GET", "cm/a").json()["data"] == {"k": "w"}
    w = c.watch("cm/a", resume=False, timeout_seconds=1)
    with w:
        first = next(iter(w))
        assert (first.type, first.object["metadata"]["name"]) == ("ADDED", "a")
    c.delete("cm/b", namespace="other")
    with pytest.raises(incluster.NotFound):
        c.get("cm/b", namespace="other")
    # Paths stay paths: sent unchanged, no discovery.
    server.clear_requests()
    assert c.get("/api/v1/namespaces/py/configmaps/a")["metadata"]["name"] == "a"
    assert sent(server, "GET") == ["/api/v1/namespaces/py/configmaps/a"]


def test_resolve_reports_the_resource(server: Server) -> None:
    c = explicit(server, namespace="py")
    r: dict[str, Any] = c.resolve("deploy/web")
    assert r == {
        "path": "/apis/apps/v1/namespaces/py/deployments/web",
        "name": "web",
        "namespace": "py",
        "group": "apps",
        "version": "v1",
        "resource": "deployments",
        "kind": "Deployment",
        "namespaced": True,
    }
    assert c.resolve("jobs.batch", all_namespaces=True)["path"] == "/apis/batch/v1/jobs"
    assert c.resolve("ns/x", namespace="ignored")["path"] == "/api/v1/namespaces/x"
    assert c.resolve("/api/v1/pods")["kind"] is None
    # A resource added at run time (a CRD created a moment ago) is found at once.
    server.control("POST", "/_control/discovery/resources", CRONTAB)
    for what in ["crontabs", "crontab", "ct", "CronTab"]:
        assert c.resolve(what)["path"] == "/apis/stable.example.com/v1/namespaces/py/crontabs"


def test_bad_names_raise_invalid_argument_with_close_matches(server: Server) -> None:
    c = explicit(server)
    with pytest.raises(incluster.InvalidArgument,
                       match='no resource "deploymnet"; did you mean deployments.apps\\?'):
        c.get("deploymnet/web")
    with pytest.raises(incluster.InvalidArgument, match="across all namespaces"):
        c.get("pod/x", all_namespaces=True)
    with pytest.raises(incluster.InvalidArgument, match="names its namespace itself"):
        c.get("/api/v1/pods", namespace="x")
    with pytest.raises(incluster.InvalidArgument, match="must start with '/'"):
        c.get("api/v1/pods")


def test_apply_text_dicts_and_lists(server: Server) -> None:
    c = explicit(server, namespace="py")
    out = c.apply(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y1}\ndata: {k: '1'}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y2, namespace: other}\n",
        field_manager="pytest",
    )
    assert [(o["metadata"]["name"], o["metadata"]["namespace"]) for o in out] == [
        ("y1", "py"), ("y2", "other")]
    server.clear_requests()
    c.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d"}},
            namespace="third", force=True)
    c.apply([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "l"}}])
    assert sent(server, "PATCH") == [
        "/api/v1/namespaces/third/configmaps/d?fieldManager=incluster&force=true",
        "/api/v1/namespaces/py/configmaps/l?fieldManager=incluster",
    ]
    with pytest.raises(incluster.InvalidArgument, match="document 2 \\(ConfigMap f\\): it has no apiVersion"):
        c.apply([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "e"}},
                 {"kind": "ConfigMap", "metadata": {"name": "f"}}])
    with pytest.raises(incluster.InvalidArgument, match="is not the namespace"):
        c.apply({"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": "g", "namespace": "a"}}, namespace="b")
    with pytest.raises(TypeError, match="apply\\(\\) takes a manifest"):
        c.apply(3)  # type: ignore[arg-type,unused-ignore]

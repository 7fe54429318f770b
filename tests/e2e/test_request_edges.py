"""Issue 20's request edges against the real API server, from Python, the CLI and C: what the
server does with fieldManager on a merge patch, what its RBAC says about `GET`, and that an
explicit --server in a pod keeps the pod's identity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import incluster
from cluster import NAMESPACE, Cluster
from conftest import run

CMS = f"/api/v1/namespaces/{NAMESPACE}/configmaps"


def test_python_request_edges(cluster: Cluster) -> None:
    kube = incluster.Client()
    kube.post(CMS, {"metadata": {"name": "py-edges"}, "data": {"k": "v"}})
    item = f"{CMS}/py-edges"
    try:
        # fieldManager is sent with a merge patch: the server records the manager.
        patched = kube.patch(item, {"data": {"m": "1"}}, field_manager="py-edges-mgr")
        managers = {(f["manager"], f["operation"]) for f in patched["metadata"]["managedFields"]}
        assert ("py-edges-mgr", "Update") in managers, managers
        with pytest.raises(incluster.InvalidArgument, match="force is only valid for an apply"):
            kube.patch(item, {"data": {"m": "2"}}, force=True)
        # None drops the key: no `limit=None` for the server to reject.
        assert kube.get(CMS, params={"limit": None, "labelSelector": None})["items"]
    finally:
        kube.delete(item)

    with pytest.raises(incluster.InvalidArgument, match='"FOO" is not supported'):
        kube.request("FOO", "/version")

    with pytest.raises(incluster.DecodeError) as healthz:
        kube.get("/healthz")
    assert "GET /healthz" in str(healthz.value) and "text/plain" in str(healthz.value)
    assert "request_raw" in str(healthz.value)
    assert kube.request_raw("GET", "/healthz").text == "ok"

    # The real authorizer compares verbs exactly: GET is only a yes because it is lower-cased.
    assert kube.can_i("GET", "configmaps") is True
    with pytest.warns(UserWarning, match="verb 'foo' is not a known verb"):
        assert kube.can_i("foo", "configmaps") is False

    # An explicit server in a pod keeps the ServiceAccount: not system:anonymous.
    again = incluster.Client(server=kube.server)
    assert again.whoami()["username"] == "system:serviceaccount:e2e:app"
    assert again.namespace == NAMESPACE


def test_cli_request_edges(cluster: Cluster, cli: Path) -> None:
    server = incluster.Client().server
    who = run([cli, "--server", server, "whoami"])
    assert who.returncode == 0, who.stderr
    assert json.loads(who.stdout)["username"] == "system:serviceaccount:e2e:app"

    bad = run([cli, "request", "FOO", "/version"])
    assert bad.returncode == 2, bad.stderr
    assert '"FOO" is not supported' in bad.stderr

    yes = run([cli, "can-i", "GET", "configmaps"])
    assert (yes.returncode, yes.stdout.strip()) == (0, "yes"), yes.stderr
    unknown = run([cli, "can-i", "foo", "configmaps"])
    assert unknown.stdout.strip() == "no"
    assert "Warning: verb 'foo' is not a known verb" in unknown.stderr


def test_c_request_edges(cluster: Cluster, c_program: Path) -> None:
    out = run([c_program, "edges", "c-edges"])
    print(out.stdout)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "not ok" not in out.stdout
    assert out.stdout.count("ok - ") == 7

"""Requests against the real API server from all three fronts: ConfigMap CRUD with every patch
type, 404, 403 from RBAC with its Status reason, whoami and can-i."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import incluster
from cluster import NAMESPACE, Cluster
from conftest import run

CMS = f"/api/v1/namespaces/{NAMESPACE}/configmaps"


def test_python_crud_and_errors(cluster: Cluster) -> None:
    kube = incluster.Client()
    assert kube.namespace == NAMESPACE
    assert kube.get("/version")["gitVersion"].startswith("v1.")

    made = kube.post(CMS, {"metadata": {"name": "py-crud"}, "data": {"k": "v1"}})
    assert made["data"] == {"k": "v1"}
    with pytest.raises(incluster.Conflict) as conflict:
        kube.post(CMS, {"metadata": {"name": "py-crud"}})
    assert conflict.value.reason == "AlreadyExists"

    item = f"{CMS}/py-crud"
    assert kube.patch(item, {"data": {"merge": "m"}})["data"]["merge"] == "m"
    assert kube.patch(item, [{"op": "replace", "path": "/data/k", "value": "v2"}],
                      patch_type="json")["data"]["k"] == "v2"
    assert kube.patch(item, {"data": {"s": "s"}}, patch_type="strategic")["data"]["s"] == "s"
    applied = kube.patch(item, {"apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": {"name": "py-crud"}, "data": {"a": "a"}},
                         patch_type="apply", force=True)
    assert applied["data"]["a"] == "a"
    current = kube.get(item)
    current["data"]["put"] = "p"
    assert kube.put(item, current)["data"]["put"] == "p"
    names = [i["metadata"]["name"] for i in kube.get(CMS)["items"]]
    assert "py-crud" in names

    # A stale resourceVersion: the server's 409 Conflict.
    with pytest.raises(incluster.Conflict):
        kube.put(item, current)

    kube.delete(item)
    with pytest.raises(incluster.NotFound) as missing:
        kube.get(item)
    assert missing.value.status == 404
    assert missing.value.reason == "NotFound"
    assert "py-crud" in str(missing.value)

    with pytest.raises(incluster.Forbidden) as forbidden:
        kube.get(f"/api/v1/namespaces/{NAMESPACE}/secrets")
    assert forbidden.value.status == 403
    assert forbidden.value.reason == "Forbidden"
    assert "system:serviceaccount:e2e:app" in str(forbidden.value)
    assert "secrets" in str(forbidden.value)


def test_python_whoami_and_can_i(cluster: Cluster) -> None:
    kube = incluster.Client()
    me = kube.whoami()
    assert me["username"] == "system:serviceaccount:e2e:app"
    assert "system:serviceaccounts:e2e" in me["groups"]
    assert me["source"] != "token claims"  # the server answered (SelfSubjectReview)
    assert kube.can_i("create", "configmaps")
    assert kube.can_i("get", "pods", subresource="log")
    assert not kube.can_i("list", "secrets")
    assert not kube.can_i("delete", "configmaps", namespace="kube-system")


def test_cli_crud_and_errors(cluster: Cluster, cli: Path, tmp_path: Path) -> None:
    body = json.dumps({"metadata": {"name": "cli-crud"}, "data": {"k": "v1"}})
    made = run([cli, "request", "POST", CMS, "--data", body])
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["data"] == {"k": "v1"}

    item = f"{CMS}/cli-crud"
    patch = run([cli, "request", "PATCH", item, "--data", '{"data":{"k":"v2"}}',
                 "--content-type", "application/merge-patch+json"])
    assert patch.returncode == 0, patch.stderr
    got = run([cli, "get", item, "-o", "jsonpath={.data.k}"])
    assert (got.returncode, got.stdout.strip()) == (0, "v2")
    names = run([cli, "get", CMS, "-o", "name"])
    assert "cli-crud" in names.stdout

    assert run([cli, "request", "DELETE", item]).returncode == 0
    missing = run([cli, "get", item])
    assert missing.returncode == 5
    assert "NotFound" in missing.stderr and "cli-crud" in missing.stderr

    forbidden = run([cli, "get", f"/api/v1/namespaces/{NAMESPACE}/secrets"])
    assert forbidden.returncode == 5
    assert "Forbidden" in forbidden.stderr and "403" in forbidden.stderr

    who = run([cli, "whoami"])
    assert who.returncode == 0, who.stderr
    assert json.loads(who.stdout)["username"] == "system:serviceaccount:e2e:app"
    yes = run([cli, "can-i", "create", "configmaps"])
    assert (yes.returncode, yes.stdout.strip()) == (0, "yes")
    no = run([cli, "can-i", "list", "secrets"])
    assert (no.returncode, no.stdout.strip()) == (1, "no")

    info = run([cli, "info"])
    assert info.returncode == 0, info.stderr
    token = json.loads(info.stdout)["token"]
    assert token["subject"] == "system:serviceaccount:e2e:app"
    assert token["pod"] == "app-pod"  # bound to the pod, as the kubelet's tokens are
    assert token["issuer"] == "https://kubernetes.default.svc"


def test_c_crud_and_errors(cluster: Cluster, c_program: Path) -> None:
    out = run([c_program, "crud", "c-crud"])
    print(out.stdout)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "not ok" not in out.stdout
    assert out.stdout.count("ok - ") >= 14

"""Token rotation with real ServiceAccount tokens, as the kubelet does it: a new token from the
TokenRequest API, an atomic swap of ``..data``, then the old token made invalid — while Python
threads, a C program and CLI invocations keep calling. 0 failed calls.

Two ways to make the old token invalid:
1. Each token is bound to its own Secret (``boundObjectRef``); deleting the old Secret kills the
   old token only, so callers run straight through the rotation.
2. Deleting and recreating the ServiceAccount kills every token it ever had; the new token can
   only be minted after that, so for a moment no valid token exists anywhere. Calls in that
   window fail with 401 in every client; the test checks that a long-lived client recovers with
   the next call after the kubelet-style swap, with no restart.
"""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest

import incluster
from cluster import NAMESPACE, ApiError, Cluster
from conftest import run

CMS = f"/api/v1/namespaces/{NAMESPACE}/configmaps"


def wait_invalid(cluster: Cluster, token: str) -> None:
    """Until the API server rejects ``token`` (its informers see the deletion)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            cluster.admin("GET", CMS, token=token)
        except ApiError as e:
            if e.status == 401:
                return
            raise
        time.sleep(0.2)
    pytest.fail("the old token still works 30 s after its Secret was deleted")


def test_rotation_with_callers_running(cluster: Cluster, cli: Path, c_program: Path) -> None:
    old = cluster.mint_token(bound_secret="rot-a")
    cluster.write_token(old)
    kube = incluster.Client()
    kube.get(CMS)

    stop = threading.Event()
    ok = [0] * 4
    failures: list[str] = []

    def caller(i: int) -> None:
        while not stop.is_set():
            try:
                kube.get(CMS)
                ok[i] += 1
            except incluster.Error as e:
                failures.append(f"python thread {i}: {e}")
            time.sleep(0.01)

    threads = [threading.Thread(target=caller, args=(i,), daemon=True) for i in range(4)]
    for t in threads:
        t.start()
    c_proc = subprocess.Popen([str(c_program), "loop", "10"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    cli_runs = {"ok": 0, "failed": 0}
    cli_errors: list[str] = []

    def cli_loop() -> None:
        end = time.monotonic() + 10
        while time.monotonic() < end:
            out = run([cli, "get", CMS, "-o", "name"])
            if out.returncode == 0:
                cli_runs["ok"] += 1
            else:
                cli_runs["failed"] += 1
                cli_errors.append(out.stderr)

    cli_thread = threading.Thread(target=cli_loop, daemon=True)
    cli_thread.start()

    time.sleep(2)
    new = cluster.mint_token(bound_secret="rot-b")
    cluster.write_token(new)
    cluster.admin("DELETE", f"/api/v1/namespaces/{NAMESPACE}/secrets/rot-a")
    wait_invalid(cluster, old)
    time.sleep(2)  # calls keep going with the old token dead

    c_out, c_err = c_proc.communicate(timeout=30)
    cli_thread.join(30)
    stop.set()
    for t in threads:
        t.join(10)

    assert failures == []
    assert min(ok) > 10, ok
    assert c_proc.returncode == 0, c_err
    assert c_out.strip().endswith("failed=0"), c_out + c_err
    assert int(c_out.split("ok=")[1].split()[0]) > 50
    assert cli_runs["failed"] == 0, cli_errors[:3]
    assert cli_runs["ok"] > 5


def test_serviceaccount_recreated(cluster: Cluster, cli: Path, c_program: Path) -> None:
    kube = incluster.Client()
    kube.get(CMS)
    old = cluster.mint_token()
    cluster.write_token(old)
    kube.get(CMS)

    cluster.delete_service_account()
    cluster.create_service_account()
    wait_invalid(cluster, old)
    # The window with no valid token: the long-lived client gets the API's 401.
    with pytest.raises(incluster.Unauthorized):
        kube.get(CMS)

    cluster.write_token(cluster.mint_token())
    # The same client object, no restart: the next call uses the new token.
    assert kube.get(CMS)["kind"] == "ConfigMapList"
    out = run([c_program, "loop", "0.5"])
    assert out.stdout.strip().endswith("failed=0"), out.stdout + out.stderr
    assert run([cli, "get", CMS, "-o", "name"]).returncode == 0

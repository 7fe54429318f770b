"""What a user's first script in a pod does, run by the interpreter of a fresh venv that holds
nothing but the installed wheel (tests/dist/test_wheels.py starts it).

Only the standard library and incluster: the control requests that drive the test server
(a pod, its log, stopping its container) go through http.client.

Environment: the pod's (KUBERNETES_SERVICE_HOST/_PORT, INCLUSTER_SERVICEACCOUNT_DIR) and
SMOKE_CA (the test server's CA, for the control requests).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
from typing import Any

import incluster

NS = "dist-ns"


def say(what: str) -> None:
    print(f"  smoke: {what}", flush=True)


def control(method: str, path: str, body: Any) -> None:
    ctx = ssl.create_default_context(cafile=os.environ["SMOKE_CA"])
    conn = http.client.HTTPSConnection(
        "127.0.0.1", int(os.environ["KUBERNETES_SERVICE_PORT"]), context=ctx)
    try:
        conn.request(method, path, body=json.dumps(body).encode(),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
    finally:
        conn.close()
    assert 200 <= resp.status < 300, (method, path, resp.status)


def main() -> None:
    # The wheel must be all it takes: nothing that could build a missing piece is reachable.
    for tool in ("cargo", "rustc", "rustup", "maturin", "cc", "gcc", "clang", "zig"):
        assert shutil.which(tool) is None, f"{tool} is on PATH: {shutil.which(tool)}"
    # The module is the installed one, not a checkout's.
    native = incluster._native.__file__
    assert native is not None and native.startswith(sys.prefix), native
    say(f"CPython {sys.version.split()[0]}, {os.path.basename(native)}")

    c = incluster.Client()
    assert c.namespace == NS, c.namespace
    version = c.get("/version")
    assert "gitVersion" in version, version
    say(f"GET /version: {version['gitVersion']}")

    try:
        c.get(f"/api/v1/namespaces/{NS}/configmaps/ghost")
        raise AssertionError("no NotFound for a missing ConfigMap")
    except incluster.NotFound as e:
        assert e.status == 404 and e.reason == "NotFound", (e.status, e.reason)
    say("GET of a missing object: NotFound (404)")

    path = f"/api/v1/namespaces/{NS}/configmaps"
    c.post(path, json={"metadata": {"name": "smoke"}, "data": {"k": "v"}})
    with c.watch(path, timeout_seconds=1, resume=False) as w:
        events = [(e.type, e.object["metadata"]["name"]) for e in w]
    assert events == [("ADDED", "smoke")], events
    say(f"watch until the server ends it: {events}")

    control("POST", "/_control/pods", {"namespace": NS, "name": "web", "containers": ["app"]})
    control("POST", "/_control/logs", {"namespace": NS, "pod": "web", "lines": ["one", "two"]})
    seen = []
    with c.logs("web", follow=True) as lines:
        for line in lines:
            seen.append(line)
            if line == "two":
                control("POST", "/_control/logs", {"namespace": NS, "pod": "web", "lines": ["three"]})
            if line == "three":
                # The follow ends when the container does.
                control("PUT", f"/_control/pods/{NS}/web/state",
                        {"container": "app", "state": "terminated"})
    assert seen == ["one", "two", "three"], seen
    say(f"logs --follow until the container stops: {seen}")

    # pip put the CLI next to this interpreter, and it is the standalone one.
    exe = shutil.which("incluster")
    assert exe is not None and os.path.dirname(exe) == os.path.dirname(sys.executable), exe
    out = subprocess.run([exe, "get", "/version"], capture_output=True, text=True)
    assert out.returncode == 0 and json.loads(out.stdout)["gitVersion"] == version["gitVersion"], out
    out = subprocess.run([exe, "get", f"{path}/ghost"], capture_output=True, text=True)
    assert out.returncode == 5 and "ghost" in out.stderr, out
    out = subprocess.run([exe, "logs", "web"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.split() == ["one", "two", "three"], out
    say(f"{exe}: get (exit 0), a 404 (exit 5), logs")
    print("SMOKE OK", flush=True)


if __name__ == "__main__":
    main()

"""Client.wait against the test server: ConfigMaps with a status.conditions list stand in for
Jobs and Pods (the server keeps every field it is given)."""

from __future__ import annotations

import builtins
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

import incluster
from conftest import TOKEN, Server, explicit

COLL = "/api/v1/namespaces/pwait/configmaps"


def cm(name: str, conditions: list[dict[str, str]], labels: dict[str, str] | None = None
       ) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels or {}},
            "status": {"conditions": conditions}}


def until_watching(server: Server) -> None:
    """Block until a wait has opened its watch, so what follows happens while it waits."""
    for _ in range(3000):
        if any("watch=1" in r["path"] for r in server.requests()):
            return
        time.sleep(0.01)
    raise AssertionError("the wait never opened a watch")


def test_met_returns_the_object_and_which_condition_held(server: Server) -> None:
    c = explicit(server)
    c.post(COLL, cm("done", [{"type": "Complete", "status": "True"}]))
    obj = c.wait(f"{COLL}/done", "condition=complete")
    assert obj["metadata"]["name"] == "done"
    obj, met = c.wait(f"{COLL}/done", any_=["condition=Failed", "condition=Complete"],
                      with_conditions=True)
    assert obj["status"]["conditions"][0]["type"] == "Complete"
    assert met == ["condition=Complete=True"]


def test_fail_on_timeout_and_their_classes(server: Server) -> None:
    c = explicit(server)
    c.post(COLL, cm("failed", [{"type": "Failed", "status": "True"}]))
    with pytest.raises(incluster.Unmeetable) as info:
        c.wait(f"{COLL}/failed", any_="condition=Complete", fail_on="condition=Failed")
    assert "condition=Failed=True is met" in str(info.value)
    with pytest.raises(incluster.WaitTimeout) as timeout:
        c.wait(f"{COLL}/failed", "condition=Complete", timeout=0.2)
    assert isinstance(timeout.value, builtins.TimeoutError)
    assert isinstance(timeout.value, incluster.Error)
    assert not isinstance(timeout.value, incluster.TransportError)


def test_an_object_created_later_while_the_gil_is_free(server: Server) -> None:
    c = explicit(server)
    got: list[Any] = []
    t = threading.Thread(target=lambda: got.append(
        c.wait(f"{COLL}/later", "jsonpath={.data.k}=v", timeout=30)))
    t.start()
    # This thread runs Python while the other waits: the wait released the GIL.
    until_watching(server)
    c.post(COLL, {"metadata": {"name": "later"}, "data": {"k": "v"}})
    t.join()
    assert got and got[0]["data"] == {"k": "v"}


def test_a_selection_and_the_empty_one(server: Server) -> None:
    c = explicit(server)
    for n in ("p1", "p2"):
        c.post(COLL, cm(n, [{"type": "Ready", "status": "True"}], {"app": "web"}))
    objs = c.wait(COLL, "condition=Ready", label_selector="app=web")
    assert [o["metadata"]["name"] for o in objs] == ["p1", "p2"]
    with pytest.raises(incluster.WaitTimeout):
        c.wait(COLL, "create", label_selector="app=none", timeout=0)
    assert c.wait(COLL, "create", label_selector="app=none", allow_empty=True, timeout=0) == []
    # delete of an object that does not exist: met at once.
    assert c.wait(f"{COLL}/never", "delete") == {"kind": "ConfigMap", "apiVersion": "v1",
                                                 "metadata": {"name": "never"}}


def test_ctrl_c_interrupts_a_wait(server: Server) -> None:
    c = explicit(server)
    c.post(COLL, cm("slow", []))
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        c.wait(f"{COLL}/slow", "condition=Ready")
    timer.join()


def test_bad_input_is_named(server: Server) -> None:
    c = explicit(server)
    with pytest.raises(incluster.InvalidArgument, match="no condition given"):
        c.wait(f"{COLL}/x")
    with pytest.raises(incluster.InvalidArgument, match='wait condition "ready"'):
        c.wait(f"{COLL}/x", "ready")
    with pytest.raises(incluster.InvalidArgument, match="did you mean deployments.apps"):
        c.wait("deploymnet/web", "create")
    with pytest.raises(incluster.InvalidArgument, match="applies to a collection"):
        c.wait(f"{COLL}/x", "create", label_selector="a=b")
    with pytest.raises(TypeError, match="for_ must be a condition"):
        c.wait(f"{COLL}/x", 5)
    with pytest.raises(incluster.InvalidArgument, match="timeout"):
        c.wait(f"{COLL}/x", "create", timeout=-1)


def test_exit_with_a_daemon_thread_still_waiting(server: Server) -> None:
    """The interpreter shuts down around a wait on a daemon thread: no panic, no abort."""
    script = (
        "import sys, threading, time, incluster\n"
        "c = incluster.Client(server=sys.argv[1], ca_file=sys.argv[2], token=sys.argv[3])\n"
        "threading.Thread(target=lambda: c.wait(sys.argv[4], 'condition=Ready'),"
        " daemon=True).start()\n"
        "time.sleep(0.3)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, server.url, str(server.ca), TOKEN, f"{COLL}/absent"],
        capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stderr) == (0, "")

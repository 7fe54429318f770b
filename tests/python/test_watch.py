"""Watching from Python: iterator, context manager, callbacks, resume, relist, Ctrl-C."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import pytest

import incluster
from conftest import Server, explicit

PATH = "/api/v1/namespaces/pw/configmaps"
FAST = {"backoff": (0.005, 0.05)}


def churn(server: Server, count: int, prefix: str) -> dict[str, Any]:
    return server.control("POST", "/_control/churn",  # type: ignore[no-any-return]
                          {"namespace": "pw", "count": count, "prefix": prefix})


def list_rv(c: Any) -> str:
    return c.get(PATH)["metadata"]["resourceVersion"]  # type: ignore[no-any-return]


def test_iterate_events_as_dicts(server: Server) -> None:
    c = explicit(server)
    start = list_rv(c)
    r = churn(server, 9, "it")
    with c.watch(PATH, resource_version=start, **FAST) as w:
        events = [next(w) for _ in range(9)]
    # churn: create, update, then update (even k) or delete (odd k)
    assert [e.type for e in events[:6]] == ["ADDED", "MODIFIED", "MODIFIED", "ADDED", "MODIFIED",
                                          "DELETED"]
    assert events[0].object["metadata"]["name"] == "it-0"
    assert events[0].object is events[0].object  # decoded once
    assert events[-1].resource_version == r["resourceVersion"]
    assert events[0].raw.startswith(b"{")
    assert "ADDED" in repr(events[0])


def test_drops_lose_and_repeat_nothing(server: Server) -> None:
    c = explicit(server)
    start = list_rv(c)
    server.control("PUT", "/_control/watch", {"drop_every": 4, "drop_mid_line": True})
    r = churn(server, 120, "d")
    seqs = []
    with c.watch(PATH, resource_version=start, **FAST) as w:
        for e in w:
            if e.type in ("ADDED", "MODIFIED"):
                seqs.append(int(e.object["data"]["seq"]))
            if e.resource_version == r["resourceVersion"]:
                break
    assert seqs == list(range(r["first_seq"], r["first_seq"] + len(seqs)))


def test_callback_form_and_stopping(server: Server) -> None:
    c = explicit(server)
    start = list_rv(c)
    churn(server, 6, "cb")
    seen: list[str] = []

    def on_event(e: incluster.WatchEvent) -> bool:
        seen.append(e.type)
        return len(seen) < 4

    assert c.watch(PATH, resource_version=start, callback=on_event, **FAST) is None
    assert len(seen) == 4


def test_a_callback_exception_propagates_unchanged(server: Server) -> None:
    c = explicit(server)
    start = list_rv(c)
    churn(server, 3, "ex")

    class Boom(Exception):
        pass

    def on_event(e: incluster.WatchEvent) -> None:
        raise Boom(e.type)

    with pytest.raises(Boom, match="ADDED"):
        c.watch(PATH, resource_version=start, callback=on_event, **FAST)


def test_relist_on_gone_gives_resync_markers_and_the_servers_state(server: Server) -> None:
    c = explicit(server)
    churn(server, 6, "g")
    server.control("PUT", "/_control/watch", {"error_410_after": 3})
    state: dict[str, Any] = {}
    markers = []
    with c.watch(PATH, **FAST) as w:
        churn(server, 6, "h")
        server.control("PUT", "/_control/watch", {"error_410_after": 0})
        want = {i["metadata"]["name"]: i["data"] for i in c.get(PATH)["items"]}
        deadline = time.monotonic() + 10
        for e in w:
            if e.type.startswith("RESYNC"):
                markers.append(e.type)
            elif e.type == "DELETED":
                state.pop(e.object["metadata"]["name"], None)
            else:
                state[e.object["metadata"]["name"]] = e.object["data"]
            if state == want and markers and markers[-1] == "RESYNC_END":
                break
            assert time.monotonic() < deadline, (state, want)
    assert markers[:2] == ["RESYNC_START", "RESYNC_END"]


def test_on_gone_error_raises_gone(server: Server) -> None:
    c = explicit(server)
    churn(server, 3, "x")
    server.control("PUT", "/_control/watch", {"compact": True})
    with pytest.raises(incluster.Gone) as info:
        with c.watch(PATH, resource_version="1", on_gone="error") as w:
            next(w)
    assert info.value.status == 410 and info.value.reason == "Expired"


def test_cancel_from_another_thread_ends_the_iteration(server: Server) -> None:
    c = explicit(server)
    server.control("PUT", "/_control/watch", {"bookmark_ms": 0})
    w = c.watch(PATH, resource_version=list_rv(c))
    threading.Timer(0.2, w.cancel).start()
    start = time.monotonic()
    assert list(w) == []
    assert time.monotonic() - start < 3


def test_ctrl_c_interrupts_a_blocked_watch(server: Server) -> None:
    c = explicit(server)
    server.control("PUT", "/_control/watch", {"bookmark_ms": 0})
    w = c.watch(PATH, resource_version=list_rv(c))
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        next(w)
    timer.join()
    assert time.monotonic() - start < 3
    w.close()


def test_a_watch_that_cannot_start_raises(server: Server) -> None:
    c = explicit(server)
    with pytest.raises(incluster.NotFound):
        c.watch("/api/v1/namespaces/x/nothing")
    with pytest.raises(incluster.Unauthorized):
        explicit(server, token="nope").watch(PATH)
    # The core decides (the same messages as the C API's incluster.onGone / *Ms options).
    with pytest.raises(incluster.InvalidArgument, match="on_gone"):
        c.watch(PATH, on_gone="panic")
    with pytest.raises(incluster.InvalidArgument, match="idle_timeout"):
        c.watch(PATH, idle_timeout=-1)
    with pytest.raises(incluster.InvalidArgument, match="backoff"):
        c.watch(PATH, backoff=(1e300, 1.0))  # once a panic in Duration::from_secs_f64
    with pytest.raises(incluster.InvalidArgument, match="idle_check"):
        c.logs("p", idle_check=float("nan"))


def test_bookmarks_on_request(server: Server) -> None:
    c = explicit(server)
    server.control("PUT", "/_control/watch", {"bookmark_ms": 50})
    with c.watch(PATH, resource_version=list_rv(c), bookmarks=True) as w:
        e = next(w)
    assert e.type == "BOOKMARK"
    assert e.object["metadata"]["resourceVersion"] == e.resource_version

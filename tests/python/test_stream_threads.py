"""Streams never hold the interpreter while they wait, and concurrent use never hangs.

A watch or log read must never block on I/O (or on a lock) while attached to the
interpreter: other threads keep running, Ctrl-C lands at once, and `cancel()` / `close()` /
`resource_version` work from any thread. Reading one stream from two threads at once raises
`RuntimeError` at once, as a generator that is already executing does.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any, Callable, Iterator

import pytest

import incluster
from conftest import Server, explicit

PATH = "/api/v1/namespaces/pt/configmaps"
NS = "pt"
FAST = {"backoff": (0.005, 0.05)}


class Ticker:
    """A thread that counts while it gets the interpreter."""

    def __init__(self) -> None:
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.count += 1
            time.sleep(0.005)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def seed(server: Server, count: int, prefix: str = "s") -> None:
    """ConfigMaps PREFIX-0 .. PREFIX-(count-1)."""
    c = explicit(server)
    for i in range(count):
        c.post(PATH, {"metadata": {"name": f"{prefix}-{i}"}, "data": {"k": "v"}})


def blocked_next(it: Iterator[Any], stop: Callable[[], None], after: float = 0.5) -> int:
    """Call next(it) while it has nothing to give; `stop` ends it after `after` seconds.
    Returns how often another thread ticked meanwhile."""
    ticker = Ticker()
    timer = threading.Timer(after, stop)
    timer.start()
    try:
        with pytest.raises(StopIteration):
            next(it)
    finally:
        timer.join()
        ticker.stop()
    return ticker.count


def sigint_latency(it: Iterator[Any]) -> float:
    """Seconds from a SIGINT sent while next(it) waits to the KeyboardInterrupt."""
    sent: list[float] = []

    def interrupt() -> None:
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(0.3, interrupt)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        next(it)
    caught = time.monotonic()
    timer.join()
    return caught - sent[0]


def initial_events_watch(c: Any, **kw: Any) -> Any:
    """A watch whose first read brings the current objects and the `initial-events-end`
    bookmark in one piece, then nothing (the case that froze the interpreter)."""
    return c.watch(PATH, send_initial_events=True, resource_version_match="NotOlderThan",
                   resource_version="", **kw)


def test_after_initial_events_and_their_bookmark_the_wait_releases_the_interpreter(
        server: Server) -> None:
    c = explicit(server)
    seed(server, 3)
    server.control("PUT", "/_control/watch", {"bookmark_ms": 0})
    w = initial_events_watch(c)
    names = [next(w).object["metadata"]["name"] for _ in range(3)]
    assert sorted(names) == ["s-0", "s-1", "s-2"]
    # The bookmark is buffered behind the last event and is not handed out: the next call
    # consumes it and must then wait detached.
    ticks = blocked_next(w, w.cancel)
    assert ticks > 20, f"another thread ran only {ticks} times in 0.5 s"


def test_ctrl_c_lands_at_once_after_initial_events(server: Server) -> None:
    c = explicit(server)
    seed(server, 2)
    server.control("PUT", "/_control/watch", {"bookmark_ms": 0})
    with initial_events_watch(c) as w:
        next(w)
        next(w)
        assert sigint_latency(w) < 0.1


def test_periodic_bookmarks_that_are_not_handed_out_never_hold_the_interpreter(
        server: Server) -> None:
    c = explicit(server)
    server.control("PUT", "/_control/watch", {"bookmark_ms": 20})
    rv = c.get(PATH)["metadata"]["resourceVersion"]
    w = c.watch(PATH, resource_version=rv)
    assert blocked_next(w, w.cancel, after=0.6) > 30
    assert w.resource_version is not None


def test_the_callback_form_waits_detached_too(server: Server) -> None:
    c = explicit(server)
    seed(server, 2)
    server.control("PUT", "/_control/watch", {"bookmark_ms": 0})
    seen: list[str] = []
    ticker = Ticker()
    timer = threading.Timer(0.8, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        initial_events_watch(c, callback=lambda e: seen.append(e.type))
    elapsed = time.monotonic() - start
    timer.join()
    ticker.stop()
    assert seen == ["ADDED", "ADDED"]
    assert elapsed < 2
    assert ticker.count > 40


def test_a_relist_after_410_runs_detached(server: Server) -> None:
    c = explicit(server)
    seed(server, 4, "a")
    server.control("PUT", "/_control/watch", {"error_410_after": 2, "bookmark_ms": 0})
    rv = c.get(PATH)["metadata"]["resourceVersion"]
    seed(server, 4, "b")
    with c.watch(PATH, resource_version=rv, **FAST) as w:
        kinds = [next(w).type for _ in range(2)]
        server.control("PUT", "/_control/watch", {"error_410_after": 0})
        # The ERROR line follows the two events in the buffer; acting on it (relist, reopen)
        # and the quiet wait after it happen without the interpreter.
        for e in w:
            kinds.append(e.type)
            if e.type == "RESYNC_END":
                break
        assert "RESYNC_START" in kinds
        assert blocked_next(w, w.cancel) > 20


def test_two_threads_iterating_one_watch_get_a_clear_error_at_once(server: Server) -> None:
    c = explicit(server)
    server.control("PUT", "/_control/watch", {"bookmark_ms": 0})
    w = c.watch(PATH, resource_version=c.get(PATH)["metadata"]["resourceVersion"])
    errors: list[BaseException] = []
    ended = threading.Event()

    def first() -> None:
        for _ in w:
            pass
        ended.set()

    t = threading.Thread(target=first)
    t.start()
    time.sleep(0.2)  # the first thread is now blocked waiting for an event
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="another thread"):
        next(w)
    with pytest.raises(RuntimeError, match="another thread"):
        w.__next__()
    assert time.monotonic() - start < 0.5
    # The other methods work from here while the first thread waits.
    assert w.resource_version is not None
    assert "open" in repr(w) and PATH in repr(w)
    w.close()
    t.join(timeout=3)
    assert not t.is_alive() and ended.is_set() and not errors
    assert "cancelled" in repr(w)


def test_many_threads_hammering_one_watch_never_hang(server: Server) -> None:
    c = explicit(server)
    server.control("PUT", "/_control/watch", {"bookmark_ms": 5})
    w = c.watch(PATH, resource_version=c.get(PATH)["metadata"]["resourceVersion"])
    outcomes: list[str] = []
    lock = threading.Lock()

    def use(action: str) -> None:
        deadline = time.monotonic() + 0.8
        while time.monotonic() < deadline:
            try:
                if action == "next":
                    next(w)
                elif action == "rv":
                    w.resource_version
                else:
                    repr(w)
            except RuntimeError:
                with lock:
                    outcomes.append("busy")
            except StopIteration:
                with lock:
                    outcomes.append("end")
                return

    threads = [threading.Thread(target=use, args=(a,))
               for a in ("next", "next", "next", "rv", "repr")]
    for t in threads:
        t.start()
    threading.Timer(0.5, w.cancel).start()
    for t in threads:
        t.join(timeout=5)
    assert not any(t.is_alive() for t in threads)
    assert "busy" in outcomes and "end" in outcomes


def test_a_watch_keeps_running_after_its_client_is_closed(server: Server) -> None:
    c = explicit(server)
    with c:
        w = c.watch(PATH, resource_version=c.get(PATH)["metadata"]["resourceVersion"], **FAST)
    with pytest.raises(incluster.Error):
        c.get(PATH)  # the client refuses new requests...
    seed(server, 1, "after-close")
    assert next(w).type == "ADDED"  # ...and the stream owns what it needs, as in C
    w.close()


def pod_with_logs(server: Server, name: str, lines: int) -> None:
    server.control("POST", "/_control/pods", {"namespace": NS, "name": name,
                                              "containers": ["app"]})
    server.control("POST", "/_control/logs", {"namespace": NS, "pod": name,
                                              "lines": [f"l{i}" for i in range(lines)]})


@pytest.mark.parametrize("follow", [True, False])
def test_two_threads_reading_one_log_get_a_clear_error_at_once(server: Server,
                                                               follow: bool) -> None:
    c = explicit(server, namespace=NS)
    pod_with_logs(server, "two", 3)
    got: list[str] = []
    if follow:
        logs = c.logs("two", follow=True)
        assert next(logs) == "l0"
        # A thread blocked reading a quiet follow holds the stream.
        def reader() -> None:
            for line in logs:
                got.append(line)

        t = threading.Thread(target=reader)
        t.start()
        time.sleep(0.3)
        start = time.monotonic()
        with pytest.raises(RuntimeError, match="another thread"):
            next(logs)
        assert time.monotonic() - start < 0.5
        assert "open" in repr(logs) and "two" in repr(logs)
        logs.close()
        t.join(timeout=3)
        assert not t.is_alive()
        assert got == ["l1", "l2"]
    else:
        # Several threads pulling lines from one finished log at once: each call either gets
        # the next line or is refused at once; together they get every line exactly once.
        server.control("POST", "/_control/logs", {"namespace": NS, "pod": "two",
                                                  "lines": [f"m{i}" for i in range(3000)]})
        logs = c.logs("two", follow=False)
        lock = threading.Lock()
        busy = [0]

        def pull() -> None:
            while True:
                try:
                    line = next(logs)
                except RuntimeError:
                    with lock:
                        busy[0] += 1
                    continue
                except StopIteration:
                    return
                with lock:
                    got.append(line)

        threads = [threading.Thread(target=pull) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=10)
        assert not any(t.is_alive() for t in threads)
        assert sorted(got) == sorted(["l0", "l1", "l2"] + [f"m{i}" for i in range(3000)])
        assert "ended" in repr(logs)


def test_a_blocked_log_follow_releases_the_interpreter_and_ctrl_c_lands(server: Server) -> None:
    c = explicit(server, namespace=NS)
    pod_with_logs(server, "quiet", 2)
    with c.logs("quiet", follow=True) as logs:
        assert next(logs) == "l0" and next(logs) == "l1"
        assert sigint_latency(logs) < 0.1
    with c.logs("quiet", follow=True) as logs:
        it = iter(logs)
        assert next(it) == "l0" and next(it) == "l1"
        assert blocked_next(it, logs.cancel) > 20

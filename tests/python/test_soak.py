"""Soak in Python: 100,000 requests from threads sharing one client while another thread keeps
the garbage collector busy, callbacks that raise, and KeyboardInterrupt at random points of
blocked calls. Python-level allocations (tracemalloc) and the resident memory must not grow
once warmed up, and the client must keep working after every interruption."""

from __future__ import annotations

import _thread
import gc
import random
import threading
import time
import tracemalloc
from typing import Any

import pytest

import incluster
from conftest import SaDir, Server

THREADS = 4
PER_THREAD = 25_000


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def hammer(kube: Any, n: int, errors: list[BaseException]) -> None:
    try:
        for _ in range(n):
            kube.get("/version")
    except BaseException as e:  # reported by the test
        errors.append(e)


def test_100k_requests_with_gc_threads_flat_memory(server: Server, pod: SaDir) -> None:
    kube = incluster.Client()
    errors: list[BaseException] = []
    hammer(kube, 2_000, errors)  # warm up: pool, key cache, allocator
    gc.collect()
    tracemalloc.start()
    base_py = tracemalloc.get_traced_memory()[0]
    base_rss = rss_kib()

    stop = threading.Event()

    def collector() -> None:
        while not stop.is_set():
            gc.collect()
            time.sleep(0.005)

    gcthread = threading.Thread(target=collector, daemon=True)
    gcthread.start()
    workers = [threading.Thread(target=hammer, args=(kube, PER_THREAD, errors))
               for _ in range(THREADS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    stop.set()
    gcthread.join()
    gc.collect()
    grown_py = tracemalloc.get_traced_memory()[0] - base_py
    tracemalloc.stop()
    grown_rss = rss_kib() - base_rss
    assert errors == []
    print(f"after {THREADS * PER_THREAD} requests: Python heap +{grown_py} B, RSS +{grown_rss} KiB")
    # A leak of one object per request would be megabytes here.
    assert grown_py < 200_000, grown_py
    assert grown_rss < 8 * 1024, grown_rss


def test_callbacks_that_raise_leave_nothing_behind(server: Server, pod: SaDir) -> None:
    kube = incluster.Client()
    path = "/api/v1/namespaces/py-ns/configmaps"
    kube.post(path, {"metadata": {"name": "cb"}})
    server.control("POST", "/_control/pods",
                   {"namespace": "py-ns", "name": "p", "containers": ["app"]})
    server.control("POST", "/_control/logs",
                   {"namespace": "py-ns", "pod": "p", "lines": ["a", "b"]})

    class Boom(Exception):
        pass

    def boom(_: Any) -> None:
        raise Boom()

    def round_() -> None:
        with pytest.raises(Boom):
            kube.watch(path, callback=boom)
        with pytest.raises(Boom):
            kube.logs("p", callback=boom)

    for _ in range(50):
        round_()
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(300):
        round_()
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert grown < 50_000, grown
    assert kube.get(f"{path}/cb")["metadata"]["name"] == "cb"


def test_keyboard_interrupt_at_random_points(server: Server, pod: SaDir) -> None:
    kube = incluster.Client()
    rng = random.Random(7)
    interrupted = 0
    for _ in range(30):
        # A blocked call of a random kind, interrupted after a random delay.
        kind = rng.choice(["request", "watch", "logs"])
        if kind == "logs":
            # Before the timer: the interrupt is meant for incluster's calls, not the harness's.
            server.control("POST", "/_control/pods",
                           {"namespace": "py-ns", "name": "k", "containers": ["app"]})
        timer = threading.Timer(rng.uniform(0.0, 0.15), _thread.interrupt_main)
        timer.start()
        try:
            if kind == "request":
                kube.get("/_test/delay", params={"ms": "400"})
            elif kind == "watch":
                for _ in kube.watch("/api/v1/namespaces/py-ns/configmaps",
                                    resource_version="1", timeout_seconds=1):
                    pass
            else:
                for _ in kube.logs("k", follow=True):
                    pass
        except KeyboardInterrupt:
            interrupted += 1
        finally:
            timer.join()
            # An interrupt that arrived after the call ended is delivered here at the latest.
            try:
                time.sleep(0.01)
            except KeyboardInterrupt:
                pass
        # Whatever was interrupted, the client still works.
        assert kube.get("/version")["major"] == "1"
    assert interrupted >= 15, interrupted

"""Watches against the real API server, from all three fronts at once, while the admin creates,
updates and deletes ConfigMaps and the API server restarts (its watch cache starts again, so a
resume from an older resourceVersion gets 410 Gone): each watcher's final state must equal the
server's. And BOOKMARKs arrive."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from pathlib import Path
from typing import Callable, Optional

import incluster
from cluster import NAMESPACE, Cluster
from conftest import configmaps

CMS = f"/api/v1/namespaces/{NAMESPACE}/configmaps"
PREFIX = "w-"
STOP = "w-stop"


class State:
    """A watcher's view, built only from the events it delivered."""

    def __init__(self, front: str) -> None:
        self.front = front
        self.objects: dict[str, str] = {}
        self.types: list[str] = []
        self.seen = threading.Event()  # the seed object arrived: the watch is running
        self.stopped = threading.Event()  # the STOP object arrived
        self.lock = threading.Lock()

    def apply(self, kind: str, name: str, value: str) -> None:
        with self.lock:
            self.types.append(kind)
            if not name.startswith(PREFIX):
                return
            if kind in ("ADDED", "MODIFIED"):
                self.objects[name] = value
            elif kind == "DELETED":
                self.objects.pop(name, None)
        if name == "w-seed":
            self.seen.set()
        if name == STOP and kind == "ADDED":
            self.stopped.set()


def pump(proc: "subprocess.Popen[str]", parse: Callable[[str], Optional[tuple[str, str, str]]],
         state: State) -> threading.Thread:
    def loop() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            ev = parse(line)
            if ev is not None:
                state.apply(*ev)

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    return t


def parse_cli(line: str) -> Optional[tuple[str, str, str]]:
    ev = json.loads(line)
    obj = ev.get("object") or {}
    return (ev["type"], obj.get("metadata", {}).get("name", ""),
            (obj.get("data") or {}).get("v", ""))


def parse_c(line: str) -> Optional[tuple[str, str, str]]:
    if line.startswith("#"):
        return None
    kind, name, value = line.rstrip("\n").split("\t")
    return kind, name, value


def churn(cluster: Cluster, start: int, count: int) -> None:
    """Create ``count`` ConfigMaps, update every second one and delete every third one."""
    for i in range(start, start + count):
        cluster.admin("POST", CMS, {"metadata": {"name": f"w-{i}"}, "data": {"v": "0"}})
    for i in range(start, start + count, 2):
        cluster.admin("PATCH", f"{CMS}/w-{i}", {"data": {"v": "1"}},
                      content_type="application/merge-patch+json")
    for i in range(start, start + count, 3):
        cluster.admin("DELETE", f"{CMS}/w-{i}")


def test_watch_all_fronts_across_apiserver_restart(cluster: Cluster, cli: Path,
                                                   c_program: Path) -> None:
    cluster.admin("POST", CMS, {"metadata": {"name": "w-seed"}, "data": {"v": "seed"}})
    py, cs, cl = State("python"), State("c"), State("cli")

    kube = incluster.Client()
    # Short reconnect pauses: the API server is down for several seconds.
    watch = kube.watch(CMS, bookmarks=True, backoff=(0.2, 2.0))
    py_error: list[BaseException] = []

    def python_loop() -> None:
        try:
            for ev in watch:
                name = ev.object.get("metadata", {}).get("name", "") if ev.object else ""
                py.apply(ev.type, name, ((ev.object or {}).get("data") or {}).get("v", ""))
                if py.stopped.is_set():
                    return
        except BaseException as e:  # reported by the test thread
            py_error.append(e)

    threads = [threading.Thread(target=python_loop, daemon=True)]
    threads[0].start()
    c_proc = subprocess.Popen([str(c_program), "watch", CMS, STOP], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    cli_proc = subprocess.Popen([str(cli), "watch", CMS, "--bookmarks",
                                 "--param", "incluster.backoffMaxMs=2000"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    threads.append(pump(c_proc, parse_c, cs))
    threads.append(pump(cli_proc, parse_cli, cl))
    try:
        for s in (py, cs, cl):
            assert s.seen.wait(30), f"{s.front}: the watch did not start"

        churn(cluster, 0, 30)
        cluster.restart_apiserver()
        churn(cluster, 30, 30)
        cluster.admin("POST", CMS, {"metadata": {"name": STOP}, "data": {"v": "end"}})

        for s in (py, cs, cl):
            assert s.stopped.wait(90), f"{s.front}: never saw {STOP}; types {s.types[-20:]}"
        cli_proc.send_signal(signal.SIGINT)
        assert cli_proc.wait(10) == 0, cli_proc.stderr.read() if cli_proc.stderr else ""
        assert c_proc.wait(10) == 0, c_proc.stderr.read() if c_proc.stderr else ""
        for t in threads:
            t.join(10)
        assert not py_error, py_error
    finally:
        watch.close()
        for p in (c_proc, cli_proc):
            if p.poll() is None:
                p.kill()
                p.wait()
        for t in threads:
            t.join(10)
        for p in (c_proc, cli_proc):
            for pipe in (p.stdout, p.stderr):
                if pipe is not None:
                    pipe.close()

    server = configmaps(cluster, PREFIX)
    assert len(server) == 1 + 60 - 20 + 1  # seed + created - deleted + stop
    for s in (py, cs, cl):
        assert s.objects == server, f"{s.front}: final state differs from the server's"
    # The restart cut every stream; the resourceVersions the watchers resumed from were older
    # than the new watch cache, so they got 410 and relisted between markers.
    resynced = [s.front for s in (py, cs, cl) if "RESYNC_START" in s.types]
    print(f"fronts that relisted after 410: {resynced}")
    assert resynced, "no front saw a 410 and relisted after the API server restart"
    for s in (py, cs, cl):
        assert markers_balanced(s.types), (s.front, s.types)


def markers_balanced(types: list[str]) -> bool:
    """RESYNC_START and RESYNC_END alternate; the last resync may still be open when the STOP
    object arrived inside it (the watcher stops there)."""
    open_ = False
    for t in types:
        if t == "RESYNC_START":
            if open_:
                return False
            open_ = True
        elif t == "RESYNC_END":
            if not open_:
                return False
            open_ = False
    return True


def test_bookmarks_arrive_from_every_front(cluster: Cluster, cli: Path, c_program: Path) -> None:
    """A streaming list (sendInitialEvents) ends its initial events with a BOOKMARK carrying the
    k8s.io/initial-events-end annotation; each front delivers it when asked to."""
    cluster.admin("POST", CMS, {"metadata": {"name": "b-1"}, "data": {"v": "1"}})
    kube = incluster.Client()
    kinds = []
    with kube.watch(CMS, send_initial_events=True, resource_version_match="NotOlderThan",
                    resource_version="", bookmarks=True) as w:
        for ev in w:
            kinds.append(ev.type)
            if ev.type == "BOOKMARK":
                annotations = ev.object["metadata"].get("annotations", {})
                assert annotations.get("k8s.io/initial-events-end") == "true"
                assert ev.resource_version
                break
    assert "ADDED" in kinds and kinds[-1] == "BOOKMARK"

    proc = subprocess.run(
        [str(cli), "watch", CMS, "--bookmarks", "--param", "sendInitialEvents=true",
         "--param", "resourceVersionMatch=NotOlderThan", "--param", "timeoutSeconds=3",
         "--no-resume"],
        capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    marks = [e for e in events if e["type"] == "BOOKMARK"]
    assert marks and "ADDED" in [e["type"] for e in events]
    assert marks[0]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"] == "true"

    out = subprocess.run([str(c_program), "watch-bookmark", CMS], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.split()[-1] == "BOOKMARK" and "ADDED" in out.stdout.split()


def test_a_quiet_python_watch_never_holds_the_interpreter(cluster: Cluster) -> None:
    """The README's own example froze the interpreter: `for ev in kube.watch(path,
    label_selector=...)` on a collection with matching objects delivered them and then, waiting
    for the next change, held the GIL (no other thread ran, Ctrl-C was ignored). Initial events,
    then silence: a thread must keep ticking and a SIGINT must land within 100 ms; the same with
    a streaming list, whose initial-events-end bookmark is consumed without being handed out."""
    import os
    import time

    import pytest

    for i in range(3):
        cluster.admin("POST", CMS, {"metadata": {"name": f"q-{i}", "labels": {"quiet": "yes"}},
                                    "data": {"v": "1"}})
    kube = incluster.Client()
    ticks = [0]
    stop = threading.Event()

    def tick() -> None:
        while not stop.is_set():
            ticks[0] += 1
            time.sleep(0.005)

    for streaming in (False, True):
        with kube.watch(CMS, label_selector="quiet=yes", send_initial_events=streaming,
                        resource_version_match="NotOlderThan" if streaming else None,
                        resource_version="" if streaming else None) as w:
            names = sorted(next(w).object["metadata"]["name"] for _ in range(3))
            assert names == ["q-0", "q-1", "q-2"]
            ticker = threading.Thread(target=tick, daemon=True)
            stop.clear()
            ticks[0] = 0
            ticker.start()
            sent: list[float] = []

            def interrupt() -> None:
                sent.append(time.monotonic())
                os.kill(os.getpid(), signal.SIGINT)

            timer = threading.Timer(1.0, interrupt)
            timer.start()
            with pytest.raises(KeyboardInterrupt):
                next(w)
            latency = time.monotonic() - sent[0]
            timer.join()
            stop.set()
            ticker.join()
            assert ticks[0] > 50, f"streaming={streaming}: another thread ran {ticks[0]} times in 1 s"
            assert latency < 0.1, f"streaming={streaming}: Ctrl-C took {latency:.3f} s"

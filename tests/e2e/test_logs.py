"""Pod logs through the real API server, which relays them from our fake kubelet: a follow from
all three fronts at once while the kubelet drops the stream every few dozen lines (mid-line),
resumed with sinceTime through the API server (which passes whole seconds on), with no lost or
repeated line; the follow ends when the container terminates. And the options and errors."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from pathlib import Path

import pytest

import incluster
from cluster import NAMESPACE, Cluster
from conftest import run

SEQ = re.compile(r"^e2e seq=(\d{10})")


def seqs(lines: list[str]) -> list[int]:
    out = []
    for line in lines:
        m = SEQ.match(line)
        assert m, f"unexpected line {line[:80]!r}"
        out.append(int(m.group(1)))
    return out


def generate(cluster: Cluster, pod: str, count: int, interval_ms: int = 0) -> None:
    cluster.kubelet("POST", "/_control/logs/generate", {
        "namespace": NAMESPACE, "pod": pod, "container": "main", "count": count, "size": 60,
        "interval_ms": interval_ms, "prefix": "e2e"})


def test_follow_all_fronts_with_drops_until_terminated(cluster: Cluster, cli: Path,
                                                       c_program: Path) -> None:
    pod = "follow"
    cluster.create_pod(pod, ["main"])
    generate(cluster, pod, 20)
    # Through the API server, sinceTime has whole-second precision: each resumed stream first
    # repeats the lines of the last second (dropped by the client). A drop every 50 lines
    # with ~33 lines a second leaves every resumed stream room to make progress.
    cluster.kubelet("PUT", "/_control/logs/faults", {"drop_every": 50, "drop_mid_line": True})
    try:
        kube = incluster.Client()
        py_lines: list[str] = []
        py_error: list[BaseException] = []

        def python_follow() -> None:
            try:
                for line in kube.logs(pod, container="main", follow=True, backoff=(0.05, 0.5)):
                    py_lines.append(line)
            except BaseException as e:
                py_error.append(e)

        t = threading.Thread(target=python_follow, daemon=True)
        t.start()
        c_proc = subprocess.Popen([str(c_program), "logs", pod, "main"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        cli_proc = subprocess.Popen([str(cli), "logs", pod, "-c", "main", "-f"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # New lines while everyone follows, over ~10 s, so resumes cross second boundaries.
        generate(cluster, pod, 330, interval_ms=30)
        time.sleep(330 * 0.03 + 1.5)
        # The container ends: first its status (what the client checks before resuming),
        # then the kubelet's stream.
        cluster.set_container_states(pod, {"main": "terminated"})
        cluster.kubelet("PUT", f"/_control/pods/{NAMESPACE}/{pod}/state",
                        {"container": "main", "state": "terminated"})

        c_out, c_err = c_proc.communicate(timeout=60)
        cli_out, cli_err = cli_proc.communicate(timeout=60)
        t.join(60)
        assert not t.is_alive(), "the Python follow did not end after the container terminated"
        assert not py_error, py_error
        assert c_proc.returncode == 0, c_err
        assert cli_proc.returncode == 0, cli_err
    finally:
        cluster.kubelet("PUT", "/_control/logs/faults", {"drop_every": 0, "drop_mid_line": False})

    want = list(range(1, 351))
    assert seqs([ln.rstrip("\n") for ln in py_lines]) == want, "python"
    assert seqs(c_out.splitlines()) == want, "c"
    assert seqs(cli_out.splitlines()) == want, "cli"


def test_options_and_errors(cluster: Cluster, cli: Path) -> None:
    pod = "opts"
    cluster.create_pod(pod, ["main", "side"])
    generate(cluster, pod, 20)
    kube = incluster.Client()

    tail = list(kube.logs(pod, container="main", tail_lines=5))
    assert seqs(tail) == list(range(16, 21))
    stamped = list(kube.logs(pod, container="main", tail_lines=2, timestamps=True))
    assert len(stamped) == 2
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z e2e seq=0000000019", stamped[0])
    # 90 bytes: the first line (60 with its newline) and 30 bytes of the second.
    limited = list(kube.logs(pod, container="main", limit_bytes=90, as_bytes=True))
    assert [len(x) for x in limited] == [59, 30]
    assert list(kube.logs(pod, container="main", since_seconds=3600)) == \
        list(kube.logs(pod, container="main"))

    # No container named in a two-container pod, or an unknown one: 400 naming the choices.
    with pytest.raises(incluster.ApiError) as unnamed:
        list(kube.logs(pod))
    assert unnamed.value.status == 400
    assert "main" in str(unnamed.value) and "side" in str(unnamed.value)
    with pytest.raises(incluster.ApiError) as unknown:
        list(kube.logs(pod, container="nope"))
    assert unknown.value.status == 400
    assert "main" in str(unknown.value) and "side" in str(unknown.value)
    with pytest.raises(incluster.NotFound):
        list(kube.logs("no-such-pod"))

    out = run([cli, "logs", pod, "-c", "main", "--tail", "3", "--timestamps"])
    assert out.returncode == 0, out.stderr
    assert seqs([ln.split(" ", 1)[1] for ln in out.stdout.splitlines()]) == [18, 19, 20]
    bad = run([cli, "logs", pod, "-c", "nope"])
    assert bad.returncode == 5
    assert "main" in bad.stderr and "side" in bad.stderr
    missing = run([cli, "logs", "no-such-pod"])
    assert missing.returncode == 5 and "NotFound" in missing.stderr

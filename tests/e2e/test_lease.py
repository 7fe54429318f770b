"""Leader election against the real kube-apiserver: four contenders on one Lease — the CLI
(`incluster lease run`), Python (`Client.leader_election`), C (`incluster_lease_*`) and a Go
program on client-go's leaderelection — across a SIGKILL of the leader, a clean exit and an
API server restart longer than the renew deadline. Each logs its leadership intervals (wall
clock, one host); no two may ever overlap. Plus the 403 of a ServiceAccount without RBAC on
leases.

All contenders use 8 s / 6 s / 1 s (lease duration / renew deadline / retry period).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from cluster import CACHE, NAMESPACE, ROOT, Cluster
from conftest import TARGET, run

LEASE = "e2e-lock"
DURATION, RENEW, RETRY = 8.0, 6.0, 1.0
# client-go's jitter: a follower tries again after 1 to 2.2 retry periods.
JITTERED_RETRY = 2.2 * RETRY
# Slack for process start-up and a loaded machine, in the takeover bounds below.
SLACK = 4.0
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def lease_c(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/e2e/c/lease.c, compiled strictly and linked against libincluster.so."""
    out = tmp_path_factory.mktemp("c") / "lease"
    subprocess.run(
        ["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", f"-I{ROOT / 'include'}",
         str(HERE / "c" / "lease.c"), f"-L{TARGET}", f"-Wl,-rpath,{TARGET}",
         "-lincluster", "-lpthread", "-o", str(out)],
        check=True,
    )
    return out


@pytest.fixture(scope="session")
def lease_go() -> Path:
    """The client-go contender, built (once, cached outside the clone) by build-lease-go.sh."""
    env = {**os.environ, "INCLUSTER_CACHE": str(CACHE)}
    out = subprocess.run(["bash", str(HERE / "build-lease-go.sh")], capture_output=True,
                         text=True, env=env, timeout=1800)
    if out.returncode != 0:
        pytest.fail(f"build-lease-go.sh failed:\n{out.stderr}")
    return Path(out.stdout.strip().splitlines()[-1])


def read_log(path: Path) -> list[tuple[str, str, float]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        who, what, t = line.split()
        out.append((who, what, float(t)))
    return out


def starts(path: Path) -> list[tuple[str, float]]:
    return [(who, t) for who, what, t in read_log(path) if what == "start"]


def wait_for_starts(path: Path, n: int, timeout: float) -> tuple[str, float]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        s = starts(path)
        if len(s) >= n:
            return s[n - 1]
        time.sleep(0.05)
    raise AssertionError(f"no leadership #{n} within {timeout} s: {read_log(path)}")


def intervals(log: list[tuple[str, str, float]]) -> list[tuple[str, float, float]]:
    """(who, start, end) per interval; one still open ends at +inf."""
    open_: dict[str, float] = {}
    out: list[tuple[str, float, float]] = []
    for who, what, t in log:
        if what == "start":
            assert who not in open_, f"{who} started twice: {log}"
            open_[who] = t
        else:
            out.append((who, open_.pop(who), t))
    out.extend((who, t, float("inf")) for who, t in open_.items())
    return sorted(out, key=lambda i: i[1])


@pytest.fixture
def contenders(cluster: Cluster, cli: Path, lease_c: Path, lease_go: Path,
               tmp_path: Path) -> Iterator[dict[str, Any]]:
    log = tmp_path / "intervals.log"
    stop = {n: tmp_path / f"stop-{n}" for n in ("cli", "py", "c", "go")}
    worker = HERE / "lease_worker.py"
    commands = {
        "cli": [cli, "lease", "run", LEASE, "--identity", "cli", "--duration", "8s",
                "--renew-deadline", "6s", "--retry-period", "1s", "--grace-period", "2s", "--",
                sys.executable, worker, "cmd", "cli", log, stop["cli"]],
        "py": [sys.executable, worker, "contend", LEASE, "py", log, stop["py"]],
        "c": [lease_c, LEASE, "c", log, stop["c"]],
        "go": [lease_go, "-name", LEASE, "-namespace", NAMESPACE, "-identity", "go",
               "-log", log, "-stop", stop["go"], "-duration", "8s", "-renew-deadline", "6s",
               "-retry-period", "1s"],
    }
    procs = {}
    errs = {}
    for name, argv in commands.items():
        errs[name] = open(tmp_path / f"{name}.stderr", "w")
        # A session of its own: a SIGKILL of the group takes `lease run`'s CMD along.
        procs[name] = subprocess.Popen([str(a) for a in argv], start_new_session=True,
                                       stdout=subprocess.DEVNULL, stderr=errs[name])
    try:
        yield {"log": log, "stop": stop, "procs": procs, "dir": tmp_path}
    finally:
        for p in procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        for f in errs.values():
            f.close()
        for name in commands:
            print(f"--- {name} stderr\n{(tmp_path / f'{name}.stderr').read_text()}")


def test_four_fronts_contend_for_one_lease_and_never_overlap(
        cluster: Cluster, cli: Path, contenders: dict[str, Any]) -> None:
    log: Path = contenders["log"]
    procs: dict[str, subprocess.Popen[bytes]] = contenders["procs"]
    stop: dict[str, Path] = contenders["stop"]

    # 1. Someone leads.
    first, _ = wait_for_starts(log, 1, 120)

    # 2. SIGKILL of the leader: another takes over once the Lease expires.
    killed_at = time.time()
    os.killpg(procs[first].pid, signal.SIGKILL)
    procs[first].wait()
    with open(log, "a") as f:  # a killed process logs nothing: its interval ends now
        f.write(f"{first} end {killed_at:.6f}\n")
    second, t2 = wait_for_starts(log, 2, DURATION + JITTERED_RETRY + SLACK + 30)
    assert t2 - killed_at < DURATION + JITTERED_RETRY + SLACK, (first, second, read_log(log))

    # 3. A clean exit of the new leader: it releases, so the next takes over within about a
    # retry period, well before the 8 s Lease would have expired.
    stopped_at = time.time()
    stop[second].touch()
    third, t3 = wait_for_starts(log, 3, 60)
    assert t3 - stopped_at < JITTERED_RETRY + SLACK - 1, (second, third, read_log(log))
    assert t3 - stopped_at < DURATION
    assert procs[second].wait(30) == 0, f"{second} did not exit cleanly"

    # 4. The API server is away for longer than the renew deadline: the leader steps down
    # (and its process ends), then the last contender takes over.
    cluster.restart_apiserver(down_seconds=RENEW + 2)
    back_at = time.time()
    assert procs[third].wait(60) in (10, 0), f"{third} did not end after losing leadership"
    ends = [t for who, what, t in read_log(log) if who == third and what == "end"]
    assert ends and ends[0] < back_at, f"{third} did not step down during the outage"
    fourth, _ = wait_for_starts(log, 4, DURATION + JITTERED_RETRY + SLACK + 60)

    # The Lease as `lease status` shows it: the fourth holds it, three transitions (four
    # holders one after another, counted alike by client-go and incluster).
    r = run([cli, "lease", "status", LEASE])
    assert r.returncode == 0, r.stderr
    status = json.loads(r.stdout)
    assert status["holderIdentity"] == fourth
    assert status["leaseTransitions"] == 3
    assert status["renewedSecondsAgo"] < DURATION

    stop[fourth].touch()
    assert procs[fourth].wait(30) == 0

    ivs = intervals(read_log(log))
    assert {who for who, _, _ in ivs} == {"cli", "py", "c", "go"}, ivs
    for (a, _, a_end), (b, b_start, _) in zip(ivs, ivs[1:]):
        assert a_end <= b_start, f"{a} still led when {b} started: {ivs}"


def test_without_rbac_on_leases_the_error_names_the_verb_and_resource(
        cluster: Cluster, cli: Path) -> None:
    sa = cluster.other_service_account("no-leases")
    env = {**os.environ, "INCLUSTER_SERVICEACCOUNT_DIR": str(sa)}
    want = f"cannot get leases.coordination.k8s.io in namespace {NAMESPACE}"
    r = run([cli, "lease", "status", "x"], env=env)
    assert r.returncode == 5 and want in r.stderr, r.stderr
    r = run([cli, "lease", "run", "x", "--", "true"], env=env)
    assert r.returncode == 5 and want in r.stderr, r.stderr

    import incluster

    client = incluster.Client(serviceaccount_dir=str(sa))
    with pytest.raises(incluster.Forbidden, match=want):
        with client.leader_election("x"):
            pass  # pragma: no cover - never entered

"""Client.leader_election against the test server's Lease store and its faults."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

import incluster
from conftest import Server, explicit

PATH = "/apis/coordination.k8s.io/v1/namespaces/py-ns/leases/lock"
# Short durations (3 s / 2 s / 0.3 s) so that expiry takes seconds.
FAST: dict[str, Any] = {"lease_duration": 3, "renew_deadline": 2, "retry_period": 0.3}


def client(server: Server) -> Any:
    return explicit(server, namespace="py-ns")


def test_leads_releases_and_reports_through_callbacks(server: Server) -> None:
    kube = client(server)
    events: list[tuple[str, Any]] = []
    lead = kube.leader_election(
        "lock",
        identity="py-a",
        on_started=lambda: events.append(("started", None)),
        on_stopped=lambda why: events.append(("stopped", why)),
        on_new_leader=lambda who: events.append(("leader", who)),
        **FAST,
    )
    with lead as entered:
        assert entered is lead
        assert lead.is_leader
        assert not lead.lost.is_set()
        spec = kube.get(PATH)["spec"]
        assert spec["holderIdentity"] == "py-a"
        assert spec["leaseDurationSeconds"] == 3
    assert not lead.is_leader
    assert lead.lost.is_set()
    spec = kube.get(PATH)["spec"]
    assert spec["holderIdentity"] == ""
    assert spec["leaseDurationSeconds"] == 1
    assert events == [
        ("leader", "py-a"),
        ("started", None),
        ("stopped", "released the Lease"),
    ]


def test_default_identity_is_hostname_and_suffix(server: Server) -> None:
    import socket

    with client(server).leader_election("lock", **FAST) as lead:
        assert lead.identity is not None
        assert lead.identity.startswith(socket.gethostname() + "_")


def test_a_second_contender_waits_and_times_out(server: Server) -> None:
    kube = client(server)
    with kube.leader_election("lock", identity="a", **FAST):
        other = kube.leader_election("lock", identity="b", timeout=1, **FAST)
        with pytest.raises(incluster.TimeoutError, match="no leadership of lease py-ns/lock"):
            with other:
                pass  # pragma: no cover - never entered
        assert not other.is_leader


def test_takeover_after_release_without_overlap(server: Server) -> None:
    kube = client(server)
    intervals: dict[str, list[float]] = {}
    a = kube.leader_election("lock", identity="a", **FAST)
    a.__enter__()
    intervals["a"] = [time.monotonic()]
    got_b = threading.Event()

    def contend() -> None:
        with kube.leader_election("lock", identity="b", lease_duration=60, renew_deadline=2,
                                  retry_period=0.3):
            intervals["b"] = [time.monotonic()]
            got_b.set()

    t = threading.Thread(target=contend)
    t.start()
    time.sleep(0.5)
    assert not got_b.is_set()
    intervals["a"].append(time.monotonic())
    a.__exit__(None, None, None)
    # Without the release B would wait out the 60 s lease.
    assert got_b.wait(30)
    t.join(30)
    assert intervals["a"][1] <= intervals["b"][0]
    assert kube.get(PATH)["spec"]["leaseTransitions"] == 1


def test_lost_is_signalled_when_the_api_server_goes_away(server: Server) -> None:
    kube = client(server)
    reasons: list[str] = []
    with kube.leader_election("lock", on_stopped=reasons.append, **FAST) as lead:
        server.control("PUT", "/_control/leases", {"unavailable": True})
        assert lead.wait_lost(30)
        assert lead.lost.is_set()
        assert not lead.is_leader
    server.control("PUT", "/_control/leases", {"unavailable": False})
    assert "renew deadline" in reasons[0]


def test_run_returns_the_result_or_raises_when_leadership_is_lost(server: Server) -> None:
    kube = client(server)
    with kube.leader_election("lock", **FAST) as lead:
        assert lead.run(lambda x, y=0: x + y, 2, y=3) == 5
        with pytest.raises(ZeroDivisionError):
            lead.run(lambda: 1 / 0)
        stop = threading.Event()

        def work() -> None:
            server.control("PUT", "/_control/leases", {"unavailable": True})
            stop.wait(30)

        with pytest.raises(incluster.Cancelled, match="leadership of lease py-ns/lock"):
            lead.run(work)
        stop.set()
    server.control("PUT", "/_control/leases", {"unavailable": False})


def test_forbidden_names_verb_and_resource(server: Server) -> None:
    server.control("PUT", "/_control/leases", {"forbidden": True})
    with pytest.raises(incluster.Forbidden, match="cannot get leases.coordination.k8s.io in "
                       "namespace py-ns"):
        with client(server).leader_election("lock", **FAST):
            pass  # pragma: no cover - never entered


@pytest.mark.parametrize(
    "kw,message",
    [
        ({"lease_duration": 2, "renew_deadline": 2}, "lease duration (2s)"),
        ({"renew_deadline": 1, "retry_period": 1}, "1.2"),
        ({"retry_period": 0}, "retry_period must be a number of seconds > 0"),
        ({"timeout": -1}, "timeout"),
    ],
)
def test_bad_settings_are_invalid_argument(server: Server, kw: dict[str, Any],
                                           message: str) -> None:
    with pytest.raises(incluster.InvalidArgument, match=message.replace("(", r"\(").replace(
            ")", r"\)").replace(".", r"\.")):
        client(server).leader_election("lock", **kw)


def test_a_callback_that_raises_does_not_stop_the_election(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    seen: list[BaseException] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_value))

    def boom() -> None:
        raise RuntimeError("from on_started")

    with client(server).leader_election("lock", on_started=boom, **FAST) as lead:
        assert lead.is_leader
    assert [str(e) for e in seen] == ["from on_started"]


def test_ctrl_c_while_waiting_for_leadership(server: Server) -> None:
    import _thread

    kube = client(server)
    with kube.leader_election("lock", identity="a", **FAST):
        other = kube.leader_election("lock", identity="b", **FAST)
        timer = threading.Timer(0.5, _thread.interrupt_main)
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            other.__enter__()
        timer.join()
        assert not other.is_leader
        assert kube.get(PATH)["spec"]["holderIdentity"] == "a"

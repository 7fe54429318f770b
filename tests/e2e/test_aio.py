"""incluster.aio against the real API server: the Python request cases of test_api.py and
test_request_edges.py run through the async client (on asyncio and uvloop), then RBAC errors,
concurrency and cancellation on the real server, then the workflows: wait, a lease, exec and
port-forward through the fake kubelet."""

from __future__ import annotations

import asyncio
import inspect
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import pytest

import incluster
import incluster.aio
import test_api
import test_exec
import test_request_edges
from cluster import NAMESPACE, Cluster

# The adaptor the unit tests use (tests/python/aio_adaptor.py; mypy checks it there, and
# cannot see it from here).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from aio_adaptor import (  # type: ignore[import-not-found]  # noqa: E402
    LOOPS, AioIncluster, LoopThread, new_loop)

CMS = f"/api/v1/namespaces/{NAMESPACE}/configmaps"
SHARED = [(test_api, "test_python_crud_and_errors"), (test_api, "test_python_whoami_and_can_i"),
          (test_request_edges, "test_python_request_edges")]


@pytest.fixture(params=LOOPS)
def loop_thread(request: pytest.FixtureRequest) -> Iterator[LoopThread]:
    lt = LoopThread(str(request.param))
    yield lt
    lt.close()


@pytest.mark.parametrize("case", SHARED, ids=[n for _, n in SHARED])
def test_python_cases_through_aio(case: tuple[ModuleType, str], cluster: Cluster,
                                  loop_thread: LoopThread, request: pytest.FixtureRequest,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    module, name = case
    monkeypatch.setattr(module, "incluster", AioIncluster(loop_thread))
    test = getattr(module, name)
    test(**{p: request.getfixturevalue(p) for p in inspect.signature(test).parameters})


@pytest.mark.parametrize("flavour", LOOPS)
def test_concurrent_requests_and_cancellation(cluster: Cluster, flavour: str) -> None:
    async def main() -> None:
        async with incluster.aio.Client() as kube:
            names = [f"aio-{flavour}-{i}" for i in range(40)]
            made = await asyncio.gather(*(kube.post(CMS, {"metadata": {"name": n}})
                                          for n in names))
            assert sorted(m["metadata"]["name"] for m in made) == sorted(names)
            # A watch request never ends by itself: cancelling it must end it.
            hang = asyncio.ensure_future(kube.get(CMS, params={"watch": "1"}))
            await asyncio.sleep(0.3)
            hang.cancel()
            with pytest.raises(asyncio.CancelledError):
                await hang
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(kube.get(CMS, params={"watch": "1"}), 0.3)
            with pytest.raises(incluster.Forbidden):
                await kube.get(f"/api/v1/namespaces/{NAMESPACE}/secrets")
            await asyncio.gather(*(kube.delete(f"{CMS}/{n}") for n in names))
            left = [i["metadata"]["name"] for i in (await kube.get(CMS))["items"]]
            assert not set(names) & set(left)

    loop = new_loop(flavour)
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()


@pytest.mark.parametrize("flavour", LOOPS)
def test_watch_and_follow_through_the_real_api_server(cluster: Cluster, flavour: str) -> None:
    """An async watch sees the ConfigMaps created after its resourceVersion; an async log
    follow, dropped mid-line by the kubelet every 50 lines, resumes through the API server
    without losing or repeating a line and ends when the container terminates."""
    pod = f"aio-follow-{flavour}"
    cluster.create_pod(pod, ["main"])

    def kubelet_logs(count: int, interval_ms: int = 0) -> None:
        cluster.kubelet("POST", "/_control/logs/generate", {
            "namespace": NAMESPACE, "pod": pod, "container": "main", "count": count,
            "size": 60, "interval_ms": interval_ms, "prefix": "e2e"})

    async def main() -> None:
        async with incluster.aio.Client() as kube:
            rv = (await kube.get(CMS))["metadata"]["resourceVersion"]
            names = [f"aio-w-{flavour}-{i}" for i in range(5)]
            seen: list[str] = []
            async with kube.watch(CMS, resource_version=rv) as w:
                for n in names:
                    await kube.post(CMS, {"metadata": {"name": n}})
                async for ev in w:
                    if ev.type == "ADDED" and ev.object["metadata"]["name"] in names:
                        seen.append(ev.object["metadata"]["name"])
                    if len(seen) == len(names):
                        break
            assert seen == names
            await asyncio.gather(*(kube.delete(f"{CMS}/{n}") for n in names))

            kubelet_logs(20)
            lines: list[str] = []
            async with kube.logs(pod, container="main", follow=True,
                                 backoff=(0.05, 0.5)) as follow:
                kubelet_logs(130, interval_ms=30)

                async def end_later() -> None:
                    await asyncio.sleep(130 * 0.03 + 1.5)
                    cluster.set_container_states(pod, {"main": "terminated"})
                    cluster.kubelet("PUT", f"/_control/pods/{NAMESPACE}/{pod}/state",
                                    {"container": "main", "state": "terminated"})

                ender = asyncio.ensure_future(end_later())
                async for line in follow:
                    lines.append(line)
                await ender
            assert [int(ln.split("seq=")[1][:10]) for ln in lines] == list(range(1, 151))

    cluster.kubelet("PUT", "/_control/logs/faults", {"drop_every": 50, "drop_mid_line": True})
    loop = new_loop(flavour)
    try:
        loop.run_until_complete(asyncio.wait_for(main(), 90))
    finally:
        loop.close()
        cluster.kubelet("PUT", "/_control/logs/faults", {"drop_every": 0, "drop_mid_line": False})


# ---- the workflows: wait, a lease, exec and port-forward through the fake kubelet ----------


def run_on(flavour: str, main: Any, limit: float = 120) -> None:
    loop = new_loop(flavour)
    try:
        loop.run_until_complete(asyncio.wait_for(main(), limit))
    finally:
        loop.close()


@pytest.mark.parametrize("flavour", LOOPS)
def test_wait_through_the_real_api_server(cluster: Cluster, flavour: str) -> None:
    """An async wait for an object created later; its own timeout; cancelling one."""
    name = f"aio-wait-{flavour}"

    async def main() -> None:
        async with incluster.aio.Client() as kube:
            waiting = asyncio.ensure_future(
                kube.wait(f"configmap/{name}", "jsonpath={.data.k}=v", timeout=60))
            await asyncio.sleep(0.5)
            assert not waiting.done()
            await kube.post(CMS, {"metadata": {"name": name}, "data": {"k": "v"}})
            got = await waiting
            assert (got["kind"], got["metadata"]["name"]) == ("ConfigMap", name)
            with pytest.raises(incluster.WaitTimeout, match=name):
                await kube.wait(f"{CMS}/{name}", "jsonpath={.data.k}=w", timeout=0.5)
            task = asyncio.ensure_future(kube.wait(f"{CMS}/{name}", "delete"))
            await asyncio.sleep(0.3)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            gone = asyncio.ensure_future(kube.wait(f"{CMS}/{name}", "delete", timeout=60))
            await asyncio.sleep(0.3)
            await kube.delete(f"{CMS}/{name}")
            assert (await gone)["metadata"]["name"] == name

    run_on(flavour, main)


@pytest.mark.parametrize("flavour", LOOPS)
def test_a_lease_through_the_real_api_server(cluster: Cluster, flavour: str) -> None:
    """Lead, hand over to a waiting contender on leaving; a cancelled contender leaves the
    Lease to its holder."""
    lease = f"aio-lease-{flavour}"
    path = f"/apis/coordination.k8s.io/v1/namespaces/{NAMESPACE}/leases/{lease}"
    fast: dict[str, Any] = {"lease_duration": 8, "renew_deadline": 6, "retry_period": 1}

    async def main() -> None:
        async with incluster.aio.Client() as kube:
            async with kube.leader_election(lease, identity="a", **fast) as a:
                assert a.is_leader
                assert (await kube.get(path))["spec"]["holderIdentity"] == "a"
                b = kube.leader_election(lease, identity="b", **fast)
                waiting = asyncio.ensure_future(b.__aenter__())
                await asyncio.sleep(1.5)
                waiting.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await waiting
                assert (await kube.get(path))["spec"]["holderIdentity"] == "a"
                c = kube.leader_election(lease, identity="c", **fast)
                taking = asyncio.ensure_future(c.__aenter__())
                await asyncio.sleep(1.5)
            assert a.lost.is_set()
            # a released the Lease on leaving: c takes it at its next try, not after 8 s.
            await asyncio.wait_for(taking, 5)
            assert c.is_leader
            assert (await kube.get(path))["spec"]["holderIdentity"] == "c"
            await c.__aexit__(None, None, None)
            assert (await kube.get(path))["spec"]["holderIdentity"] == ""

    run_on(flavour, main)


# test_exec.py's pod, on a fake kubelet of this module's own.
exec_pod = test_exec.exec_pod
http_port = test_exec.http_port


@pytest.mark.parametrize("flavour", LOOPS)
def test_exec_and_port_forward_through_the_fake_kubelet(exec_pod: str, http_port: int,
                                                        flavour: str) -> None:
    """exec to completion, a streamed session fed and read, a cancelled exec, and a
    port-forward as an asyncio reader/writer pair and as a listener, through the real API
    server to the kubelet's own streaming server."""

    async def main() -> None:
        async with incluster.aio.Client() as kube:
            r = await kube.exec(exec_pod, ["sh", "-c", "echo out; echo err >&2; exit 3"])
            assert (r.returncode, r.stdout, r.stderr) == (3, b"out\n", b"err\n")
            r = await kube.exec(exec_pod, ["cat"], stdin=b"x" * 100_000)
            assert r.stdout == b"x" * 100_000
            async with kube.exec_stream(exec_pod, ["sh", "-c", "read a; echo got:$a"],
                                        stdin=True) as s:
                await s.write("hello\n")
                await s.close_stdin()
                out = b"".join([d async for ch, d in s if ch == 1])
                assert out == b"got:hello\n"
                assert s.returncode == 0
            task = asyncio.ensure_future(kube.exec(exec_pod, ["sleep", "30"]))
            await asyncio.sleep(1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

            reader, writer = await kube.port_forward(exec_pod, http_port)
            writer.write(b"GET /aio HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            await writer.drain()
            answer = await reader.read()
            assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"hello /aio")
            writer.close()
            await writer.wait_closed()
            async with kube.port_forward_listen(exec_pod, http_port) as fwd:
                for i in range(20):
                    rd, wr = await asyncio.open_connection(*fwd.address)
                    wr.write(f"GET /l{i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                             .encode())
                    assert (await rd.read()).endswith(f"hello /l{i}".encode())
                    wr.close()
                    await wr.wait_closed()
            # The client still answers after all of it.
            assert (await kube.get("/version"))["major"] == "1"

    run_on(flavour, main)

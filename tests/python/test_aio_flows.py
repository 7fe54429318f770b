"""incluster.aio's workflows: the sync tests of names and apply, wait, leader election, exec,
port-forward and kubeconfig run through the async client (default loop and uvloop), then
what only asyncio has: cancelling each long operation, and waits that hold no thread."""

from __future__ import annotations

import asyncio
import gc
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Awaitable, Callable, TypeVar

import pytest

import incluster
import incluster.aio
import test_exec
import test_kubeconfig
import test_lease
import test_names
import test_wait
from aio_adaptor import expand, new_loop
from conftest import TOKEN, Server
from test_aio import flavour, loop_thread  # noqa: F401 (fixtures)
from test_aio import test_sync_case_through_aio as run_sync_case

T = TypeVar("T")

# The sync tests that hold for the async client too. Left out: Ctrl-C (its counterpart,
# cancellation, is tested below), the GIL (a wait holds no thread at all here: tested below),
# an interpreter exiting around a daemon thread, and a raising callback reported as
# unraisable (the async callbacks run on the loop, whose exception handler reports them).
FLOWS: list[tuple[ModuleType, str, dict[str, Any]]] = [
    case for module, names in (
        (test_names, ("test_every_method_takes_names",
                      "test_resolve_reports_the_resource",
                      "test_bad_names_raise_invalid_argument_with_close_matches",
                      "test_apply_text_dicts_and_lists")),
        (test_wait, ("test_met_returns_the_object_and_which_condition_held",
                     "test_fail_on_timeout_and_their_classes",
                     "test_an_object_created_later_while_the_gil_is_free",
                     "test_a_selection_and_the_empty_one",
                     "test_bad_input_is_named")),
        (test_lease, ("test_leads_releases_and_reports_through_callbacks",
                      "test_default_identity_is_hostname_and_suffix",
                      "test_a_second_contender_waits_and_times_out",
                      "test_takeover_after_release_without_overlap",
                      "test_lost_is_signalled_when_the_api_server_goes_away",
                      "test_run_returns_the_result_or_raises_when_leadership_is_lost",
                      "test_forbidden_names_verb_and_resource",
                      "test_bad_settings_are_invalid_argument")),
        (test_exec, ("test_exit_code_and_streams_apart",
                     "test_stdin_is_fed_and_closed",
                     "test_bad_stdin_and_names_are_typed_errors",
                     "test_timeout_cancels",
                     "test_streaming_write_close_iterate_wait",
                     "test_tty_resize",
                     "test_attach",
                     "test_port_forward_socket",
                     "test_port_forward_listener")),
        (test_kubeconfig, ("test_from_kubeconfig_and_source",
                           "test_discovery_pod_first_then_home_kubeconfig",
                           "test_no_pod_and_no_kubeconfig_is_a_config_error",
                           "test_kubeconfig_list_first_file_wins",
                           "test_token_file_is_reread_when_it_rotates",
                           "test_exec_plugin_runs_once_and_again_only_after_a_401",
                           "test_insecure_kubeconfig_warns",
                           "test_every_bad_kubeconfig_is_a_config_error")),
    ) for name in names for case in expand(module, name)
]


@pytest.mark.parametrize(
    "case", FLOWS, ids=[f"{m.__name__}::{n}" + (f"[{i}]" if x else "")
                        for i, (m, n, x) in enumerate(FLOWS)])
def test_sync_flow_through_aio(case: tuple[ModuleType, str, dict[str, Any]],
                               loop_thread: Any, request: pytest.FixtureRequest,  # noqa: F811
                               monkeypatch: pytest.MonkeyPatch) -> None:
    run_sync_case(case, loop_thread, request, monkeypatch)


def run(flavour: str, main: Callable[[], Awaitable[T]]) -> T:
    loop = new_loop(flavour)
    try:
        return loop.run_until_complete(main())
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def client(server: Server, **kw: Any) -> incluster.aio.Client:
    return incluster.aio.Client(server=server.url, ca_file=server.ca, token=TOKEN, **kw)


def open_fds() -> int:
    import os

    return len(os.listdir("/proc/self/fd"))


def os_threads() -> int:
    import os

    return len(os.listdir("/proc/self/task"))


async def settled(threads: int) -> None:
    """Until the threads of finished calls have ended (they end with their call)."""
    for _ in range(500):
        if incluster._native._aio_long() == 0 and os_threads() <= threads:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{os_threads()} threads, {incluster._native._aio_long()} long calls")


COLL = "/api/v1/namespaces/await/configmaps"


def test_waiting_waits_hold_no_thread_and_do_not_starve_requests(
        server: Server, flavour: str) -> None:
    """1,000 waits wait on the event loop: no worker is busy and no thread is added while they
    wait, a GET answers meanwhile, each wait ends when its object meets the condition, and
    cancelled waits close their sockets."""
    count = 1000

    async def main() -> None:
        c = client(server)
        await c.get("/version")
        fds, threads = open_fds(), os_threads()
        waits = [asyncio.ensure_future(c.wait(f"{COLL}/w{i}", "jsonpath={.data.k}=v"))
                 for i in range(count)]

        async def watching() -> None:
            while sum(1 for r in server.requests() if "watch=1" in r["path"]) < count:
                await asyncio.sleep(0.05)

        await asyncio.wait_for(watching(), 120)
        assert incluster._native._aio_busy() == 0
        assert os_threads() == threads
        t0 = time.monotonic()
        assert (await asyncio.wait_for(c.get("/version"), 10))["major"] == "1"
        assert time.monotonic() - t0 < 5
        for i in range(0, count, 2):
            await c.post(COLL, {"metadata": {"name": f"w{i}"}, "data": {"k": "v"}})
        met = await asyncio.wait_for(asyncio.gather(*waits[0::2]), 60)
        assert [m["metadata"]["name"] for m in met] == [f"w{i}" for i in range(0, count, 2)]
        assert not any(w.done() for w in waits[1::2])
        for w in waits[1::2]:
            w.cancel()
        for w in waits[1::2]:
            with pytest.raises(asyncio.CancelledError):
                await w
        assert (await c.get("/version"))["major"] == "1"
        assert os_threads() == threads
        # (The client's keep-alive connections may have changed meanwhile: at most a few.)
        assert open_fds() <= fds + 8

    run(flavour, main)


def test_wait_timeouts_and_cancellation(server: Server, flavour: str) -> None:
    async def main() -> None:
        c = client(server)
        await c.post(COLL, {"metadata": {"name": "slow"}})
        # The wait's own timeout: the core's WaitTimeout, naming what was waited for.
        with pytest.raises(incluster.WaitTimeout, match="did not meet condition=Ready"):
            await c.wait(f"{COLL}/slow", "condition=Ready", timeout=0.3)
        # asyncio's: CancelledError inside, TimeoutError outside, the client goes on.
        with pytest.raises(asyncio.TimeoutError) as info:
            await asyncio.wait_for(c.wait(f"{COLL}/slow", "condition=Ready"), 0.3)
        assert not isinstance(info.value, incluster.Error)
        task = asyncio.ensure_future(c.wait(f"{COLL}/slow", "condition=Ready"))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # Unmeetable from the watch: deleted while waiting.
        waiting = asyncio.ensure_future(c.wait(f"{COLL}/slow", "condition=Ready"))
        await asyncio.sleep(0.3)
        await c.delete(f"{COLL}/slow")
        with pytest.raises(incluster.Unmeetable, match="deleted while waiting"):
            await asyncio.wait_for(waiting, 30)
        # A request's own timeout inside a wait is not the wait's timeout.
        assert (await c.get("/version"))["major"] == "1"

    run(flavour, main)


FAST: dict[str, Any] = {"lease_duration": 3, "renew_deadline": 2, "retry_period": 0.3}
LEASE = "/apis/coordination.k8s.io/v1/namespaces/py-ns/leases/lock"


def test_cancelled_elections_release_and_leave_no_thread(server: Server, flavour: str) -> None:
    async def main() -> None:
        c = client(server, namespace="py-ns")
        await c.get("/version")
        threads = os_threads()
        started: list[str] = []

        async def on_started() -> None:
            started.append("a")

        async def lead_forever() -> None:
            async with c.leader_election("lock", identity="a", on_started=on_started,
                                         **FAST) as le:
                assert le.is_leader
                await asyncio.Event().wait()

        a = asyncio.ensure_future(lead_forever())
        while not started:
            await asyncio.sleep(0.01)
        assert (await c.get(LEASE))["spec"]["holderIdentity"] == "a"
        # A contender waiting for leadership, cancelled: it ends at once, a keeps the Lease.
        b = c.leader_election("lock", identity="b", **FAST)
        waiting = asyncio.ensure_future(b.__aenter__())
        await asyncio.sleep(0.5)
        t0 = time.monotonic()
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert time.monotonic() - t0 < 1
        assert not b.is_leader
        assert (await c.get(LEASE))["spec"]["holderIdentity"] == "a"
        # The leader cancelled inside `async with`: the Lease is released on the way out.
        a.cancel()
        with pytest.raises(asyncio.CancelledError):
            await a
        assert (await c.get(LEASE))["spec"]["holderIdentity"] == ""
        await settled(threads + 0)
        # run(): a coroutine function's result; lost leadership cancels it.
        async with c.leader_election("lock", **FAST) as le:
            async def add(x: int, y: int = 0) -> int:
                await asyncio.sleep(0)
                return x + y

            assert await le.run(add, 2, y=3) == 5
            cancelled = asyncio.Event()

            async def work() -> None:
                server.control("PUT", "/_control/leases", {"unavailable": True})
                try:
                    await asyncio.sleep(60)
                except asyncio.CancelledError:
                    cancelled.set()
                    raise

            with pytest.raises(incluster.Cancelled, match="leadership of lease py-ns/lock"):
                await asyncio.wait_for(le.run(work), 30)
            assert cancelled.is_set()
            assert le.lost.is_set()
        server.control("PUT", "/_control/leases", {"unavailable": False})
        await settled(threads)

    run(flavour, main)


def test_cancelling_exec_closes_the_session(server: Server, flavour: str) -> None:
    async def main() -> None:
        c = client(server)
        await c.get("/version")
        threads, fds = os_threads(), open_fds()
        # A running exec: the session ends at once and its thread with it.
        task = asyncio.ensure_future(c.exec("web", ["sleep", "30"]))
        await asyncio.sleep(0.3)
        t0 = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - t0 < 1
        await settled(threads)
        # A blocked read of a stream: cancelled, the session is closed.
        async with c.exec_stream("web", ["sleep", "30"]) as s:
            reading = asyncio.ensure_future(s.__anext__())
            await asyncio.sleep(0.3)
            # Readable while a read waits on its thread.
            assert s.protocol == "v5.channel.k8s.io"
            reading.cancel()
            with pytest.raises(asyncio.CancelledError):
                await reading
            assert "closed" in repr(s)
            with pytest.raises(StopAsyncIteration):
                await s.__anext__()
        # asyncio.wait_for over a whole session, and the client goes on.
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(c.exec("web", ["sleep", "30"]), 0.3)
        r = await c.exec("web", ["sh", "-c", "echo ok"])
        assert (r.returncode, r.stdout) == (0, b"ok\n")
        await settled(threads)
        gc.collect()
        assert open_fds() <= fds + 2

    run(flavour, main)


def test_port_forward_streams_and_cancelled_reads(server: Server, flavour: str) -> None:
    port = test_exec._echo_server()

    async def main() -> None:
        c = client(server)
        await c.get("/version")
        threads = os_threads()
        reader, writer = await c.port_forward("web", port)
        writer.write(b"hello")
        await writer.drain()
        assert await asyncio.wait_for(reader.readexactly(5), 10) == b"hello"
        # A read that waits, cancelled: the stream stays usable.
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(reader.read(10), 0.2)
        writer.write(b"again")
        assert await asyncio.wait_for(reader.readexactly(5), 10) == b"again"
        writer.close()
        await writer.wait_closed()
        # Its two threads end with the connection.
        for _ in range(500):
            if os_threads() <= threads:
                break
            await asyncio.sleep(0.01)
        assert os_threads() <= threads
        with pytest.raises(incluster.Forbidden, match="pods/portforward"):
            await c.port_forward("fault-forbidden", 80)
        async with c.port_forward_listen("web", port) as fwd:
            r, w = await asyncio.open_connection(*fwd.address)
            w.write(b"ping")
            assert await asyncio.wait_for(r.readexactly(4), 10) == b"ping"
            w.close()
            await w.wait_closed()

    run(flavour, main)


def test_an_exec_plugin_never_blocks_the_loop(server: Server, tmp_path: Path,
                                              flavour: str) -> None:
    """A credential plugin that takes 0.5 s runs on the worker of the request that needs the
    token: the loop goes on meanwhile."""
    plugin = test_kubeconfig.script(tmp_path, "slow-plugin.sh",
                                    "sleep 0.5\necho '" + test_kubeconfig.PLUGIN_ANSWER % TOKEN
                                    + "'")
    p = test_kubeconfig.kubeconfig(tmp_path, "config", server,
                                   test_kubeconfig.exec_user(str(plugin)))

    async def main() -> None:
        c = incluster.aio.Client.from_kubeconfig(p)
        assert c.source["type"] == "kubeconfig"
        ticks = 0
        got = asyncio.ensure_future(c.get("/version"))
        while not got.done():
            ticks += 1
            await asyncio.sleep(0.01)
        assert (await got)["major"] == "1"
        assert ticks > 20

    run(flavour, main)


def test_callback_forms(server: Server, flavour: str) -> None:
    async def main() -> None:
        c = client(server)
        rv = (await c.get(COLL))["metadata"]["resourceVersion"]
        await c.post(COLL, {"metadata": {"name": "cb"}})
        seen: list[str] = []

        async def on_event(ev: incluster.WatchEvent) -> bool:
            seen.append(ev.object["metadata"]["name"])
            return False

        await asyncio.wait_for(c.watch(COLL, resource_version=rv, callback=on_event), 30)
        assert seen == ["cb"]

        def boom(ev: incluster.WatchEvent) -> None:
            raise KeyError("from the callback")

        with pytest.raises(KeyError, match="from the callback"):
            await asyncio.wait_for(c.watch(COLL, resource_version=rv, callback=boom), 30)

    run(flavour, main)


def test_election_callbacks_run_on_the_loop_and_their_errors_reach_its_handler(
        server: Server, flavour: str) -> None:
    """Plain and coroutine callbacks run on the loop's thread; one that raises is reported to
    the loop's exception handler (the sync election's counterpart: unraisable), and the
    election goes on."""
    import threading

    async def main() -> None:
        reported: list[Any] = []
        asyncio.get_running_loop().set_exception_handler(
            lambda loop, ctx: reported.append(ctx.get("exception")))
        c = client(server, namespace="py-ns")
        calls: list[Any] = []

        def boom() -> None:
            calls.append(threading.get_ident())
            raise RuntimeError("from on_started")

        async def stopped(why: str) -> None:
            calls.append(why)

        async with c.leader_election("lock", on_started=boom, on_stopped=stopped,
                                     on_new_leader=calls.append, identity="cb",
                                     **FAST) as le:
            await asyncio.sleep(0.1)
            assert le.is_leader
        await asyncio.sleep(0.1)
        assert calls == ["cb", threading.get_ident(), "released the Lease"]
        assert [str(e) for e in reported] == ["from on_started"]
        assert "leader=False" in repr(le)

    run(flavour, main)


EXIT_SCRIPT = """
import asyncio, sys, incluster.aio

async def main():
    c = incluster.aio.Client(server=sys.argv[1], ca_file=sys.argv[2], token=sys.argv[3])
    for _ in range(3):
        async with c.exec_stream("web", ["cat"], stdin=True) as s:
            async def feed():
                for _ in range(8):
                    await s.write(b"x" * 262144)
                await s.close_stdin()
            w = asyncio.ensure_future(feed())
            got = 0
            async for _, d in s:
                got += len(d)
            await w
    assert got == 8 * 262144, got

asyncio.run(main())
"""


def test_a_program_that_ends_right_after_its_last_await_exits_cleanly(server: Server) -> None:
    """The thread that handed the last answer to the loop may still be waking it when the
    program ends: the interpreter waits for it at exit instead of aborting the process."""
    import subprocess
    import sys

    # (Without the wait at exit some of these runs abort: the test can fail, though a race
    # does not lose every time; hence several runs.)
    for _ in range(12):
        out = subprocess.run([sys.executable, "-c", EXIT_SCRIPT, server.url, str(server.ca),
                              TOKEN], capture_output=True, text=True, timeout=120)
        assert (out.returncode, out.stderr) == (0, "")

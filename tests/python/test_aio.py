"""incluster.aio: the sync request tests run through the async client, on the default event
loop and on uvloop, then what only asyncio has: cancellation and a loop that never waits."""

from __future__ import annotations

import asyncio
import ctypes
import gc
import inspect
import logging
import os
import random
import socket
import threading
import time
import warnings
from types import ModuleType
from typing import Any, Awaitable, Callable, Iterator, TypeVar

import pytest

import incluster
import incluster.aio
import test_client
import test_logs
import test_request_edges
import test_stream_threads
import test_watch
from aio_adaptor import LOOPS, AioIncluster, LoopThread, expand, new_loop
from conftest import TOKEN, Server

T = TypeVar("T")


@pytest.fixture(params=LOOPS)
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def aio_explicit(shim: AioIncluster) -> Callable[..., Any]:
    def explicit(server: Server, token: Any = TOKEN, **kw: Any) -> Any:
        return shim.Client(server=server.url, ca_file=str(server.ca), token=token, **kw)

    return explicit


# The sync tests that hold for the async client too. Left out: Ctrl-C (asyncio's counterpart
# is cancellation, tested below), the sync client's help text, callbacks (an async for
# loop is the async form), and threads taking turns on one stream (one task owns it).
SHARED: list[tuple[ModuleType, str, dict[str, Any]]] = [
    case for name in (
        "test_discovers_the_simulated_pod",
        "test_explicit_config_every_way",
        "test_kubectl_proxy_route",
        "test_parsed_results_and_encoding",
        "test_crud_patch_types_and_params",
        "test_raw_response",
        "test_every_exception_type_and_its_attributes",
        "test_the_token_never_appears_in_messages",
        "test_threads_share_one_client",
        "test_the_gil_is_released_while_waiting",
        "test_token_rotation_fails_no_call",
        "test_context_manager_closes",
        "test_whoami_and_can_i",
        "test_a_compressed_body_is_never_inflated",
    ) for case in expand(test_client, name)
] + [
    case for name in (
        "test_field_manager_goes_with_every_patch_type_and_force_only_with_apply",
        "test_a_method_that_is_not_one_is_an_argument_error_sent_nowhere",
        "test_every_argument_error_is_invalid_argument",
        "test_an_explicit_server_keeps_the_pods_credentials",
        "test_an_explicit_server_without_a_token_is_refused_outside_a_pod",
        "test_the_request_timeout_names_the_request_and_the_limit",
        "test_a_body_that_is_not_json_names_the_path_type_and_request_raw",
        "test_can_i_verbs_are_case_insensitive_and_unknown_ones_warn",
    ) for case in expand(test_request_edges, name)
] + [
    case for name in (
        "test_iterate_events_as_dicts",
        "test_drops_lose_and_repeat_nothing",
        "test_relist_on_gone_gives_resync_markers_and_the_servers_state",
        "test_on_gone_error_raises_gone",
        "test_cancel_from_another_thread_ends_the_iteration",
        "test_bookmarks_on_request",
        "test_a_watch_that_cannot_start_raises",
    ) for case in expand(test_watch, name)
] + [
    case for name in (
        "test_lines_as_text_with_replacement_and_as_bytes",
        "test_text_lines_with_non_ascii_anywhere",
        "test_follow_resumes_across_drops_and_ends_with_the_container",
        "test_errors",
    ) for case in expand(test_logs, name)
] + [
    case for name in (
        "test_a_watch_keeps_running_after_its_client_is_closed",
    ) for case in expand(test_stream_threads, name)
]


@pytest.fixture
def loop_thread(flavour: str) -> Iterator[LoopThread]:
    lt = LoopThread(flavour)
    yield lt
    lt.close()


@pytest.mark.parametrize(
    "case", SHARED, ids=[f"{m.__name__}::{n}" + (f"[{i}]" if x else "")
                         for i, (m, n, x) in enumerate(SHARED)])
def test_sync_case_through_aio(case: tuple[ModuleType, str, dict[str, Any]],
                               loop_thread: LoopThread, request: pytest.FixtureRequest,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    module, name, given = case
    shim = AioIncluster(loop_thread)
    monkeypatch.setattr(module, "incluster", shim)
    if hasattr(module, "explicit"):
        monkeypatch.setattr(module, "explicit", aio_explicit(shim))
    test = getattr(module, name)
    args = {p: given[p] if p in given else request.getfixturevalue(p)
            for p in inspect.signature(test).parameters}
    test(**args)


def run(flavour: str, main: Callable[[], Awaitable[T]]) -> T:
    """Run `main()` on a new event loop of the flavour, in this thread."""
    loop = new_loop(flavour)
    try:
        return loop.run_until_complete(main())
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def client(server: Server, **kw: Any) -> incluster.aio.Client:
    return incluster.aio.Client(server=server.url, ca_file=server.ca, token=TOKEN, **kw)


def delays(server: Server) -> int:
    return sum(1 for r in server.requests() if r["path"].startswith("/_test/delay"))


def test_cancelling_frees_the_workers_and_queued_calls_never_start(
        server: Server, flavour: str) -> None:
    calls = 5 * incluster._native._aio_threads()

    async def main() -> None:
        async with client(server) as c:
            tasks = [asyncio.ensure_future(c.get("/_test/delay", params={"ms": 60_000}))
                     for _ in range(calls)]
            while delays(server) < incluster._native._aio_threads():
                await asyncio.sleep(0.01)
            # Newest first, so no worker freed by an early cancel can pick up a queued call
            # not yet cancelled.
            for t in reversed(tasks):
                t.cancel()
            for t in tasks:
                with pytest.raises(asyncio.CancelledError):
                    await t
            # Every worker sat in a 60 s request: this answer needs them to have let go.
            assert (await asyncio.wait_for(c.get("/version"), 20))["major"] == "1"

    run(flavour, main)
    assert delays(server) == incluster._native._aio_threads()


class Silent:
    """An HTTP server that reads each request's head and never answers; it records each
    connection's end as the client closes it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.heads = 0
        self.closed = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()

    def _hold(self, conn: socket.socket) -> None:
        with conn:
            got = b""
            while b"\r\n\r\n" not in got:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                got += chunk
            with self.lock:
                self.heads += 1
            while conn.recv(4096):
                pass
            with self.lock:
                self.closed += 1

    def close(self) -> None:
        self.sock.close()


def test_a_cancelled_request_is_woken_out_of_its_socket_wait(server: Server,
                                                             flavour: str) -> None:
    """Requests to a server that never answers, one on every worker, cancelled: the server
    sees each connection closed, every worker takes the next call, and no descriptor is left
    behind; ten times over. A worker's socket wait is one poll on the socket and its wake fd
    for the whole request timeout (120 s here), no longer cut into slices that look at the
    cancel flag, so this fails if a cancel does not wake the wait."""
    silent = Silent()
    workers = incluster._native._aio_threads()

    async def until(what: Callable[[], bool]) -> None:
        while not what():
            await asyncio.sleep(0.005)

    async def main() -> None:
        hang = incluster.aio.Client(server=silent.url, token=TOKEN, timeout=120)
        ok = client(server)
        fds = 0
        for round in range(10):
            tasks = [asyncio.ensure_future(hang.get("/never")) for _ in range(workers)]
            await asyncio.wait_for(until(lambda: silent.heads == (round + 1) * workers), 20)
            for t in tasks:
                t.cancel()
            for t in tasks:
                with pytest.raises(asyncio.CancelledError):
                    await t
            await asyncio.wait_for(until(lambda: silent.closed == (round + 1) * workers), 20)
            await asyncio.wait_for(until(lambda: incluster._native._aio_busy() == 0), 20)
            assert (await asyncio.wait_for(ok.get("/version"), 20))["major"] == "1"
            if round == 0:
                # After the first round: the workers' wake fds and ok's pooled connection.
                fds = open_fds()
        assert open_fds() <= fds
        # The client stays usable: its next request is made (and again cancelled).
        t = asyncio.ensure_future(hang.get("/never"))
        await asyncio.wait_for(until(lambda: silent.heads == 10 * workers + 1), 20)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t

    try:
        run(flavour, main)
    finally:
        silent.close()


def test_asyncio_timeouts_cancel_and_the_client_goes_on(server: Server, flavour: str) -> None:
    async def main() -> None:
        c = client(server)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(c.get("/_test/delay", params={"ms": 30_000}), 0.2)
        assert await c.can_i("get", "pods") is True
        # The client's own request timeout is still the sync client's exception.
        with pytest.raises(incluster.TimeoutError):
            await client(server, timeout=0.2).get("/_test/delay", params={"ms": 30_000})

    run(flavour, main)


def test_the_loop_runs_while_requests_wait(server: Server, flavour: str) -> None:
    async def main() -> None:
        c = client(server)
        ticks = 0
        slow = asyncio.gather(*(c.get("/_test/delay", params={"ms": 300}) for _ in range(8)))
        while not slow.done():
            ticks += 1
            await asyncio.sleep(0.005)
        assert [r["delayed_ms"] for r in await slow] == [300] * 8
        # The loop's thread went on running other tasks throughout.
        assert ticks > 10

    run(flavour, main)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def test_cancelling_at_random_points_leaks_nothing(server: Server, flavour: str) -> None:
    """1,000 requests and watches cancelled before they start, while connecting or
    handshaking, while waiting for the answer, in the middle of a body and while a watch or a log
    follow waits: afterwards no socket or thread is
    left over, no warning was raised, and the client still answers."""
    rnd = random.Random(17)
    problems: list[str] = []

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(
            lambda loop, ctx: problems.append(str(ctx.get("message"))))
        # Start the workers and the loop's own descriptors before counting.
        warm = client(server)
        await warm.get("/version")
        del warm
        gc.collect()
        fds, threads = open_fds(), os_threads()

        c = client(server)
        rv = (await c.get("/api/v1/namespaces/pw/configmaps"))["metadata"]["resourceVersion"]

        async def watch_once() -> None:
            # No event comes: cancelled while opening or while waiting on its socket.
            async with c.watch("/api/v1/namespaces/pw/configmaps", resource_version=rv) as w:
                await w.__anext__()

        server.control("POST", "/_control/pods", {"namespace": "storm", "name": "quiet",
                                                  "containers": ["app"]})

        async def follow_once() -> None:
            # A quiet follow: cancelled while opening or while waiting on its socket.
            async with c.logs("quiet", namespace="storm", follow=True) as lines:
                await lines.__anext__()

        kinds: list[Callable[[], Awaitable[Any]]] = [
            watch_once,
            follow_once,
            lambda: c.get("/version"),
            lambda: c.get("/_test/delay", params={"ms": 5}),
            lambda: c.whoami(),
            lambda: c.request_raw("GET", "/_test/chunked", params={"n": 20, "ms": 2}),
        ]
        cancelled = 0
        for i in range(1000):
            task = asyncio.ensure_future(rnd.choice(kinds)())
            pause = rnd.choice([0.0, 0.0, 0.0005, 0.001, 0.003, 0.01])
            if pause:
                await asyncio.sleep(pause)
            if task.cancel():
                cancelled += 1
            try:
                await task
            except asyncio.CancelledError:
                pass
        assert cancelled > 500
        del watch_once, follow_once
        assert (await c.get("/version"))["major"] == "1"
        while incluster._native._aio_busy():
            await asyncio.sleep(0.01)
        assert os_threads() == threads
        del c, kinds
        gc.collect()
        # The pooled keep-alive connections go with the client; nothing else stays open (a
        # descriptor of the warm-up's may have closed since the count).
        assert open_fds() <= fds

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run(flavour, main)
    assert [str(w.message) for w in caught] == []
    assert problems == []


WATCHED = "/api/v1/namespaces/pw/configmaps"


def test_no_step_holds_the_loop_while_streams_and_requests_run(server: Server) -> None:
    """500 watches receiving events while 1,000 requests run, 100 of which the server holds
    for 300 ms, in asyncio's debug mode, which logs every callback or task step that runs
    longer than the loop's slow_callback_duration: none of incluster's (a request's task, a
    stream's step, a completion) takes 100 ms.

    Why this and not the loop-lag figure itself (a task sleeping 1 ms and recording its
    lateness, goal: no stall above 5 ms): that is a timing, which a loaded CI machine makes
    flaky; it is a benchmark row (benches/aio_bench.py). What can be asserted robustly is
    that no step of ours waits for the network: a step that read a stream or made a request
    on the loop's thread would last as long as the server's 300 ms hold, or until the next
    event of the trickle (spaced 300 ms); 100 ms leaves a loaded machine room. asyncio only:
    uvloop's debug mode does not time callbacks."""
    slow: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            # The test's own driver creates hundreds of tasks in one step (debug mode makes
            # each creation slow): its steps are not incluster's.
            if " took " in message and "coro=<test_no_step_holds" not in message:
                slow.append(message[:300])

    catch = Catch(logging.WARNING)
    logging.getLogger("asyncio").addHandler(catch)
    streams, events = 500, 3

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_debug(True)
        loop.slow_callback_duration = 0.1
        c = client(server)
        rv = (await c.get(WATCHED))["metadata"]["resourceVersion"]
        watches = [c.watch(WATCHED, resource_version=rv) for _ in range(streams)]
        await asyncio.gather(*(w.__aenter__() for w in watches))

        async def read(w: incluster.aio.Watch) -> int:
            n = 0
            async for e in w:
                n += 1
                if n == events:
                    break
            await w.aclose()
            return n

        readers = [asyncio.ensure_future(read(w)) for w in watches]
        await asyncio.sleep(0.1)
        server.control("POST", "/_control/churn", {"namespace": "pw", "count": events,
                                                   "prefix": "lag", "interval_ms": 300})
        answers = await asyncio.gather(*(
            c.get("/_test/delay", params={"ms": 300}) if i % 10 == 0 else c.get("/version")
            for i in range(1000)))
        assert sum(1 for a in answers if "delayed_ms" in a) == 100
        assert await asyncio.wait_for(asyncio.gather(*readers), 60) == [events] * streams

    try:
        run("asyncio", main)
    finally:
        logging.getLogger("asyncio").removeHandler(catch)
    assert slow == []


class Rounds:
    """Counts the event loop's rounds: a callback that schedules itself again runs once in
    every round (and keeps the loop from sleeping meanwhile)."""

    def __init__(self) -> None:
        self.n = 0
        self._loop = asyncio.get_running_loop()
        self._on = True
        self._loop.call_soon(self._step)

    def _step(self) -> None:
        if self._on:
            self.n += 1
            self._loop.call_soon(self._step)

    def stop(self) -> None:
        self._on = False


def per_round_at_most() -> int:
    """How many of incluster's steps one round of the loop can start or wake: its budget
    over the least a step is counted, and a step more for each of the pacer's two calls per
    round that find a sliver of budget left."""
    return int(incluster.aio._ROUND_BUDGET / incluster.aio._STEP_OVERHEAD) + 2


def test_streams_made_readable_together_take_turns_over_the_loops_rounds(
        server: Server, flavour: str) -> None:
    """One write, 300 watches: every watch gets its event, a round's share of them per round
    of the loop, not all 300 in the one round after the write (which would hold every other
    task of the program up for the whole burst)."""
    count = 300

    async def main() -> None:
        c = client(server)
        rv = (await c.get(WATCHED))["metadata"]["resourceVersion"]
        watches = [c.watch(WATCHED, resource_version=rv) for _ in range(count)]
        await asyncio.gather(*(w.__aenter__() for w in watches))
        rounds: list[Rounds] = []

        async def first(w: incluster.aio.Watch) -> tuple[str, int]:
            e = await w.__anext__()
            return e.object["metadata"]["name"], rounds[0].n

        firsts = [asyncio.ensure_future(first(w)) for w in watches]
        await asyncio.sleep(0.3)
        assert not any(f.done() for f in firsts)
        rounds.append(Rounds())
        server.control("POST", "/_control/churn", {"namespace": "pw", "count": 1,
                                                   "prefix": "turns"})
        got = await asyncio.wait_for(asyncio.gather(*firsts), 30)
        rounds[0].stop()
        assert {name for name, _ in got} == {"turns-0"}
        per_round: dict[int, int] = {}
        for _, r in got:
            per_round[r] = per_round.get(r, 0) + 1
        assert max(per_round.values()) <= per_round_at_most(), per_round
        assert len(per_round) >= 3, per_round
        for w in watches:
            await w.aclose()

    run(flavour, main)


def test_a_busy_stream_takes_turns_with_the_loops_other_tasks(
        server: Server, flavour: str) -> None:
    """3,000 events sent at once on one watch: its reader rarely finds the socket empty, yet
    the loop goes round every round's share of events, so its other tasks run meanwhile."""
    events = 3000

    async def main() -> None:
        c = client(server)
        n = 0
        async with c.watch("/_test/watchbench", params={"n": events, "size": 512},
                           resume=False) as w:
            rounds = Rounds()
            async for _ in w:
                n += 1
            rounds.stop()
        assert n == events
        # Every event counts at least _STEP_OVERHEAD against a round's budget.
        assert rounds.n >= events // per_round_at_most()

    run(flavour, main)


def test_watches_hold_no_thread_while_they_wait(server: Server, flavour: str) -> None:
    """200 watches wait on the event loop: no worker is busy and no thread is added while
    they wait, every event reaches every watch, and closing them closes their sockets."""
    count = 200

    async def main() -> None:
        c = client(server)
        rv = (await c.get(WATCHED))["metadata"]["resourceVersion"]
        await c.get("/version")
        fds, threads = open_fds(), os_threads()
        watches = [c.watch(WATCHED, resource_version=rv) for _ in range(count)]
        for w in watches:
            await w.__aenter__()
        firsts = [asyncio.ensure_future(w.__anext__()) for w in watches]
        await asyncio.sleep(0.2)
        assert not any(f.done() for f in firsts)
        assert incluster._native._aio_busy() == 0
        assert os_threads() == threads
        server.control("POST", "/_control/churn", {"namespace": "pw", "count": 1,
                                                   "prefix": "many"})
        got = await asyncio.wait_for(asyncio.gather(*firsts), 30)
        assert {(e.type, e.object["metadata"]["name"]) for e in got} == {("ADDED", "many-0")}
        for w in watches:
            await w.aclose()
        # (The client's idle keep-alive connection may have gone meanwhile: at most as many.)
        assert open_fds() <= fds

    run(flavour, main)


def test_aclose_ends_a_waiting_watch_and_a_cancelled_wait_loses_nothing(
        server: Server, flavour: str) -> None:
    async def main() -> None:
        c = client(server)
        rv = (await c.get(WATCHED))["metadata"]["resourceVersion"]
        async with c.watch(WATCHED, resource_version=rv) as w:
            waiting = asyncio.ensure_future(w.__anext__())
            await asyncio.sleep(0.1)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            server.control("POST", "/_control/churn", {"namespace": "pw", "count": 1,
                                                       "prefix": "after-cancel"})
            e = await asyncio.wait_for(w.__anext__(), 30)
            assert e.object["metadata"]["name"] == "after-cancel-0"

        # One task at a time: a second reader is told so at once (the first waits: no
        # event comes after `now`).
        now = (await c.get(WATCHED))["metadata"]["resourceVersion"]
        async with c.watch(WATCHED, resource_version=now) as quiet:
            first = asyncio.ensure_future(quiet.__anext__())
            await asyncio.sleep(0.1)
            with pytest.raises(RuntimeError, match="another task"):
                await asyncio.wait_for(quiet.__anext__(), 30)
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first

        w = c.watch(WATCHED, resource_version=rv)
        seen: list[Any] = []

        async def consume() -> None:
            async for ev in w:
                seen.append(ev)

        async def until_seen() -> None:
            while not seen:
                await asyncio.sleep(0.01)

        task = asyncio.ensure_future(consume())
        await asyncio.wait_for(until_seen(), 30)  # after-cancel-0 was ADDED
        await w.aclose()
        await asyncio.wait_for(task, 30)  # the async for ended, without an exception
        assert "closed" in repr(w)
        with pytest.raises(StopAsyncIteration):
            await w.__anext__()

    run(flavour, main)


def test_the_idle_timeout_resumes_a_silent_watch(server: Server, flavour: str) -> None:
    def watch_requests() -> int:
        return sum(1 for r in server.requests() if "watch=1" in r["path"])

    async def main() -> None:
        c = client(server)
        rv = (await c.get(WATCHED))["metadata"]["resourceVersion"]
        server.control("PUT", "/_control/watch", {"bookmark_ms": 0})
        async with c.watch(WATCHED, resource_version=rv, idle_timeout=0.2,
                           backoff=(0.01, 0.05)) as w:
            waiting = asyncio.ensure_future(w.__anext__())

            async def resumed_twice() -> None:
                while watch_requests() < 3:
                    await asyncio.sleep(0.05)

            await asyncio.wait_for(resumed_twice(), 30)
            server.control("POST", "/_control/churn", {"namespace": "pw", "count": 1,
                                                       "prefix": "idle"})
            assert (await asyncio.wait_for(waiting, 30)).object["metadata"]["name"] == "idle-0"
        with pytest.raises(incluster.TimeoutError, match="idle"):
            async with c.watch(WATCHED, resource_version=rv, idle_timeout=0.2,
                               resume=False) as w:
                async for _ in w:
                    pass

    run(flavour, main)


def test_log_follows_hold_no_thread_and_the_idle_check_goes_on(server: Server,
                                                                flavour: str) -> None:
    def log_requests() -> int:
        return sum(1 for r in server.requests() if "/pods/quiet/log" in r["path"])

    async def main() -> None:
        c = client(server, namespace="pl2")
        await c.get("/version")
        threads = os_threads()
        server.control("POST", "/_control/pods", {"namespace": "pl2", "name": "quiet",
                                                  "containers": ["app"]})
        # (A resume of a log, with its backoff, runs on a worker: few follows, short delays.)
        follows = [c.logs("quiet", follow=True, idle_check=0.3, backoff=(0.005, 0.05))
                   for _ in range(8)]
        for f in follows:
            await f.__aenter__()
        firsts = [asyncio.ensure_future(f.__anext__()) for f in follows]

        async def checked() -> None:
            # Each follow re-requests its log after a silent idle_check.
            while log_requests() < 3 * len(follows):
                await asyncio.sleep(0.05)

        await asyncio.wait_for(checked(), 30)
        assert os_threads() == threads
        assert not any(f.done() for f in firsts)
        server.control("POST", "/_control/logs", {"namespace": "pl2", "pod": "quiet",
                                                  "lines": ["at last"]})
        assert await asyncio.wait_for(asyncio.gather(*firsts), 30) == ["at last"] * len(follows)
        for f in follows:
            await f.aclose()
        assert "closed" in repr(follows[0])

    run(flavour, main)


def test_log_resumes_wait_out_their_backoff_on_the_loop_not_on_a_worker(
        server: Server, flavour: str) -> None:
    """Twice the pool's size of quiet follows, whose idle check fires after 0.2 s and whose
    resume then backs off 3 s (a stream that brought nothing): while they back off, no
    worker is busy and a request is answered. A resume that slept its backoff on a worker
    (as before) held every worker for those 3 s, the other half of the follows queued
    behind them, and the request behind those."""
    streams = 2 * incluster._native._aio_threads()
    for i in range(streams):
        server.control("POST", "/_control/pods", {"namespace": "lb", "name": f"q{i}",
                                                  "containers": ["app"]})

    async def main() -> None:
        c = client(server)
        await c.get("/version")
        follows = [c.logs(f"q{i}", namespace="lb", follow=True, idle_check=0.2,
                          backoff=(3.0, 3.0)) for i in range(streams)]
        readers = [asyncio.ensure_future(f.__anext__()) for f in follows]
        # Every follow has gone quiet for 0.2 s and made its resume's pod status check by
        # now, far within the 3 s backoff that follows.
        await asyncio.sleep(1.0)
        before = len(server.requests())
        assert incluster._native._aio_busy() == 0
        assert (await asyncio.wait_for(c.get("/version"), 10))["major"] == "1"
        assert not any(r.done() for r in readers)
        for f in follows:
            await f.aclose()
        ended = await asyncio.gather(*readers, return_exceptions=True)
        assert all(isinstance(e, StopAsyncIteration) for e in ended), ended
        # Closed in their backoff: none made its request from the last timestamp.
        assert [r["path"] for r in server.requests()[before:]] == ["/version"]

    run(flavour, main)


# Requests: arguments converted on the loop's thread, sent on a worker without the GIL, the
# answers queued back to the loop and settled there in bounded batches (src/py/aio/mod.rs).

def completions() -> incluster._native._AioLoop:
    """The running loop's completion queue (made, and registered, on first use)."""
    return incluster.aio._completions(asyncio.get_running_loop())


def block_loop_until(what: Callable[[], bool], limit: float = 20) -> None:
    """Keep the loop's thread (the caller) from going back to the loop until `what()` holds:
    nothing queued for the loop is settled meanwhile. time.sleep lets the GIL go."""
    deadline = time.monotonic() + limit
    while not what():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


def test_a_burst_of_requests_starts_a_rounds_share_at_a_time_and_answers_in_bounded_batches(
        server: Server, flavour: str) -> None:
    async def main() -> None:
        c = client(server)
        ctx = completions()
        assert (await c.get("/version"))["major"] == "1"
        # 300 tasks made at once: one round of the loop runs each one's first step, but only
        # a round's share of them starts its request (each step counts at least
        # _STEP_OVERHEAD against the round's budget); the others wait for their turn.
        held = [asyncio.ensure_future(c.get("/version")) for _ in range(300)]
        await asyncio.sleep(0)
        assert 0 < ctx.pending <= per_round_at_most()
        # Later rounds start the rest, and settle the answers as they come.
        rounds = 0
        while ctx.pending + sum(t.done() for t in held) < 300:
            await asyncio.sleep(0)
            rounds += 1
            assert rounds < 10_000
        assert rounds >= 2
        # Answers queued meanwhile are settled a bounded batch at a time.
        block_loop_until(lambda: ctx.queued == ctx.pending)
        queued = ctx.queued
        assert ctx.drain(3) == min(3, queued)
        assert ctx.queued == max(0, queued - 3)
        assert all(r["major"] == "1" for r in await asyncio.gather(*held))
        # Then a thousand at once: every future is settled, with its answer.
        results = await asyncio.gather(*(c.get("/version") for _ in range(1000)),
                                       *(c.request_raw("GET", "/version") for _ in range(10)))
        assert all(r["major"] == "1" for r in results[:1000])
        assert all(r.status == 200 for r in results[1000:])
        assert (ctx.pending, ctx.queued) == (0, 0)

    run(flavour, main)


def test_a_worker_needs_no_gil_to_make_a_request(server: Server, flavour: str) -> None:
    """The loop's thread holds the GIL for 3 s without ever letting it go (a C call made with
    the GIL held: ctypes.PyDLL); meanwhile the workers make 40 requests and queue every answer.
    A worker that took the GIL for any part of a request (the arguments, the answer, settling
    the future) would still be waiting for it when the 3 s end."""
    hold_gil = ctypes.PyDLL(None).usleep
    hold_gil.argtypes = [ctypes.c_uint]

    async def main() -> None:
        c = client(server)
        ctx = completions()
        assert (await c.get("/version"))["major"] == "1"  # connected, TLS done
        tasks = [asyncio.ensure_future(c.get("/version")) for _ in range(40)]
        await asyncio.sleep(0)  # every request is on the pool; the first may be answered
        assert ctx.pending - ctx.queued > 0  # some still to be made when the hold begins
        hold_gil(3_000_000)
        # Every request not settled before the hold was made, and answered, during it.
        assert ctx.queued == ctx.pending
        assert all(r["major"] == "1" for r in await asyncio.gather(*tasks))

    run(flavour, main)


def test_cancelling_while_the_answer_is_queued(server: Server, flavour: str) -> None:
    """The request is answered and its answer queued, then its task is cancelled before the
    loop settles it: CancelledError, unchanged; the answer is dropped without a warning (no
    exception set on a future nobody awaits), and the client goes on."""
    async def main() -> None:
        c = client(server)
        ctx = completions()
        t = asyncio.ensure_future(c.get("/api/v1/namespaces/nope/pods/none"))
        await asyncio.sleep(0)
        block_loop_until(lambda: ctx.queued == 1)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        while ctx.queued:
            await asyncio.sleep(0.001)
        assert ctx.pending == 0
        assert (await c.get("/version"))["major"] == "1"
        with pytest.raises(incluster.NotFound):
            await c.get("/api/v1/namespaces/nope/pods/none")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run(flavour, main)
        gc.collect()


def test_the_loop_closed_while_requests_run(server: Server, flavour: str) -> None:
    """A loop closed (and dropped) while its requests are still on the workers: nothing
    crashes, the workers finish them, and every descriptor (the loop's eventfd included) and
    future goes with the loop; another loop then works."""
    gc.collect()
    before = open_fds()
    loop = new_loop(flavour)
    loop.set_exception_handler(lambda loop, context: None)  # "Task was destroyed..."
    c = client(server)

    async def start() -> list[asyncio.Task[Any]]:
        tasks = [asyncio.ensure_future(c.get("/_test/delay", params={"ms": 300}))
                 for _ in range(8)]
        await asyncio.sleep(0.05)
        return tasks

    tasks = loop.run_until_complete(start())
    loop.close()
    block_loop_until(lambda: incluster._native._aio_busy() == 0)
    assert not any(t.done() for t in tasks)
    del tasks, loop, c
    gc.collect()
    assert open_fds() <= before

    async def again() -> Any:
        return await client(server).get("/version")

    assert run(flavour, again)["major"] == "1"


def test_a_forked_child_starts_its_own_workers(server: Server, flavour: str) -> None:
    """After the parent's requests started the worker pool, a forked child (which has none of
    the parent's threads) makes requests on its own loop, and the parent goes on."""
    async def get() -> Any:
        return await asyncio.wait_for(client(server).get("/version"), 20)

    assert run(flavour, get)["major"] == "1"
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if run(flavour, get)["major"] == "1" else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert run(flavour, get)["major"] == "1"


def test_loops_in_several_threads_and_clients_share_the_workers(server: Server,
                                                                  flavour: str) -> None:
    """Three loops in three threads, at the same time, each with a client of its own and one
    client shared by all: every answer reaches the future of its own loop, and each loop's
    queue ends empty."""
    shared = client(server)
    loops = [LoopThread(flavour) for _ in range(3)]

    async def burst(n: int) -> tuple[int, int, int]:
        own = client(server)
        got = await asyncio.gather(
            *(own.get(f"/api/v1/namespaces/ns{n}/configmaps/none", params={"i": i})
              for i in range(150)),
            *(shared.request("GET", "/version") for _ in range(150)),
            return_exceptions=True)
        ctx = completions()
        assert all(isinstance(g, incluster.NotFound) and f"ns{n}" in str(g)
                   for g in got[:150])
        assert all(isinstance(g, dict) and g["major"] == "1" for g in got[150:])
        return len(got), ctx.pending, ctx.queued

    try:
        futures = [asyncio.run_coroutine_threadsafe(burst(n), lt.loop)
                   for n, lt in enumerate(loops)]
        assert [f.result(60) for f in futures] == [(300, 0, 0)] * 3
    finally:
        for lt in loops:
            lt.close()

"""The async client behind the sync client's face, so the sync tests can run through it
(tests/python/test_aio.py and tests/e2e/test_aio.py share it)."""

from __future__ import annotations

import asyncio
import inspect
import threading
from types import ModuleType
from typing import Any, Callable, Coroutine, Optional, TypeVar

import uvloop

import incluster
import incluster.aio

T = TypeVar("T")
LOOPS = ["asyncio", "uvloop"]


def new_loop(flavour: str) -> asyncio.AbstractEventLoop:
    return uvloop.new_event_loop() if flavour == "uvloop" else asyncio.new_event_loop()


class LoopThread:
    """An event loop of the given flavour running in its own thread, so that sync code (the
    sync tests, from any of their threads) can await coroutines on it."""

    def __init__(self, flavour: str) -> None:
        self.loop = new_loop(flavour)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


class SyncOverAsync:
    """An incluster.aio.Client that looks like an incluster.Client: each coroutine method
    runs on the loop thread and its result (or exception, unchanged) comes back."""

    def __init__(self, loop: LoopThread, client: incluster.aio.Client) -> None:
        self._loop = loop
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        loop = self._loop
        if name in ("watch", "logs"):
            def stream(*a: Any, **kw: Any) -> Any:
                if kw.get("callback") is not None:
                    # The callback form: a coroutine that feeds the callback.
                    return loop.run(attr(*a, **kw))
                return SyncStream(loop, attr(*a, **kw))

            return stream
        if name in ("exec_stream", "attach"):
            return lambda *a, **kw: SyncExec(loop, attr(*a, **kw))
        if name == "leader_election":
            return lambda *a, **kw: SyncLeaderElection(loop, attr(*a, **kw))
        if name == "port_forward_listen":
            return lambda *a, **kw: SyncForwarder(loop, attr(*a, **kw))
        if name == "port_forward":
            def connect(pod: str, port: int, **kw: Any) -> SyncPortForward:
                reader, writer = loop.run(attr(pod, port, **kw))
                return SyncPortForward(loop, port, reader, writer)

            return connect
        if not inspect.iscoroutinefunction(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._loop.run(attr(*args, **kwargs))

        return call

    def __enter__(self) -> "SyncOverAsync":
        self._loop.run(self._client.__aenter__())
        return self

    def __exit__(self, *exc: Any) -> None:
        self._loop.run(self._client.__aexit__(*exc))

    def __repr__(self) -> str:
        return repr(self._client)


class SyncStream:
    """An async watch or log stream that looks like the sync one: opened at once (so errors
    raise at the call, as the sync client's do), iterated by awaiting `__anext__` on the loop
    thread; `cancel()` and `close()` are `aclose()` (from any thread)."""

    def __init__(self, loop: LoopThread, stream: Any) -> None:
        self._loop = loop
        self._stream = stream
        loop.run(stream.__aenter__())

    def __iter__(self) -> "SyncStream":
        return self

    def __next__(self) -> Any:
        try:
            return self._loop.run(self._stream.__anext__())
        except StopAsyncIteration:
            raise StopIteration from None

    def cancel(self) -> None:
        self._loop.run(self._stream.aclose())

    def close(self) -> None:
        self._loop.run(self._stream.aclose())

    def __enter__(self) -> "SyncStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class SyncExec:
    """An async ExecStream that looks like the sync one: started at once (errors raise at the
    call), each method awaited on the loop thread; `cancel()` and `close()` are `aclose()`."""

    def __init__(self, loop: LoopThread, stream: incluster.aio.ExecStream) -> None:
        self._loop = loop
        self._stream = stream
        loop.run(stream.__aenter__())

    def __iter__(self) -> "SyncExec":
        return self

    def __next__(self) -> Any:
        try:
            return self._loop.run(self._stream.__anext__())
        except StopAsyncIteration:
            raise StopIteration from None

    def write(self, data: Any) -> None:
        self._loop.run(self._stream.write(data))

    def close_stdin(self) -> None:
        self._loop.run(self._stream.close_stdin())

    def resize(self, width: int, height: int) -> None:
        self._loop.run(self._stream.resize(width, height))

    def wait(self) -> int:
        return self._loop.run(self._stream.wait())

    def cancel(self) -> None:
        self._loop.run(self._stream.aclose())

    def close(self) -> None:
        self._loop.run(self._stream.aclose())

    def __enter__(self) -> "SyncExec":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _EventView:
    """An asyncio.Event read from another thread as a threading.Event is."""

    def __init__(self, loop: LoopThread, event: asyncio.Event) -> None:
        self._loop = loop
        self._event = event

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: Optional[float] = None) -> bool:
        async def wait() -> bool:
            try:
                await asyncio.wait_for(self._event.wait(), timeout)
            except asyncio.TimeoutError:
                return False
            return True

        return self._loop.run(wait())


class SyncLeaderElection:
    """An async LeaderElection that looks like the sync one; `run(f)` runs the plain function
    in a thread (as the sync one does) under the async `run`."""

    def __init__(self, loop: LoopThread, election: incluster.aio.LeaderElection) -> None:
        self._loop = loop
        self._le = election

    def __enter__(self) -> "SyncLeaderElection":
        self._loop.run(self._le.__aenter__())
        return self

    def __exit__(self, *exc: Any) -> None:
        self._loop.run(self._le.__aexit__(None, None, None))

    @property
    def lost(self) -> _EventView:
        return _EventView(self._loop, self._le.lost)

    def wait_lost(self, timeout: Optional[float] = None) -> bool:
        return self._loop.run(self._le.wait_lost(timeout))

    def run(self, f: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        async def in_thread() -> T:
            return await asyncio.to_thread(f, *args, **kwargs)

        result: T = self._loop.run(self._le.run(in_thread))
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._le, name)


class SyncForwarder:
    """An async PortForwarder that looks like the sync one (started at the call)."""

    def __init__(self, loop: LoopThread, fwd: incluster.aio.PortForwarder) -> None:
        self._loop = loop
        self._fwd = fwd
        loop.run(fwd.__aenter__())

    def close(self) -> None:
        self._loop.run(self._fwd.aclose())

    def __enter__(self) -> "SyncForwarder":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fwd, name)


class SyncPortForward:
    """The (StreamReader, StreamWriter) pair of the async port_forward, used as the sync
    PortForwardSocket is."""

    def __init__(self, loop: LoopThread, port: int, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self._loop = loop
        self.port = port
        self._reader = reader
        self._writer = writer

    def sendall(self, data: bytes) -> None:
        async def send() -> None:
            self._writer.write(data)
            await self._writer.drain()

        self._loop.run(send())

    def send(self, data: bytes) -> int:
        self.sendall(data)
        return len(data)

    def recv(self, bufsize: int) -> bytes:
        return self._loop.run(self._reader.read(bufsize))

    def close(self) -> None:
        async def close() -> None:
            self._writer.close()
            await self._writer.wait_closed()

        self._loop.run(close())

    def __enter__(self) -> "SyncPortForward":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class _AioClientClass:
    """Stands in for the `incluster.Client` class: calling it builds the async client behind a
    SyncOverAsync, and so does `from_kubeconfig`."""

    def __init__(self, loop: LoopThread) -> None:
        self._loop = loop

    def __call__(self, **kw: Any) -> SyncOverAsync:
        return SyncOverAsync(self._loop, incluster.aio.Client(**kw))

    def from_kubeconfig(self, *a: Any, **kw: Any) -> SyncOverAsync:
        return SyncOverAsync(self._loop, incluster.aio.Client.from_kubeconfig(*a, **kw))


class AioIncluster:
    """Stands in for the `incluster` module inside a sync test module: `Client` builds the
    async client behind a SyncOverAsync; everything else (the exceptions) is incluster's."""

    def __init__(self, loop: LoopThread) -> None:
        self._loop = loop
        self.Client = _AioClientClass(loop)  # stands in for the class

    def __getattr__(self, name: str) -> Any:
        return getattr(incluster, name)



def expand(module: ModuleType, name: str) -> list[tuple[ModuleType, str, dict[str, Any]]]:
    """The cases of one sync test: one, or one per row of its @pytest.mark.parametrize."""
    cases: list[dict[str, Any]] = [{}]
    for mark in getattr(getattr(module, name), "pytestmark", []):
        if mark.name != "parametrize":
            continue
        names = [n.strip() for n in mark.args[0].split(",")] if isinstance(
            mark.args[0], str) else list(mark.args[0])
        rows = [row if len(names) > 1 else (row,) for row in mark.args[1]]
        cases = [{**c, **dict(zip(names, row))} for c in cases for row in rows]
    return [(module, name, c) for c in cases]

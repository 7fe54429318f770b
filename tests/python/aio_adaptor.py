"""The async client behind the sync client's face, so the sync tests can run through it
(tests/python/test_aio.py and tests/e2e/test_aio.py share it)."""

from __future__ import annotations

import asyncio
import inspect
import threading
from types import ModuleType
from typing import Any, Coroutine, TypeVar

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
        if name in ("watch", "logs"):
            return lambda *a, **kw: SyncStream(self._loop, attr(*a, **kw))
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


class AioIncluster:
    """Stands in for the `incluster` module inside a sync test module: `Client` builds the
    async client behind a SyncOverAsync; everything else (the exceptions) is incluster's."""

    def __init__(self, loop: LoopThread) -> None:
        self._loop = loop

    def Client(self, **kw: Any) -> SyncOverAsync:  # noqa: N802 (stands in for the class)
        return SyncOverAsync(self._loop, incluster.aio.Client(**kw))

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

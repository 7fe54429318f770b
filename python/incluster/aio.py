"""incluster.aio: the asyncio client.

    import incluster.aio

    async with incluster.aio.Client() as kube:      # the same arguments as incluster.Client
        pods = await kube.get(f"/api/v1/namespaces/{kube.namespace}/pods")

Every request method of ``incluster.Client`` is here as a coroutine with the same arguments,
results and exceptions. Why a module with a class of the same name rather than an
``AsyncClient`` next to ``Client``: code moves between the two by changing one import and
adding ``await``, and the module is where the other async types belong, as in ``redis.asyncio``.

How it runs: a request's arguments are converted on the event loop's thread (the sync
client's code), the request is sent by one of a small fixed pool of native threads (shared by
all clients) **without the GIL**, and its answer is queued back to the loop, which is woken
through one eventfd per loop (``loop.add_reader``) and makes the result or exception there,
a bounded batch of answers per round. The event loop's thread never waits for the network,
and the workers never compete with it for the GIL. A thousand concurrent requests queue on
the pool; they do not start a thousand threads.

Cancelling the awaiting task (``task.cancel()``, ``asyncio.timeout``, ``wait_for``) raises
``CancelledError`` in it at once, unchanged; the request still queued never starts, and one
under way is woken out of its socket wait at once and closes its connection, freeing its
worker. The client stays usable.

``kube.watch(...)`` is an async iterator (``async for ev in kube.watch(...)``) with the
sync watch's options and its resume, 410 relist and idle-timeout behaviour, which stay in the
core. No thread per watch: its socket is read on the event loop's thread only when the loop
says it is readable (``loop.add_reader``), TLS and framing advanced in Rust without waiting;
only resumes and relists borrow a worker for their requests. ``kube.logs(...)`` is the same
for a pod's log (its resumes' requests run on a worker; their backoffs are waited on the
loop). ``aclose()`` (or leaving ``async with``) ends a watch or log read at once and closes
its connection.
"""

from __future__ import annotations

import asyncio
import collections
import weakref
from os import PathLike
from types import TracebackType
from typing import (
    Any,
    Callable,
    Deque,
    Generic,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
    Union,
    cast,
)

from . import _native
from ._native import Response, WatchEvent

__all__ = ["Client", "Logs", "Response", "Watch", "WatchEvent"]

_Params = Optional[Union[Mapping[str, Any], Sequence[Tuple[str, Any]]]]
_Path = Union[str, "PathLike[str]"]
_T = TypeVar("_T")


def _settle(fut: "asyncio.Future[Any]", ok: bool, value: Any) -> None:
    """Complete ``fut`` on its loop's thread (a worker schedules this); a future cancelled
    meanwhile is left alone."""
    if fut.done():
        return
    if ok:
        fut.set_result(value)
    else:
        fut.set_exception(value)


async def _call(method: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Run the sync client's bound ``method`` on the worker pool and wait for it."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[_T] = loop.create_future()
    call = _native._aio_submit(loop, fut, _settle, method, args, kwargs)
    try:
        return await fut
    except BaseException:
        # After a cancellation this ends the request at once (or keeps a queued one from
        # starting); after the call's own exception it does nothing. Not on the way out of
        # an answer: nothing is left to stop, and it would cost the loop a syscall.
        call.cancel()
        raise


# One completion queue per event loop, its eventfd registered with the loop once. Weak both
# ways: the loop's reader is what keeps the queue (and its futures, which refer to the loop)
# alive, so closing the loop frees them, and the eventfd is closed once no worker still runs
# one of its requests.
_LOOPS: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, weakref.ref[_native._AioLoop]]" = (
    weakref.WeakKeyDictionary())


# The last loop asked about and its queue (weakly, as above): most programs have one loop, and
# this saves every request the WeakKeyDictionary's lookup.
_last: "Tuple[weakref.ref[asyncio.AbstractEventLoop], weakref.ref[_native._AioLoop]] | None" = None


def _completions(loop: asyncio.AbstractEventLoop) -> "_native._AioLoop":
    global _last
    last = _last
    if last is not None and last[0]() is loop:
        ctx = last[1]()
        if ctx is not None:
            return ctx
    found = _LOOPS.get(loop)
    ctx = None if found is None else found()
    if found is None or ctx is None:
        ctx = _native._AioLoop()
        loop.add_reader(ctx.fd, ctx.drain)
        found = _LOOPS[loop] = weakref.ref(ctx)
    _last = (weakref.ref(loop), found)
    return ctx


async def _request(start: Callable[..., "_native._AioCall"], *args: Any, **kwargs: Any) -> Any:
    """One request: ``start`` (a ``_native.Client._aio_*`` method) converts the arguments here,
    on the loop's thread, and hands the request to a worker that sends it without the GIL;
    the loop's completion queue settles the future."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[Any] = loop.create_future()
    call = start(_completions(loop), fut, *args, **kwargs)
    try:
        return await fut
    except BaseException:
        # As in _call: a cancellation ends the request at once (or keeps a queued one from
        # starting); after the request's own exception it does nothing.
        call.cancel()
        raise


def _wake(fut: "asyncio.Future[bool]", ready: bool) -> None:
    if not fut.done():
        fut.set_result(ready)


# What Watch._poll_async and Logs._poll_async return first (src/py/watch.rs, src/py/logs.rs).
_ITEM, _END, _SOCKET, _IO = 0, 1, 2, 3

_S = TypeVar("_S", "_native.Watch", "_native.Logs")


class _Stream(Generic[_S]):
    """What a watch and a log read share: opening on first use, waiting for the socket on
    the loop, aclose() and the async context manager."""

    __slots__ = ("_start", "_s", "_waiter", "_socket", "_closed", "_reading")

    def __init__(self, start: Callable[[], _S]) -> None:
        self._start: Callable[[], _S] = start
        self._reading = False
        self._s: Optional[_S] = None
        self._waiter: Optional[asyncio.Future[bool]] = None
        self._socket: Optional[Tuple[asyncio.AbstractEventLoop, int, bool]] = None
        self._closed = False

    async def _open(self) -> Optional[_S]:
        if self._s is None and not self._closed:
            self._s = await _call(self._start)
            if self._closed:
                self._s.close()
        return None if self._closed else self._s

    async def _park(self, fd: Optional[int], writable: bool, timeout: Optional[float]) -> bool:
        """Wait until `fd` is ready or aclose() (True), or `timeout` seconds pass (False)."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[bool] = loop.create_future()
        if fd is not None:
            if writable:
                loop.add_writer(fd, _wake, fut, True)
            else:
                loop.add_reader(fd, _wake, fut, True)
            self._socket = (loop, fd, writable)
        timer = None if timeout is None else loop.call_later(timeout, _wake, fut, False)
        self._waiter = fut
        try:
            return await fut
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()
            self._unwatch()

    def _unwatch(self) -> None:
        if self._socket is not None:
            loop, fd, writable = self._socket
            self._socket = None
            if writable:
                loop.remove_writer(fd)
            else:
                loop.remove_reader(fd)

    async def aclose(self) -> None:
        """End the stream at once and close its connection (a pending ``__anext__`` ends
        with StopAsyncIteration). Idempotent."""
        self._closed = True
        # Off the loop's books before the socket closes, so its number cannot be reused
        # while still registered.
        self._unwatch()
        if self._waiter is not None:
            _wake(self._waiter, True)
        if self._s is not None:
            self._s.close()

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.aclose()

    def _enter_read(self) -> None:
        """One task reads a stream at a time: a second one would take over the first's
        socket registration and leave it waiting."""
        if self._reading:
            raise RuntimeError(
                "this stream is already being read by another task: read a stream from one "
                "task at a time (aclose() works from any task)")
        self._reading = True

    def _state(self) -> str:
        return "closed" if self._closed else "open" if self._s is not None else "not started"


class Watch(_Stream["_native.Watch"]):
    """A watch as an async iterator of WatchEvent, and an async context manager.

    The first request is made by the first ``__anext__`` (or ``async with``): errors that keep
    the watch from starting (NotFound, Forbidden, InvalidArgument, ...) are raised there.
    Iterate it from one task at a time, on one event loop. ``aclose()`` ends it at once: the
    iteration stops (StopAsyncIteration) and the connection is closed.
    """

    __slots__ = ()

    def __aiter__(self) -> "Watch":
        return self

    async def __aenter__(self) -> "Watch":
        await self._open()
        return self

    async def __anext__(self) -> WatchEvent:
        self._enter_read()
        try:
            return await self._next()
        finally:
            self._reading = False

    async def _next(self) -> WatchEvent:
        w = await self._open()
        if w is None:
            raise StopAsyncIteration
        while True:
            kind, value = w._poll_async()
            if kind == _ITEM:
                return value  # type: ignore[no-any-return]
            if kind == _END or self._closed:
                raise StopAsyncIteration
            if kind == _SOCKET:
                fd, writable, idle = value
                if not await self._park(fd, writable, idle):
                    w._idle_expired()
            else:
                # The backoff before a resume is waited out here, on the loop; the resume
                # itself (a request, perhaps a relist) borrows a worker.
                delay = w._resume_delay()
                if delay:
                    await self._park(None, False, delay)
                if self._closed:
                    raise StopAsyncIteration
                await _call(w._wait_io)

    @property
    def resource_version(self) -> Optional[str]:
        """The resourceVersion the watch would resume from, or None before the first one."""
        return None if self._s is None else self._s.resource_version

    def __repr__(self) -> str:
        return f"<incluster.aio.Watch {self._state()} rv={self.resource_version}>"


class Logs(_Stream["_native.Logs"]):
    """A log read as an async iterator of lines (``str``, or ``bytes`` with ``as_bytes``),
    and an async context manager.

    The first request is made by the first ``__anext__`` (or ``async with``): a missing pod or
    container raises there. One task at a time, one event loop. ``aclose()`` ends it at once.
    """

    __slots__ = ("_lines",)

    def __init__(self, start: Callable[[], "_native.Logs"]) -> None:
        super().__init__(start)
        self._lines: Deque[Any] = collections.deque()

    def __aiter__(self) -> "Logs":
        return self

    async def __aenter__(self) -> "Logs":
        await self._open()
        return self

    async def __anext__(self) -> Any:
        if self._lines:
            return self._lines.popleft()
        self._enter_read()
        try:
            return await self._next()
        finally:
            self._reading = False

    async def _next(self) -> Any:
        logs = await self._open()
        if logs is None:
            raise StopAsyncIteration
        while True:
            kind, value = logs._poll_async()
            if kind == _ITEM:
                self._lines.extend(value)
                return self._lines.popleft()
            if kind == _END or self._closed:
                raise StopAsyncIteration
            if kind == _SOCKET:
                fd, writable, idle = value
                if not await self._park(fd, writable, idle):
                    logs._idle_expired()
            else:
                # A resume's backoff is waited out here, on the loop; its requests (the pod's
                # status, the request from the last timestamp) borrow a worker. A resume that
                # reaches a backoff returns from the worker, and the next round waits it.
                delay = logs._resume_delay()
                if delay:
                    await self._park(None, False, delay)
                if self._closed:
                    raise StopAsyncIteration
                await _call(logs._wait_io)

    def __repr__(self) -> str:
        return f"<incluster.aio.Logs {self._state()}>"


class Client:
    """An asyncio client for the Kubernetes API server; an async context manager (leaving it
    is ``close()``).

    The arguments, configuration discovery and errors are those of ``incluster.Client``
    (``ConfigError`` and ``InvalidArgument`` are raised here, at construction). Share one
    client between tasks; it may also be used from several event loops in turn.
    """

    __slots__ = ("_sync",)

    def __init__(
        self,
        *,
        server: Optional[str] = None,
        token: Optional[str] = None,
        token_file: Optional[_Path] = None,
        ca_file: Optional[_Path] = None,
        ca_pem: Optional[Union[str, bytes]] = None,
        namespace: Optional[str] = None,
        serviceaccount_dir: Optional[_Path] = None,
        connect_timeout: Optional[float] = None,
        timeout: Optional[float] = None,
        max_attempts: Optional[int] = None,
        rate_limit: Optional[Tuple[float, int]] = None,
        danger_insecure_skip_tls_verify: bool = False,
    ) -> None:
        self._sync = _native.Client(
            server=server,
            token=token,
            token_file=token_file,
            ca_file=ca_file,
            ca_pem=ca_pem,
            namespace=namespace,
            serviceaccount_dir=serviceaccount_dir,
            connect_timeout=connect_timeout,
            timeout=timeout,
            max_attempts=max_attempts,
            rate_limit=rate_limit,
            danger_insecure_skip_tls_verify=danger_insecure_skip_tls_verify,
        )

    @property
    def namespace(self) -> str:
        """The default namespace."""
        return self._sync.namespace

    @property
    def server(self) -> str:
        """The server's base URL."""
        return self._sync.server

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: _Params = None,
        json: Any = None,
        data: Optional[Union[bytes, str]] = None,
        content_type: Optional[str] = None,
    ) -> Any:
        """Any request; the parsed JSON body (None if empty). As ``incluster.Client.request``."""
        return await _request(self._sync._aio_request, method, path, params=params, json=json,
                              data=data, content_type=content_type)

    async def request_raw(
        self,
        method: str,
        path: str,
        *,
        params: _Params = None,
        json: Any = None,
        data: Optional[Union[bytes, str]] = None,
        content_type: Optional[str] = None,
    ) -> Response:
        """Any request; the raw Response. As ``incluster.Client.request_raw``."""
        return cast(Response, await _request(
            self._sync._aio_request_raw, method, path, params=params, json=json, data=data,
            content_type=content_type))

    async def get(self, path: str, *, params: _Params = None) -> Any:
        """GET; the parsed JSON. As ``incluster.Client.get``."""
        return await _request(self._sync._aio_get, path, params=params)

    async def post(
        self,
        path: str,
        json: Any = None,
        *,
        data: Optional[Union[bytes, str]] = None,
        content_type: Optional[str] = None,
        params: _Params = None,
    ) -> Any:
        """POST; the parsed JSON. As ``incluster.Client.post``."""
        return await _request(self._sync._aio_send, "POST", path, json, data=data,
                              content_type=content_type, params=params)

    async def put(
        self,
        path: str,
        json: Any = None,
        *,
        data: Optional[Union[bytes, str]] = None,
        content_type: Optional[str] = None,
        params: _Params = None,
    ) -> Any:
        """PUT; the parsed JSON. As ``incluster.Client.put``."""
        return await _request(self._sync._aio_send, "PUT", path, json, data=data,
                              content_type=content_type, params=params)

    async def delete(self, path: str, *, json: Any = None, params: _Params = None) -> Any:
        """DELETE; the parsed JSON. As ``incluster.Client.delete``."""
        return await _request(self._sync._aio_delete, path, json=json, params=params)

    async def patch(
        self,
        path: str,
        json: Any = None,
        *,
        data: Optional[Union[bytes, str]] = None,
        patch_type: Literal["merge", "json", "strategic", "apply"] = "merge",
        field_manager: Optional[str] = None,
        force: bool = False,
        params: _Params = None,
    ) -> Any:
        """PATCH; the parsed JSON. As ``incluster.Client.patch``."""
        return await _request(self._sync._aio_patch, path, json, data=data,
                              patch_type=patch_type, field_manager=field_manager, force=force,
                              params=params)

    async def whoami(self) -> dict[str, Any]:
        """Who the server says the caller is. As ``incluster.Client.whoami``."""
        return cast("dict[str, Any]", await _request(self._sync._aio_whoami))

    async def can_i(
        self,
        verb: str,
        resource: str,
        *,
        namespace: Optional[str] = None,
        name: Optional[str] = None,
        subresource: Optional[str] = None,
    ) -> bool:
        """SelfSubjectAccessReview. As ``incluster.Client.can_i`` (an unknown verb warns)."""
        return cast(bool, await _request(self._sync._aio_can_i, verb, resource,
                                         namespace=namespace, name=name,
                                         subresource=subresource))

    def watch(
        self,
        path: str,
        *,
        label_selector: Optional[str] = None,
        field_selector: Optional[str] = None,
        resource_version: Optional[str] = None,
        resource_version_match: Optional[str] = None,
        timeout_seconds: Optional[int] = None,
        allow_bookmarks: bool = True,
        bookmarks: bool = False,
        send_initial_events: bool = False,
        params: _Params = None,
        max_event_bytes: Optional[int] = None,
        resume: bool = True,
        on_gone: Literal["relist", "error"] = "relist",
        idle_timeout: Optional[float] = None,
        backoff: Optional[Tuple[float, float]] = None,
    ) -> Watch:
        """Watch a collection: ``async for ev in kube.watch(path, ...)``. The options and
        the behaviour (resume, 410 relist, idle timeout) are ``incluster.Client.watch``'s; the
        first request is made when iteration starts."""
        sync = self._sync

        def start() -> _native.Watch:
            return sync.watch(
                path, label_selector=label_selector, field_selector=field_selector,
                resource_version=resource_version,
                resource_version_match=resource_version_match,
                timeout_seconds=timeout_seconds, allow_bookmarks=allow_bookmarks,
                bookmarks=bookmarks, send_initial_events=send_initial_events, params=params,
                max_event_bytes=max_event_bytes, resume=resume, on_gone=on_gone,
                idle_timeout=idle_timeout, backoff=backoff)

        return Watch(start)

    def logs(
        self,
        pod: str,
        *,
        namespace: Optional[str] = None,
        container: Optional[str] = None,
        follow: bool = False,
        previous: bool = False,
        since_seconds: Optional[int] = None,
        since_time: Optional[str] = None,
        timestamps: bool = False,
        tail_lines: Optional[int] = None,
        limit_bytes: Optional[int] = None,
        insecure_skip_tls_verify_backend: bool = False,
        resume: Optional[bool] = None,
        max_line_bytes: Optional[int] = None,
        idle_check: Optional[float] = None,
        backoff: Optional[Tuple[float, float]] = None,
        as_bytes: bool = False,
    ) -> Logs:
        """Read a pod's log: ``async for line in kube.logs(pod, ...)``. The options and the
        behaviour (follow, resume without loss, idle check) are ``incluster.Client.logs``'s;
        the first request is made when iteration starts."""
        sync = self._sync

        def start() -> _native.Logs:
            return sync.logs(
                pod, namespace=namespace, container=container, follow=follow,
                previous=previous, since_seconds=since_seconds, since_time=since_time,
                timestamps=timestamps, tail_lines=tail_lines, limit_bytes=limit_bytes,
                insecure_skip_tls_verify_backend=insecure_skip_tls_verify_backend,
                resume=resume, max_line_bytes=max_line_bytes, idle_check=idle_check,
                backoff=backoff, as_bytes=as_bytes)

        return Logs(start)

    def close(self) -> None:
        """Refuse further requests (they raise InvalidArgument). Idempotent."""
        self._sync.close()

    async def aclose(self) -> None:
        """``close()``, for ``contextlib.aclosing`` and symmetry with async resources."""
        self.close()

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<incluster.aio.Client server={self.server!r} namespace={self.namespace!r}>"

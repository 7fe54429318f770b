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
through one eventfd per loop and makes the result or exception there. The event loop's thread
never waits for the network, and the workers never compete with it for the GIL. A thousand
concurrent requests queue on the pool; they do not start a thousand threads.

What incluster does on the loop's thread is paced (``_Pacer``, one per loop): its steps (a
stream's reads and decoding, a request's conversion, settling answers) take at most about
half a millisecond of each round of the loop, and what does not fit waits for the next
rounds, first come first served. So 500 streams made readable by one change, or a gather of
1,000 requests, do not hold the loop's other tasks up for the whole burst.

Cancelling the awaiting task (``task.cancel()``, ``asyncio.timeout``, ``wait_for``) raises
``CancelledError`` in it at once, unchanged; the request still queued never starts, and one
under way is woken out of its socket wait at once and closes its connection, freeing its
worker. The client stays usable.

``kube.watch(...)`` is an async iterator (``async for ev in kube.watch(...)``) with the
sync watch's options and its resume, 410 relist and idle-timeout behaviour, which stay in the
core. No thread per watch: its socket is read on the event loop's thread only when it is
readable (armed one-shot in the pacer's epoll, the one fd the loop watches for all streams)
and the round has room, TLS and framing advanced in Rust without waiting; only resumes and
relists borrow a worker for their requests. ``kube.logs(...)`` is the same
for a pod's log (its resumes' requests run on a worker; their backoffs are waited on the
loop). ``aclose()`` (or leaving ``async with``) ends a watch or log read at once and closes
its connection.

The workflows are here too, with the sync client's arguments, results and exceptions:
resource names in every method, ``resolve`` and ``apply``; ``await kube.wait(...)``, which
steps the core's wait machine with an async watch (no thread per wait);
``async with kube.leader_election(...) as le``; ``await kube.exec(...)``,
``async with kube.exec_stream(...)``/``attach(...)``; ``await kube.port_forward(...)`` (an
asyncio reader/writer pair) and ``async with kube.port_forward_listen(...)``;
``Client.from_kubeconfig``. What lasts a session (an exec, the wait for leadership, a read of
an exec stream, a forwarded connection) runs on threads of its own, not on the shared pool.
Cancelling any of them ends its I/O promptly: an exec's session is closed, a leader election
releases its Lease.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import inspect
import select
import socket
import threading
import time
import weakref
from os import PathLike
from types import TracebackType
from typing import (
    Any,
    Awaitable,
    Generator,
    List,
    overload,
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
from ._errors import Cancelled
from ._native import ExecResult, Response, WatchEvent

__all__ = [
    "Client",
    "ExecResult",
    "ExecStream",
    "LeaderElection",
    "Logs",
    "PortForwarder",
    "Response",
    "Watch",
    "WatchEvent",
]

# At exit, before the interpreter finalizes: let the native threads that are handing an answer
# to a loop let go of the interpreter (src/py/aio/mod.rs, aio_quiesce; else the process can
# abort when a program ends right after its last await).
atexit.register(_native._aio_quiesce)

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
    pacer, turn = _pace()
    if turn is not None:
        await turn
    return await _submit(pacer, turn, method, *args, **kwargs)


async def _submit(pacer: "_Pacer", turn: "Optional[asyncio.Future[None]]",
                  method: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """`_call` in its turn (``turn`` is what `_pace` gave)."""
    t = time.perf_counter()
    fut: asyncio.Future[_T] = pacer.loop.create_future()
    call = _native._aio_submit(pacer.loop, fut, _settle, method, args, kwargs)
    pacer.charge(time.perf_counter() - t, _DIRECT if turn is None else _TICKET)
    try:
        return await fut
    except BaseException:
        # After a cancellation this ends the request at once (or keeps a queued one from
        # starting); after the call's own exception it does nothing. Not on the way out of
        # an answer: nothing is left to stop, and it would cost the loop a syscall.
        call.cancel()
        raise


async def _call_long(method: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """As ``_call``, on a thread of its own that ends with the call: for calls that last as
    long as a session (an exec, the wait for leadership, a stream's read), which would hold a
    worker of the small shared pool for their whole life."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[_T] = loop.create_future()
    call = _native._aio_spawn(loop, fut, _settle, method, args, kwargs)
    try:
        return await fut
    finally:
        call.cancel()


async def _finish(method: Callable[..., _T], *args: Any) -> _T:
    """Run a closing call (a Lease's release) on its own thread to its end, even when the
    awaiting task is cancelled meanwhile: cancelling it would skip the release."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[_T] = loop.create_future()
    # Retrieved here too: after a cancellation nobody awaits it, and an exception left on it
    # would be logged as never retrieved.
    fut.add_done_callback(lambda f: f.cancelled() or f.exception())
    _native._aio_spawn(loop, fut, _settle, method, args, None)
    return await asyncio.shield(fut)


async def _within(coro: Awaitable[_T], timeout: Optional[float],
                  expired: Callable[[], BaseException]) -> _T:
    """Await ``coro`` for at most ``timeout`` seconds (None: no limit); then cancel it and
    raise ``expired()``. Unlike ``asyncio.wait_for``, a TimeoutError raised inside (a
    request's own timeout) is not taken for the deadline."""
    if timeout is None:
        return await coro
    inner = asyncio.ensure_future(coro)
    try:
        done, _ = await asyncio.wait({inner}, timeout=timeout)
    except asyncio.CancelledError:
        inner.cancel()
        raise
    if inner in done:
        return inner.result()
    inner.cancel()
    # Until its I/O has stopped (a cancelled worker call stops at once).
    await asyncio.wait({inner})
    if inner.cancelled():
        raise expired()
    return inner.result()


async def _maybe_await(value: Any) -> Any:
    """A callback's result: awaited when it is awaitable (a coroutine function's)."""
    if inspect.isawaitable(value):
        return await value
    return value


# incluster's share of a loop round: the pacer lets incluster's own steps (a stream's reads
# and decoding, a request's conversion and its answer's) take about this many seconds of one
# round of the loop, and leaves the rest to the next rounds. Why: asyncio runs every callback
# that is ready before it looks at its timers again, so 500 streams made readable by one
# change, or the first steps of 1,000 requests made by one gather, would otherwise be one long
# stall for every other task of the program. A task sleeping a millisecond resumes two rounds
# after its timer is due (one for the timer, one for the task), so its lateness is a few
# rounds: small enough that this stays well within the few milliseconds a latency-sensitive
# task tolerates; large enough that a busy stream pays one extra trip through the loop per
# that much work, which its throughput does not see.
_ROUND_BUDGET = 0.0005

# A step's cost, as first guessed and then learned (a moving average of measured steps): the
# pacer wakes as many waiting steps in a round as their cost fits in the budget left. An
# answer's settling cost is learned the same way. A step's measure misses what asyncio spends
# to run the step's task and the coroutines around it: that is added as a constant.
_STEP_GUESS = 20e-6
_STEP_OVERHEAD = 5e-6

# How a step came to run: woken by the pacer from its tickets or from the parked streams
# (each has its own learned cost), admitted at once, or a stream's follow-up step in the
# round that let its last item through.
_TICKET, _PARKED, _DIRECT, _FREE = 0, 1, 2, 3

_IN = select.EPOLLIN | select.EPOLLONESHOT
_OUT = select.EPOLLOUT | select.EPOLLONESHOT


class _Pacer:
    """One event loop's share of incluster: spreads incluster's work on the loop's thread
    over the loop's rounds, so that no round holds the loop for much more than
    ``_ROUND_BUDGET``, however many streams and requests are ready at once.

    What waits here, woken at most a budget's worth per round:
    - parked streams: each stream's socket is armed one-shot in this pacer's epoll (one fd
      registered with the loop, whatever the number of streams), so a stream made readable
      costs the loop nothing until its turn, and a thousand of them are not a thousand reader
      callbacks in one round;
    - the requests' answers, queued by the workers (``completions``, whose eventfd is in the
      same epoll): a bounded batch per round;
    - tickets: a step that finds the round's budget spent (or others already waiting) waits
      for its turn in a later round, first come first served.

    Only touched on the loop's thread.
    """

    __slots__ = ("loop", "_epoll", "completions", "_parked", "_tickets", "_spent", "_cost",
                 "_settle", "_ticking", "_first", "round", "__weakref__")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._epoll = select.epoll()
        self.completions = _native._AioLoop()
        self._epoll.register(self.completions.fd, select.EPOLLIN)
        self._parked: dict[int, asyncio.Future[bool]] = {}
        self._tickets: Deque[asyncio.Future[None]] = collections.deque()
        self._spent = 0.0
        self._cost = [_STEP_GUESS, _STEP_GUESS]  # by _TICKET, _PARKED
        self._settle = _STEP_GUESS
        self._ticking = False
        self._first = 0
        # Counts the rounds (ticks): a step knows whether it is still in the round that let
        # its stream's last item through.
        self.round = 0
        loop.add_reader(self._epoll.fileno(), self._wake)

    def may_run(self) -> bool:
        """Whether a step may run now: budget left in this round, and nobody waiting."""
        return self._spent < _ROUND_BUDGET and not self._tickets

    def turn(self) -> "asyncio.Future[None]":
        """A future done when a later round has room for the caller's step."""
        fut: asyncio.Future[None] = self.loop.create_future()
        self._tickets.append(fut)
        self._tick_soon()
        return fut

    def charge(self, seconds: float, woken: int = _DIRECT) -> None:
        """Count a step that ran (``seconds`` long) against this round's budget; ``woken``
        says whether the pacer woke it (``_TICKET``, ``_PARKED``), whose cost it learns.
        Learned quickly upwards and slowly downwards: a guess too low makes a long round, one
        too high only a few more short ones."""
        cost = seconds + _STEP_OVERHEAD
        self._spent += cost
        if woken < _DIRECT:
            old = self._cost[woken]
            self._cost[woken] = old + (cost - old) * (0.5 if cost > old else 0.0625)
        if not self._ticking:
            self._tick_soon()

    def arm(self, fd: int, writable: bool, fut: "asyncio.Future[bool]") -> None:
        """Settle ``fut`` with True in the round that has room once ``fd`` is ready."""
        self._parked[fd] = fut
        events = _OUT if writable else _IN
        try:
            self._epoll.modify(fd, events)
        except FileNotFoundError:
            # First park of this socket (or its number's previous socket closed, which took
            # that one out of the epoll).
            self._epoll.register(fd, events)

    def disarm(self, fd: int, fut: "asyncio.Future[bool]") -> None:
        """Forget a parked stream's wait: it was woken otherwise (its idle timer, aclose(),
        a cancellation). A one-shot readiness still armed then finds nobody and is dropped.
        Sockets are never taken out of the epoll by hand: closing one does that, and a number
        reused by another stream's socket must keep that stream's registration."""
        if self._parked.get(fd) is fut:
            del self._parked[fd]

    def _tick_soon(self) -> None:
        if not self._ticking:
            self._ticking = True
            self.loop.call_soon(self._tick)

    def _tick(self) -> None:
        # Runs once per round while there is work: after the steps woken in the last round
        # (scheduled before it), so it opens a new round's budget.
        self._ticking = False
        self._spent = 0.0
        self.round += 1
        self._wake()

    def _wake(self) -> None:
        """Wake what fits in the round's budget left (also the loop's reader of the epoll)."""
        left = _ROUND_BUDGET - self._spent
        if left <= 0:
            self._tick_soon()
            return
        woken = False
        # Each source goes first in turn, so none starves another.
        first = self._first = (self._first + 1) % 3
        for i in range(3):
            if left <= 0:
                break
            source = (first + i) % 3
            if source == 2:  # the completion queue
                # Settling makes the answers' Python results here: measured, not guessed (the
                # tasks it wakes run the caller's code, which is not incluster's share).
                t = time.perf_counter()
                taken = self.completions.drain(max(1, int(left / self._settle)))
                if taken:
                    took = time.perf_counter() - t
                    self._settle += (took / taken - self._settle) * 0.25
                    left -= took
                    woken = True
                continue
            cost = self._cost[source]
            room = max(1, int(left / cost))
            n = self._wake_tickets(room) if source == _TICKET else self._wake_parked(room)
            if n:
                # Their steps run in the next round, before the tick that opens its budget.
                left -= n * cost
                woken = True
        self._spent = _ROUND_BUDGET - left
        if woken:
            self._tick_soon()

    def _wake_tickets(self, room: int) -> int:
        n = 0
        tickets = self._tickets
        while tickets and n < room:
            t = tickets.popleft()
            if not t.done():
                t.set_result(None)
                n += 1
        return n

    def _wake_parked(self, room: int) -> int:
        # Polled even with nobody parked: a readiness left armed by a stream woken otherwise
        # must be taken, or the epoll would stay readable and the loop would spin on it.
        n = 0
        completions = self.completions.fd
        for fd, _ in self._epoll.poll(0, room):
            if fd == completions:
                continue
            fut = self._parked.pop(fd, None)
            if fut is not None and not fut.done():
                fut.set_result(True)
                n += 1
        return n


# One pacer per event loop, its epoll registered with the loop once. Weak both ways: the
# loop's reader is what keeps the pacer (and its completion queue, whose futures refer to the
# loop) alive, so closing the loop frees them, and the eventfd is closed once no worker still
# runs one of its requests.
_LOOPS: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, weakref.ref[_Pacer]]" = (
    weakref.WeakKeyDictionary())


# The last loop asked about and its pacer (weakly, as above): most programs have one loop,
# and this saves every step the WeakKeyDictionary's lookup.
_last: "Tuple[weakref.ref[asyncio.AbstractEventLoop], weakref.ref[_Pacer]] | None" = None


def _pacer(loop: asyncio.AbstractEventLoop) -> _Pacer:
    global _last
    last = _last
    if last is not None and last[0]() is loop:
        pacer = last[1]()
        if pacer is not None:
            return pacer
    found = _LOOPS.get(loop)
    pacer = None if found is None else found()
    if found is None or pacer is None:
        pacer = _Pacer(loop)
        found = _LOOPS[loop] = weakref.ref(pacer)
    _last = (weakref.ref(loop), found)
    return pacer


def _completions(loop: asyncio.AbstractEventLoop) -> "_native._AioLoop":
    """The loop's completion queue (made, and watched, on first use)."""
    return _pacer(loop).completions


def _is_path(path: str) -> bool:
    """Whether ``path`` is an API path, which needs no lookup. A resource name (``"pods"``,
    ``"deploy/web"``) may need the server's discovery documents (requests), so a call that
    names one runs whole on a worker, where resolving it may wait on the network; the loop's
    thread never does."""
    return path.startswith("/")


def _pace() -> "Tuple[_Pacer, Optional[asyncio.Future[None]]]":
    """The running loop's pacer, and the turn to await before going on when the round has no
    room for another step (None: go on now). The first thing a request method does, before
    any of its own work: when one gather makes a thousand requests, asyncio runs their tasks'
    first steps in one round, which then costs little more than a thousand awaits."""
    pacer = _pacer(asyncio.get_running_loop())
    return pacer, (None if pacer.may_run() else pacer.turn())


async def _request(pacer: _Pacer, turn: "Optional[asyncio.Future[None]]",
                   start: Callable[..., "_native._AioCall"], *args: Any, **kwargs: Any) -> Any:
    """One request, in its turn (``turn`` is what `_pace` gave): ``start`` (a
    ``_native.Client._aio_*`` method) converts the arguments here, on the loop's thread, and
    hands the request to a worker that sends it without the GIL; the loop's completion queue
    settles the future."""
    t = time.perf_counter()
    fut: asyncio.Future[Any] = pacer.loop.create_future()
    call = start(pacer.completions, fut, *args, **kwargs)
    pacer.charge(time.perf_counter() - t, _DIRECT if turn is None else _TICKET)
    try:
        return await fut
    except BaseException:
        # As in _submit: a cancellation ends the request at once (or keeps a queued one from
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
    """What a watch and a log read share: opening on first use, reading when the socket is
    ready and the loop's pacer gives the stream its turn, aclose() and the async context
    manager."""

    __slots__ = ("_start", "_s", "_waiter", "_closed", "_reading", "_round", "_woke", "_pacer")

    def __init__(self, start: Callable[[], _S]) -> None:
        self._start: Callable[[], _S] = start
        self._reading = False
        self._s: Optional[_S] = None
        self._waiter: Optional[asyncio.Future[bool]] = None
        self._closed = False
        # The pacer's round in which the last item was let through (-1: none to follow up).
        self._round = -1
        self._woke = 0.0
        # The pacer of the loop the stream was last read on.
        self._pacer: Optional[_Pacer] = None

    async def _open(self) -> Optional[_S]:
        if self._s is None and not self._closed:
            self._s = await _call(self._start)
            if self._closed:
                self._s.close()
        return None if self._closed else self._s

    async def _poll(self) -> Any:
        """The native stream's next item (a WatchEvent, or a list of log lines): its socket
        read, TLS and framing advanced in Rust without waiting, when the socket is ready and
        the pacer has room in the loop's round. StopAsyncIteration at the end or on aclose().
        """
        s = self._s
        if s is None or self._closed:
            s = await self._open()
            if s is None:
                raise StopAsyncIteration
        loop = asyncio.get_running_loop()
        pacer = self._pacer
        if pacer is None or pacer.loop is not loop:
            pacer = self._pacer = _pacer(loop)
        woken = _DIRECT
        if self._round == pacer.round:
            # The step right after an item the pacer let through, in the same round: usually
            # a poll that finds nothing and parks, which gives the stream's buffers back at
            # once rather than holding them for a round (which costs the next woken streams
            # an allocation each).
            woken = _FREE
        self._round = -1
        t = time.perf_counter()
        while True:
            if woken == _DIRECT and not pacer.may_run():
                await pacer.turn()
                woken = _TICKET
                t = time.perf_counter()
            kind, value = s._poll_async()
            if kind == _ITEM:
                pacer.charge(time.perf_counter() - t, woken)
                if woken != _FREE:
                    self._round = pacer.round
                return value
            if kind == _END or self._closed:
                raise StopAsyncIteration
            if kind == _SOCKET:
                fd, writable, idle = value
                # Woken by the pacer, its turn is given; by aclose(), the next poll ends.
                # The step is charged with its wait's setting up, and the next one from
                # before its undoing.
                ready = await self._park(pacer, fd, writable, idle, t, woken)
                woken = _PARKED if ready else _DIRECT
                t = self._woke
                if not ready:
                    s._idle_expired()
            else:
                woken = _DIRECT
                # The backoff before a resume is waited out here, on the loop; the resume
                # itself (a watch's request, perhaps a relist; a log's pod status and its
                # request from the last timestamp) borrows a worker. A resume that reaches a
                # backoff returns from the worker, and the next round waits it.
                delay = s._resume_delay()
                if delay:
                    await self._park(pacer, None, False, delay)
                if self._closed:
                    raise StopAsyncIteration
                await _call(s._wait_io)
                t = time.perf_counter()

    async def _park(self, pacer: _Pacer, fd: Optional[int], writable: bool,
                    timeout: Optional[float], began: float = 0.0, woken: int = _DIRECT) -> bool:
        """Wait until `fd` is ready and the pacer gives this stream its turn, or aclose()
        (True), or `timeout` seconds pass (False). With `began`, the step that began then
        (and came to run as `woken` says) is charged up to the wait; ``self._woke`` is when
        the wait ended."""
        fut: asyncio.Future[bool] = pacer.loop.create_future()
        if fd is not None:
            pacer.arm(fd, writable, fut)
        timer = None if timeout is None else pacer.loop.call_later(timeout, _wake, fut, False)
        self._waiter = fut
        if began:
            pacer.charge(time.perf_counter() - began, woken)
        try:
            return await fut
        finally:
            self._woke = time.perf_counter()
            self._waiter = None
            if timer is not None:
                timer.cancel()
            if fd is not None:
                pacer.disarm(fd, fut)

    async def aclose(self) -> None:
        """End the stream at once and close its connection (a pending ``__anext__`` ends
        with StopAsyncIteration). Idempotent."""
        self._closed = True
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
        wait for the socket and leave it waiting."""
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
            return await self._poll()  # type: ignore[no-any-return]
        finally:
            self._reading = False

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
        self._lines.extend(await self._poll())
        return self._lines.popleft()

    def __repr__(self) -> str:
        return f"<incluster.aio.Logs {self._state()}>"



def _next_or_none(it: Any) -> Any:
    """``next(it)``, or None at its end: a StopIteration cannot travel through a future."""
    return next(it, None)


class ExecStream:
    """A running exec or attach session (``Client.exec_stream``, ``Client.attach``), an async
    context manager and an async iterator of ``(channel, data)`` pairs (channel 1 stdout, 2
    stderr; with a tty everything arrives on 1), ending when the command has exited
    (``returncode`` is then set).

    The session is the sync ``incluster.ExecStream`` (the framing, the v5/v4 protocols and
    the flow control stay in the core). Each call that waits on the session (a read, a write
    the server is not taking yet, ``wait()``) runs on a thread of its own for its duration, not
    on the shared worker pool: a session that waits for output for an hour holds no worker.
    Cancelling any of them (``task.cancel()``, ``asyncio.timeout``) stops that wait at once and
    closes the session; ``aclose()`` (or leaving ``async with``) closes it too.
    """

    __slots__ = ("_start", "_s", "_closed", "_protocol")

    def __init__(self, start: Callable[[], "_native.ExecStream"]) -> None:
        self._start: Callable[[], _native.ExecStream] = start
        self._s: Optional[_native.ExecStream] = None
        self._closed = False
        self._protocol: Optional[str] = None

    async def _open(self) -> "_native.ExecStream":
        if self._s is None:
            if self._closed:
                raise Cancelled("this exec session was closed")
            self._s = await _call(self._start)
            # Read once now: the session's getter needs the session, which a pending read
            # holds on its thread.
            self._protocol = self._s.protocol
            if self._closed:
                self._s.close()
        return self._s

    async def _do(self, method: Optional[str], *args: Any) -> Any:
        """Call ``method`` of the session (None: the next output, None at the end) on a
        thread of its own."""
        s = await self._open()
        if self._closed:
            if method is None:
                return None
            raise Cancelled("this exec session was closed")
        try:
            if method is None:
                return await _call_long(_next_or_none, s)
            return await _call_long(getattr(s, method), *args)
        except asyncio.CancelledError:
            # A cancelled exec closes its session: the command is not left half fed.
            self._closed = True
            s.close()
            raise

    def __await__(self) -> Generator[Any, None, "ExecStream"]:
        return self.__aenter__().__await__()

    async def __aenter__(self) -> "ExecStream":
        await self._open()
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> "ExecStream":
        return self

    async def __anext__(self) -> Tuple[int, bytes]:
        if self._closed:
            raise StopAsyncIteration
        item = await self._do(None)
        if item is None:
            raise StopAsyncIteration
        return item  # type: ignore[no-any-return]

    async def write(self, data: Union[bytes, str]) -> None:
        """Send data to the command's stdin (str as UTF-8); waits while the server is not
        taking data."""
        await self._do("write", data)

    async def close_stdin(self) -> None:
        """Close the command's stdin (it sees end of file). Raises InvalidArgument on a
        server that speaks only v4.channel.k8s.io."""
        await self._do("close_stdin")

    async def resize(self, width: int, height: int) -> None:
        """Tell the terminal's new size (sessions opened with ``tty=True`` only)."""
        await self._do("resize", width, height)

    async def wait(self) -> int:
        """Read and drop the remaining output; return the exit code."""
        return await self._do("wait")  # type: ignore[no-any-return]

    @property
    def returncode(self) -> Optional[int]:
        """The exit code once the session ended, else None."""
        return None if self._s is None else self._s.returncode

    @property
    def protocol(self) -> Optional[str]:
        """The subprotocol the server chose, None before the session started."""
        return self._protocol

    async def aclose(self) -> None:
        """Stop and close the session at once (a pending read ends). Idempotent."""
        self._closed = True
        if self._s is not None:
            self._s.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open" if self._s is not None else "not started"
        return f"<incluster.aio.ExecStream {state} returncode={self.returncode}>"


class LeaderElection:
    """One contender for a Lease (``Client.leader_election``), as an async context manager::

        async with kube.leader_election("my-job") as le:
            await le.run(work)          # cancelled when leadership is lost

    The election is the sync ``incluster.LeaderElection``: client-go's algorithm in the core,
    its loop on a thread of its own (one per election: there are few of them). Entering waits
    for leadership on a thread of its own too, so no worker of the shared pool is held; leaving
    releases the Lease (and waits for the release). Cancelling the entering task stops the
    contender (releasing the Lease if it had just won it) before CancelledError is raised.
    ``lost`` is an ``asyncio.Event``; the callbacks (plain or coroutine functions) run on the
    event loop.
    """

    __slots__ = ("_sync", "_loop", "_lost", "_callbacks", "_tasks", "_label")

    def __init__(
        self,
        make: Callable[[Callable[..., None], Callable[..., None], Callable[..., None]],
                       "_native.LeaderElection"],
        on_started: Optional[Callable[[], Any]],
        on_stopped: Optional[Callable[[str], Any]],
        on_new_leader: Optional[Callable[[str], Any]],
        label: str,
    ) -> None:
        self._label = label
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._lost: Optional[asyncio.Event] = None
        self._callbacks = (on_started, on_stopped, on_new_leader)
        self._tasks: set[asyncio.Future[Any]] = set()
        # The sync election calls these on its own thread: each hands its work to the loop.
        self._sync = make(self._started, self._stopped, self._new_leader)

    def _to_loop(self, index: int, *args: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._invoke, index, args)
        except RuntimeError:
            pass  # the loop closed meanwhile: nobody is left to tell

    def _invoke(self, index: int, args: Tuple[Any, ...]) -> None:
        if index == 1:
            self.lost.set()
        cb = self._callbacks[index]
        if cb is None:
            return
        r = cb(*args)
        if inspect.isawaitable(r):
            task = asyncio.ensure_future(r)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _started(self) -> None:
        self._to_loop(0)

    def _stopped(self, why: str) -> None:
        self._to_loop(1, why)

    def _new_leader(self, identity: str) -> None:
        self._to_loop(2, identity)

    async def __aenter__(self) -> "LeaderElection":
        self._loop = asyncio.get_running_loop()
        _ = self.lost
        try:
            await _call_long(self._sync.__enter__)
        except asyncio.CancelledError:
            # The wait stops at once, but the contender's loop may have won the Lease just
            # then, or win it before it notices: stop it here, as leaving does (releasing a
            # Lease it holds), before the cancellation goes on.
            await _finish(self._sync.__exit__, None, None, None)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await _finish(self._sync.__exit__, None, None, None)
        self.lost.set()

    @property
    def is_leader(self) -> bool:
        """Whether this process leads now (false from the renew deadline on)."""
        return self._sync.is_leader

    @property
    def lost(self) -> asyncio.Event:
        """An ``asyncio.Event`` set when leadership ends (lost, or released on exit)."""
        if self._lost is None:
            self._lost = asyncio.Event()
        return self._lost

    @property
    def identity(self) -> Optional[str]:
        """The identity in the Lease (given, or hostname plus a random suffix once entered)."""
        return self._sync.identity

    @property
    def name(self) -> str:
        """The Lease's name."""
        return self._sync.name

    async def wait_lost(self, timeout: Optional[float] = None) -> bool:
        """Wait until leadership ends or ``timeout`` seconds pass; True if it ended."""
        if self._loop is None:
            return True
        try:
            await asyncio.wait_for(self.lost.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    async def run(self, f: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``f(*args, **kwargs)`` (a coroutine function, or a plain one whose result is
        returned) while leading; its result, or its exception. If leadership is lost first,
        its task is cancelled and Cancelled is raised."""
        if self.lost.is_set() or not self.is_leader:
            raise Cancelled(self._lost_message())
        work = asyncio.ensure_future(_maybe_await(f(*args, **kwargs)))
        lost = asyncio.ensure_future(self.lost.wait())
        try:
            await asyncio.wait({work, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            if not work.done():
                work.cancel()
                await asyncio.wait({work})
        if work.cancelled() and self.lost.is_set():
            raise Cancelled(self._lost_message())
        return work.result()

    def _lost_message(self) -> str:
        return f"leadership of lease {self._label} was lost before the function returned"

    def __repr__(self) -> str:
        return (f"<incluster.aio.LeaderElection lease={self._label!r} "
                f"identity={self.identity!r} leader={self.is_leader}>")


class PortForwarder:
    """A listener on 127.0.0.1 forwarding each connection to a Pod's port
    (``Client.port_forward_listen``): the sync ``incluster.PortForwarder``, whose listener and
    connections run on threads of its own. ``async with`` (or ``await``) starts it; leaving
    (or ``aclose()``) stops it and its connections."""

    __slots__ = ("_start", "_f")

    def __init__(self, start: Callable[[], "_native.PortForwarder"]) -> None:
        self._start: Callable[[], _native.PortForwarder] = start
        self._f: Optional[_native.PortForwarder] = None

    def _started(self) -> "_native.PortForwarder":
        if self._f is None:
            raise RuntimeError("the port forwarder is not started: use `async with` or await it")
        return self._f

    def __await__(self) -> Generator[Any, None, "PortForwarder"]:
        return self.__aenter__().__await__()

    async def __aenter__(self) -> "PortForwarder":
        if self._f is None:
            self._f = await _call(self._start)
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.aclose()

    @property
    def local_port(self) -> int:
        """The local port connections are accepted on."""
        return self._started().local_port

    @property
    def address(self) -> Tuple[str, int]:
        """``("127.0.0.1", local_port)``, for ``asyncio.open_connection(*address)``."""
        return self._started().address

    async def aclose(self) -> None:
        """Stop listening; forwarded connections end. Idempotent."""
        if self._f is not None:
            await _finish(self._f.close)

    def __repr__(self) -> str:
        port = None if self._f is None else self._f.local_port
        return f"<incluster.aio.PortForwarder local_port={port}>"


def _pump_from_pod(pf: "_native.PortForwardSocket", local: socket.socket) -> None:
    """Copy what the Pod sends to the local end until either side ends."""
    try:
        while True:
            data = pf.recv(65536)
            if not data:
                break
            local.sendall(data)
        local.shutdown(socket.SHUT_WR)
    except Exception:  # noqa: BLE001 - the other side ended: nothing left to copy
        pass
    finally:
        pf.close()


def _pump_to_pod(pf: "_native.PortForwardSocket", local: socket.socket) -> None:
    """Copy what the program writes to the Pod until it closes its end, then close both."""
    try:
        while True:
            data = local.recv(65536)
            if not data:
                break
            pf.sendall(data)
    except Exception:  # noqa: BLE001 - the other side ended: nothing left to copy
        pass
    finally:
        pf.close()
        local.close()


async def _feed(stream: Union[Watch, Logs], callback: Callable[[Any], Any]) -> None:
    """The callback form of ``watch`` and ``logs``: each item to ``callback`` (awaited when it
    is a coroutine function's) until it returns False or raises; the stream is closed then."""
    async with stream:
        async for item in stream:
            if await _maybe_await(callback(item)) is False:
                return


async def _drive_wait(w: "_native._AioWait") -> Any:
    """Step the core's wait machine: its list on a worker, then its watch's events on the
    loop until a verdict (Unmeetable raises from ``_feed``)."""
    done, value = await _call(w._list)
    if done:
        return value
    async with Watch(w._watch) as watch:
        async for ev in watch:
            done, value = w._feed(ev)
            if done:
                return value
    raise w._ended()


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

    @classmethod
    def from_kubeconfig(
        cls,
        path: Optional[_Path] = None,
        context: Optional[str] = None,
        *,
        namespace: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> "Client":
        """A client from a kubeconfig, as ``incluster.Client.from_kubeconfig`` (the same
        arguments and errors). Only the file is read here; an exec credential plugin runs when
        a request needs a token, on the worker running that request, never on the loop."""
        client = cls.__new__(cls)
        client._sync = _native.Client.from_kubeconfig(path, context, namespace=namespace,
                                                      timeout=timeout)
        return client

    @property
    def source(self) -> dict[str, Any]:
        """Where the settings came from, as ``incluster.Client.source``."""
        return self._sync.source

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
        namespace: Optional[str] = None,
        all_namespaces: bool = False,
    ) -> Any:
        """Any request; the parsed JSON body (None if empty). As ``incluster.Client.request``
        (``path`` may be a resource name: ``"pods"``, ``"deploy/web"``)."""
        pacer, turn = _pace()
        if turn is not None:
            await turn
        kw = dict(params=params, json=json, data=data, content_type=content_type,
                  namespace=namespace, all_namespaces=all_namespaces)
        if _is_path(path):
            return await _request(pacer, turn, self._sync._aio_request, method, path, **kw)
        return await _submit(pacer, turn, self._sync.request, method, path, **kw)

    async def request_raw(
        self,
        method: str,
        path: str,
        *,
        params: _Params = None,
        json: Any = None,
        data: Optional[Union[bytes, str]] = None,
        content_type: Optional[str] = None,
        namespace: Optional[str] = None,
        all_namespaces: bool = False,
    ) -> Response:
        """Any request; the raw Response. As ``incluster.Client.request_raw``."""
        pacer, turn = _pace()
        if turn is not None:
            await turn
        kw = dict(params=params, json=json, data=data, content_type=content_type,
                  namespace=namespace, all_namespaces=all_namespaces)
        if _is_path(path):
            return cast(Response, await _request(pacer, turn, self._sync._aio_request_raw,
                                                 method, path, **kw))
        return await _submit(pacer, turn, self._sync.request_raw, method, path, **kw)

    async def get(
        self,
        path: str,
        *,
        params: _Params = None,
        namespace: Optional[str] = None,
        all_namespaces: bool = False,
    ) -> Any:
        """GET; the parsed JSON. As ``incluster.Client.get``."""
        pacer, turn = _pace()
        if turn is not None:
            await turn
        kw = dict(params=params, namespace=namespace, all_namespaces=all_namespaces)
        if _is_path(path):
            return await _request(pacer, turn, self._sync._aio_get, path, **kw)
        return await _submit(pacer, turn, self._sync.get, path, **kw)

    async def post(
        self,
        path: str,
        json: Any = None,
        *,
        data: Optional[Union[bytes, str]] = None,
        content_type: Optional[str] = None,
        params: _Params = None,
        namespace: Optional[str] = None,
        all_namespaces: bool = False,
    ) -> Any:
        """POST; the parsed JSON. As ``incluster.Client.post``."""
        pacer, turn = _pace()
        if turn is not None:
            await turn
        kw = dict(data=data, content_type=content_type, params=params, namespace=namespace,
                  all_namespaces=all_namespaces)
        if _is_path(path):
            return await _request(pacer, turn, self._sync._aio_request, "POST", path,
                                  json=json, **kw)
        return await _submit(pacer, turn, self._sync.post, path, json, **kw)

    async def put(
        self,
        path: str,
        json: Any = None,
        *,
        data: Optional[Union[bytes, str]] = None,
        content_type: Optional[str] = None,
        params: _Params = None,
        namespace: Optional[str] = None,
        all_namespaces: bool = False,
    ) -> Any:
        """PUT; the parsed JSON. As ``incluster.Client.put``."""
        pacer, turn = _pace()
        if turn is not None:
            await turn
        kw = dict(data=data, content_type=content_type, params=params, namespace=namespace,
                  all_namespaces=all_namespaces)
        if _is_path(path):
            return await _request(pacer, turn, self._sync._aio_request, "PUT", path,
                                  json=json, **kw)
        return await _submit(pacer, turn, self._sync.put, path, json, **kw)

    async def delete(
        self,
        path: str,
        *,
        json: Any = None,
        params: _Params = None,
        namespace: Optional[str] = None,
        all_namespaces: bool = False,
    ) -> Any:
        """DELETE; the parsed JSON. As ``incluster.Client.delete``."""
        pacer, turn = _pace()
        if turn is not None:
            await turn
        kw = dict(json=json, params=params, namespace=namespace, all_namespaces=all_namespaces)
        if _is_path(path):
            return await _request(pacer, turn, self._sync._aio_delete, path, **kw)
        return await _submit(pacer, turn, self._sync.delete, path, **kw)

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
        namespace: Optional[str] = None,
    ) -> Any:
        """PATCH; the parsed JSON. As ``incluster.Client.patch``."""
        pacer, turn = _pace()
        if turn is not None:
            await turn
        kw = dict(data=data, patch_type=patch_type, field_manager=field_manager, force=force,
                  params=params, namespace=namespace)
        if _is_path(path):
            return await _request(pacer, turn, self._sync._aio_patch, path, json, **kw)
        return await _submit(pacer, turn, self._sync.patch, path, json, **kw)

    async def whoami(self) -> dict[str, Any]:
        """Who the server says the caller is. As ``incluster.Client.whoami``."""
        pacer, turn = _pace()
        if turn is not None:
            await turn
        return cast("dict[str, Any]", await _request(pacer, turn, self._sync._aio_whoami))

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
        pacer, turn = _pace()
        if turn is not None:
            await turn
        return cast(bool, await _request(pacer, turn, self._sync._aio_can_i, verb, resource,
                                         namespace=namespace, name=name,
                                         subresource=subresource))

    @overload
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
        callback: None = None,
        namespace: Optional[str] = None,
        all_namespaces: bool = False,
    ) -> Watch: ...
    @overload
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
        callback: Callable[[WatchEvent], Any],
        namespace: Optional[str] = None,
        all_namespaces: bool = False,
    ) -> Awaitable[None]: ...
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
        callback: Optional[Callable[[WatchEvent], Any]] = None,
        namespace: Optional[str] = None,
        all_namespaces: bool = False,
    ) -> Union[Watch, Awaitable[None]]:
        """Watch a collection: ``async for ev in kube.watch(path, ...)``. The options and
        the behaviour (resume, 410 relist, idle timeout, names in ``path``) are
        ``incluster.Client.watch``'s; the first request is made when iteration starts.

        With ``callback`` (a plain or a coroutine function), a coroutine that calls it with
        each event until it returns False or raises (the exception propagates unchanged)."""
        sync = self._sync

        def start() -> _native.Watch:
            return sync.watch(
                path, label_selector=label_selector, field_selector=field_selector,
                resource_version=resource_version,
                resource_version_match=resource_version_match,
                timeout_seconds=timeout_seconds, allow_bookmarks=allow_bookmarks,
                bookmarks=bookmarks, send_initial_events=send_initial_events, params=params,
                max_event_bytes=max_event_bytes, resume=resume, on_gone=on_gone,
                idle_timeout=idle_timeout, backoff=backoff, namespace=namespace,
                all_namespaces=all_namespaces)

        w = Watch(start)
        return w if callback is None else _feed(w, callback)

    @overload
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
        callback: None = None,
    ) -> Logs: ...
    @overload
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
        callback: Callable[[Any], Any],
    ) -> Awaitable[None]: ...
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
        callback: Optional[Callable[[Any], Any]] = None,
    ) -> Union[Logs, Awaitable[None]]:
        """Read a pod's log: ``async for line in kube.logs(pod, ...)``. The options and the
        behaviour (follow, resume without loss, idle check) are ``incluster.Client.logs``'s;
        the first request is made when iteration starts. With ``callback``, a coroutine that
        feeds it each line, as ``watch``'s."""
        sync = self._sync

        def start() -> _native.Logs:
            return sync.logs(
                pod, namespace=namespace, container=container, follow=follow,
                previous=previous, since_seconds=since_seconds, since_time=since_time,
                timestamps=timestamps, tail_lines=tail_lines, limit_bytes=limit_bytes,
                insecure_skip_tls_verify_backend=insecure_skip_tls_verify_backend,
                resume=resume, max_line_bytes=max_line_bytes, idle_check=idle_check,
                backoff=backoff, as_bytes=as_bytes)

        logs = Logs(start)
        return logs if callback is None else _feed(logs, callback)

    async def resolve(
        self, what: str, *, namespace: Optional[str] = None, all_namespaces: bool = False
    ) -> dict[str, Any]:
        """Resolve a path or a resource name without sending it (discovery, when needed, is
        requested on a worker). As ``incluster.Client.resolve``."""
        return await _call(self._sync.resolve, what, namespace=namespace,
                           all_namespaces=all_namespaces)

    async def apply(
        self,
        manifest: Union[str, Mapping[str, Any], Sequence[Mapping[str, Any]]],
        *,
        field_manager: Optional[str] = None,
        force: bool = False,
        namespace: Optional[str] = None,
    ) -> List[dict[str, Any]]:
        """Server-side apply, as ``kubectl apply --server-side``; the applied objects. As
        ``incluster.Client.apply`` (its requests one after the other, on one worker;
        cancelling stops at the object being sent, the ones before it stay applied)."""
        return await _call(self._sync.apply, manifest, field_manager=field_manager,
                           force=force, namespace=namespace)

    async def wait(
        self,
        target: str,
        for_: Optional[Union[str, Sequence[str]]] = None,
        *,
        any_: Optional[Union[str, Sequence[str]]] = None,
        fail_on: Optional[Union[str, Sequence[str]]] = None,
        label_selector: Optional[str] = None,
        namespace: Optional[str] = None,
        allow_empty: bool = False,
        timeout: Optional[float] = None,
        with_conditions: bool = False,
    ) -> Any:
        """Wait until an object, or every object a selector picks, meets the conditions:
        ``incluster.Client.wait``'s arguments, results and exceptions (WaitTimeout,
        Unmeetable, ...).

        The conditions are judged by the core's wait machine; its list is a request on a
        worker, and its watch an ``incluster.aio`` watch read on the event loop, so a
        thousand waiting waits hold no thread and no worker. Cancelling ends the watch and
        closes its connection.
        """
        w = await _call(self._sync._aio_wait, target, for_, any_=any_, fail_on=fail_on,
                        label_selector=label_selector, namespace=namespace,
                        allow_empty=allow_empty, timeout=timeout,
                        with_conditions=with_conditions)
        if timeout == 0:
            # Checks once: the list's verdict, or WaitTimeout from _list.
            return (await _call(w._list))[1]
        return await _within(_drive_wait(w), timeout, w._timed_out)

    def leader_election(
        self,
        name: str,
        *,
        namespace: Optional[str] = None,
        identity: Optional[str] = None,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
        timeout: Optional[float] = None,
        on_started: Optional[Callable[[], Any]] = None,
        on_stopped: Optional[Callable[[str], Any]] = None,
        on_new_leader: Optional[Callable[[str], Any]] = None,
    ) -> LeaderElection:
        """Leader election on the Lease ``name``: ``async with kube.leader_election(name) as
        le:`` waits for leadership and releases the Lease on leaving. The arguments (checked
        here: InvalidArgument) and the algorithm are ``incluster.Client.leader_election``'s;
        the callbacks, plain or coroutine functions, run on the event loop."""
        sync = self._sync

        def make(started: Callable[..., None], stopped: Callable[..., None],
                 new_leader: Callable[..., None]) -> _native.LeaderElection:
            return sync.leader_election(
                name, namespace=namespace, identity=identity, lease_duration=lease_duration,
                renew_deadline=renew_deadline, retry_period=retry_period, timeout=timeout,
                on_started=started, on_stopped=stopped, on_new_leader=new_leader)

        return LeaderElection(make, on_started, on_stopped, on_new_leader,
                              f"{namespace or self.namespace}/{name}")

    async def exec(
        self,
        pod: str,
        command: Sequence[str],
        *,
        container: Optional[str] = None,
        namespace: Optional[str] = None,
        stdin: Union[bytes, str, Any, None] = None,
        timeout: Optional[float] = None,
        check: bool = False,
    ) -> ExecResult:
        """Run a command in a container to completion, like ``subprocess.run``: an
        ExecResult. As ``incluster.Client.exec`` (arguments, result, exceptions). The session
        runs on a thread of its own, not on the shared pool; cancelling closes it at once."""
        return await _call_long(self._sync.exec, pod, list(command), container=container,
                                namespace=namespace, stdin=stdin, timeout=timeout,
                                check=check)

    def exec_stream(
        self,
        pod: str,
        command: Sequence[str],
        *,
        container: Optional[str] = None,
        namespace: Optional[str] = None,
        stdin: bool = False,
        tty: bool = False,
    ) -> ExecStream:
        """Start a command: ``async with kube.exec_stream(pod, cmd) as s:`` (or ``s = await
        kube.exec_stream(...)``), then ``await s.write()``, ``await s.close_stdin()``,
        ``async for ch, data in s``, ``await s.wait()``, ``await s.resize()``. The session
        starts on entering; its errors (NotFound, Forbidden, ...) raise there."""
        sync = self._sync
        cmd = list(command)

        def start() -> _native.ExecStream:
            return sync.exec_stream(pod, cmd, container=container, namespace=namespace,
                                    stdin=stdin, tty=tty)

        return ExecStream(start)

    def attach(
        self,
        pod: str,
        *,
        container: Optional[str] = None,
        namespace: Optional[str] = None,
        stdin: bool = False,
        tty: bool = False,
    ) -> ExecStream:
        """Attach to a container's main process (``create`` on ``pods/attach``); an
        ExecStream, as ``exec_stream``'s."""
        sync = self._sync

        def start() -> _native.ExecStream:
            return sync.attach(pod, container=container, namespace=namespace, stdin=stdin,
                               tty=tty)

        return ExecStream(start)

    async def port_forward(
        self, pod: str, port: int, *, namespace: Optional[str] = None
    ) -> Tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Connect to ``port`` of ``pod``: an asyncio ``(StreamReader, StreamWriter)`` pair,
        as ``asyncio.open_connection`` gives (``writer.close()`` ends the connection;
        ``reader`` sees EOF once the Pod closed it).

        The connection is the sync ``incluster.PortForwardSocket`` (the core's port-forward
        protocol), joined to the pair through a local socket pair by two threads of its own,
        which end with the connection. Errors of the connection itself (TransportError,
        Forbidden, NotFound) raise here; later ones end the stream."""
        pf = await _call(self._sync.port_forward, pod, port, namespace=namespace)
        ours, theirs = socket.socketpair()
        try:
            reader, writer = await asyncio.open_connection(sock=ours)
        except BaseException:
            ours.close()
            theirs.close()
            pf.close()
            raise
        for pump in (_pump_from_pod, _pump_to_pod):
            threading.Thread(target=pump, args=(pf, theirs), daemon=True,
                             name="incluster-aio-forward").start()
        return reader, writer

    def port_forward_listen(
        self,
        pod: str,
        port: int,
        *,
        local_port: int = 0,
        namespace: Optional[str] = None,
    ) -> PortForwarder:
        """Listen on 127.0.0.1 (``local_port``; 0 picks a free one) and forward each
        connection to ``port`` of ``pod``: ``async with kube.port_forward_listen(pod, port)
        as fwd:`` then ``asyncio.open_connection(*fwd.address)``."""
        sync = self._sync

        def start() -> _native.PortForwarder:
            return sync.port_forward_listen(pod, port, local_port=local_port,
                                            namespace=namespace)

        return PortForwarder(start)

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

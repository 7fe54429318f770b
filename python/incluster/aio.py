"""incluster.aio: the asyncio client.

    import incluster.aio

    async with incluster.aio.Client() as kube:      # the same arguments as incluster.Client
        pods = await kube.get(f"/api/v1/namespaces/{kube.namespace}/pods")

Every request method of ``incluster.Client`` is here as a coroutine with the same arguments,
results and exceptions. Why a module with a class of the same name rather than an
``AsyncClient`` next to ``Client``: code moves between the two by changing one import and
adding ``await``, and the module is where the other async types belong, as in ``redis.asyncio``.

How it runs: a request is handed to a small fixed pool of native threads (shared by all
clients); the one doing it waits on the socket with the GIL released, and completes the
coroutine's future through the loop's ``call_soon_threadsafe``. The event loop's thread never
waits for the network. A thousand concurrent requests queue on the pool; they do not start a
thousand threads.

Cancelling the awaiting task (``task.cancel()``, ``asyncio.timeout``, ``wait_for``) raises
``CancelledError`` in it at once, unchanged; the request still queued never starts, and one
under way stops at its next socket wait and closes its connection. The client stays usable.

Watches and log streams are not in this module yet: use the sync ``incluster.Client`` for
them (each in its own thread).
"""

from __future__ import annotations

import asyncio
from os import PathLike
from types import TracebackType
from typing import Any, Callable, Literal, Mapping, Optional, Sequence, Tuple, TypeVar, Union

from . import _native
from ._native import Response

__all__ = ["Client", "Response"]

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
    finally:
        # After a cancellation this ends the request (or keeps a queued one from starting);
        # after an answer it does nothing.
        call.cancel()


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
        return await _call(self._sync.request, method, path, params=params, json=json,
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
        return await _call(self._sync.request_raw, method, path, params=params, json=json,
                           data=data, content_type=content_type)

    async def get(self, path: str, *, params: _Params = None) -> Any:
        """GET; the parsed JSON. As ``incluster.Client.get``."""
        return await _call(self._sync.get, path, params=params)

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
        return await _call(self._sync.post, path, json, data=data, content_type=content_type,
                           params=params)

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
        return await _call(self._sync.put, path, json, data=data, content_type=content_type,
                           params=params)

    async def delete(self, path: str, *, json: Any = None, params: _Params = None) -> Any:
        """DELETE; the parsed JSON. As ``incluster.Client.delete``."""
        return await _call(self._sync.delete, path, json=json, params=params)

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
        return await _call(self._sync.patch, path, json, data=data, patch_type=patch_type,
                           field_manager=field_manager, force=force, params=params)

    async def whoami(self) -> dict[str, Any]:
        """Who the server says the caller is. As ``incluster.Client.whoami``."""
        return await _call(self._sync.whoami)

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
        return await _call(self._sync.can_i, verb, resource, namespace=namespace, name=name,
                           subresource=subresource)

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

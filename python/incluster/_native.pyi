"""Type stubs for the native module (Rust, pyo3)."""

from os import PathLike
from typing import (
    Any,
    Callable,
    Iterator,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
    final,
    overload,
)

__all__ = [
    "Client",
    "ExecResult",
    "ExecStream",
    "LeaderElection",
    "LogBatches",
    "Logs",
    "PortForwardSocket",
    "PortForwarder",
    "Response",
    "Watch",
    "WatchEvent",
    "__version__",
]

__version__: str

_Params = Optional[Union[Mapping[str, Any], Sequence[Tuple[str, Any]]]]
_Path = Union[str, PathLike[str]]

@final
class Response:
    """A raw answer: status, headers and body bytes."""

    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> dict[str, str]:
        """Headers with lower-case names; repeated headers joined with ", "."""
    @property
    def body(self) -> bytes: ...
    @property
    def text(self) -> str:
        """The body as UTF-8 (invalid bytes replaced)."""
    def json(self) -> Any:
        """The body parsed as JSON (None for an empty body)."""

@final
class WatchEvent:
    """One watch event."""

    @property
    def type(
        self,
    ) -> Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "RESYNC_START", "RESYNC_END"]:
        """RESYNC_START/RESYNC_END surround the differences found by a relist after a 410."""
    @property
    def object(self) -> dict[str, Any]:
        """The object as a dict, built in Rust from the event line as it arrived."""
    @property
    def raw(self) -> bytes:
        """The object's JSON bytes as the server sent them."""
    @property
    def resource_version(self) -> str: ...

@final
class Watch:
    """A running watch: an iterator of WatchEvent and a context manager.

    It resumes from the last resourceVersion when the stream ends or breaks, and on 410 Gone
    relists and yields the differences between RESYNC_START and RESYNC_END events. While it
    waits, other threads run and Ctrl-C raises KeyboardInterrupt at once.

    Iterate it from one thread at a time: a second thread (while one is inside ``next()``)
    gets RuntimeError at once. ``cancel()``, ``close()`` and ``resource_version`` work from any
    thread. It owns what it needs: it keeps running after its Client is closed (as in C).
    """

    def __iter__(self) -> "Watch": ...
    def __next__(self) -> WatchEvent: ...
    def cancel(self) -> None:
        """Stop the watch from any thread; a blocked iteration ends within ~100 ms, with
        StopIteration (the ``for`` loop ends; nothing is raised)."""
    def close(self) -> None:
        """Stop the watch and close its connection (from any thread; also on leaving ``with``)."""
    @property
    def resource_version(self) -> Optional[str]:
        """The resourceVersion the watch would resume from (advanced by events and bookmarks),
        or None before the first one."""
    def __enter__(self) -> "Watch": ...
    def __exit__(self, *args: object) -> bool: ...
    # Private: incluster.aio drives the watch with these (src/py/watch.rs).
    def _poll_async(self) -> Tuple[int, Any]: ...
    def _resume_delay(self) -> Optional[float]: ...
    def _wait_io(self) -> None: ...
    def _idle_expired(self) -> None: ...

@final
class LogBatches:
    """The lists of lines in which a log arrived (what ``iter(Logs)`` chains)."""

    def __iter__(self) -> "LogBatches": ...
    def __next__(self) -> list[Any]: ...

@final
class Logs:
    """A running log read: an iterator of lines (``str``, or ``bytes`` with ``as_bytes``), and
    a context manager. Lines arrive as the server sends them, without their newline.

    While it waits, other threads run and Ctrl-C raises KeyboardInterrupt at once. Read it from
    one thread at a time (another thread gets RuntimeError at once); ``cancel()`` and
    ``close()`` work from any thread. It keeps running after its Client is closed (as in C)."""

    def __iter__(self) -> Iterator[Any]:
        """The lines (chained from the batches in which they arrived)."""
    def __next__(self) -> Any: ...
    def cancel(self) -> None:
        """Stop from any thread; a blocked iteration ends within ~100 ms, with StopIteration."""
    def close(self) -> None:
        """Stop and close the connection (from any thread; also on leaving ``with``)."""
    def __enter__(self) -> "Logs": ...
    def __exit__(self, *args: object) -> bool: ...
    # Private: incluster.aio drives the log read with these (src/py/logs.rs).
    def _poll_async(self) -> Tuple[int, Any]: ...
    def _resume_delay(self) -> Optional[float]: ...
    def _wait_io(self) -> None: ...
    def _idle_expired(self) -> None: ...

@final
class LeaderElection:
    """One contender for a Lease (coordination.k8s.io/v1, client-go's algorithm, so it contends
    with Go controllers too); made by ``Client.leader_election``. A context manager:

        with client.leader_election("my-job") as lead:
            while not lead.lost.is_set():
                work()

    Entering starts the election loop (in Rust, on its own thread, without the GIL) and blocks
    until this process leads (Ctrl-C works); leaving stops leading and releases the Lease, so
    another contender takes over at its next try. Callbacks run on the election's thread with
    the GIL; an exception in one is reported as unraisable. Enter it once.
    """

    def __enter__(self) -> "LeaderElection":
        """Block until leading. Raises TimeoutError when ``timeout`` passes first, Forbidden
        without RBAC on leases (naming the verb and namespace)."""
    def __exit__(self, *args: object) -> bool: ...
    @property
    def is_leader(self) -> bool:
        """Whether this process leads now; false from the renew deadline on, before the Lease
        can expire for the others."""
    @property
    def lost(self) -> Any:
        """A ``threading.Event`` set when leadership ends (lost, or released on exit)."""
    @property
    def identity(self) -> Optional[str]:
        """The identity in the Lease (given, or hostname plus a random suffix once entered)."""
    @property
    def name(self) -> str:
        """The Lease's name."""
    def wait_lost(self, timeout: Optional[float] = None) -> bool:
        """Block until leadership ends or ``timeout`` seconds pass; True if it ended."""
    def run(self, f: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``f(*args, **kwargs)`` in a thread while leading; its result, or its exception.
        Raises Cancelled at once if leadership is lost first (the thread should watch
        ``lost``)."""

@final
class ExecResult:
    """A finished command, like ``subprocess.CompletedProcess``."""

    @property
    def args(self) -> list[str]:
        """The command and its arguments."""
    @property
    def returncode(self) -> int:
        """The exit code (0 for success)."""
    @property
    def stdout(self) -> bytes:
        """Everything the command wrote to stdout."""
    @property
    def stderr(self) -> bytes:
        """Everything the command wrote to stderr."""
    def check_returncode(self) -> None:
        """Raise ``subprocess.CalledProcessError`` if the exit code is not 0."""

@final
class ExecStream:
    """A running exec or attach session over a WebSocket.

    Iterate it from one thread for ``(channel, data)`` pairs (channel 1 stdout, 2 stderr; with
    a tty everything arrives on 1); ``write()``, ``close_stdin()`` and ``resize()`` work from
    any thread, and wait while the server is not taking data (memory stays bounded). The
    iteration ends when the command has exited (``returncode`` is then set); a connection lost
    before the exit status raises TransportError. A context manager: leaving it closes."""

    def __iter__(self) -> "ExecStream": ...
    def __next__(self) -> Tuple[int, bytes]: ...
    def write(self, data: Union[bytes, str]) -> None:
        """Send data to the command's stdin (str as UTF-8)."""
    def close_stdin(self) -> None:
        """Close the command's stdin (it sees end of file). Raises InvalidArgument on a
        server that speaks only v4.channel.k8s.io, which cannot close stdin."""
    def resize(self, width: int, height: int) -> None:
        """Tell the terminal's new size (sessions opened with ``tty=True`` only)."""
    def wait(self) -> int:
        """Read and drop the remaining output; return the exit code."""
    @property
    def returncode(self) -> Optional[int]:
        """The exit code once the session ended, else None."""
    @property
    def protocol(self) -> str:
        """The subprotocol the server chose (``v5.channel.k8s.io`` or ``v4.channel.k8s.io``)."""
    def cancel(self) -> None:
        """Stop the session from any thread (a blocked read raises Cancelled)."""
    def close(self) -> None:
        """Stop and close the session (from any thread; also on leaving ``with``)."""
    def __enter__(self) -> "ExecStream": ...
    def __exit__(self, *args: object) -> bool: ...

@final
class PortForwardSocket:
    """One connection to a Pod's port, used like a socket (the kubelet's WebSocket
    port-forward, one WebSocket per connection). ``sendall``/``send`` from any thread,
    ``recv`` from one at a time; a context manager (leaving it closes)."""

    def sendall(self, data: bytes) -> None:
        """Send all of ``data`` (waits while the Pod is not taking it)."""
    def send(self, data: bytes) -> int:
        """Send ``data``; returns its length (all of it is sent)."""
    def recv(self, bufsize: int) -> bytes:
        """Receive up to ``bufsize`` bytes; ``b""`` once the Pod closed the connection.
        TransportError carries the kubelet's message (nothing listens on the port, ...)."""
    @property
    def port(self) -> int:
        """The Pod's port."""
    def close(self) -> None:
        """Close the connection (any thread; a blocked ``recv`` raises Cancelled)."""
    def __enter__(self) -> "PortForwardSocket": ...
    def __exit__(self, *args: object) -> bool: ...

@final
class PortForwarder:
    """A listener on 127.0.0.1 that forwards each accepted connection to a Pod's port: all
    of them over one SPDY tunnel (one WebSocket, as kubectl) when the API server offers it,
    else one WebSocket each. A context manager: leaving it (or ``close()``) stops it and its
    connections."""

    @property
    def local_port(self) -> int:
        """The local port connections are accepted on."""
    @property
    def address(self) -> Tuple[str, int]:
        """``("127.0.0.1", local_port)``, for ``socket.create_connection``."""
    def close(self) -> None:
        """Stop listening; forwarded connections end. Idempotent."""
    def __enter__(self) -> "PortForwarder": ...
    def __exit__(self, *args: object) -> bool: ...

@final
class Client:
    """A client for the Kubernetes API server. Thread-safe; a context manager.

    With no ``server``, the in-cluster configuration is discovered: KUBERNETES_SERVICE_HOST and
    _PORT, and ``token``, ``ca.crt``, ``namespace`` in the ServiceAccount directory
    (``serviceaccount_dir``, else $INCLUSTER_SERVICEACCOUNT_DIR, else
    /var/run/secrets/kubernetes.io/serviceaccount); outside a pod, the kubeconfig
    (KUBECONFIG, else ~/.kube/config; see ``Client.from_kubeconfig``). The other arguments
    override it.

    Args:
        server: API server URL. For an ``https://`` URL in a pod, the pod's ServiceAccount
            token, CA and namespace are kept unless ``token``/``token_file``,
            ``ca_file``/``ca_pem`` or ``namespace`` override them (as kubectl's ``--server``
            does); with no ServiceAccount token and no token given, ``ConfigError`` (never
            anonymous without a word). ``http://127.0.0.1:8001`` is the anonymous
            ``kubectl proxy`` route.
        token: a fixed bearer token.
        token_file: a token file, re-read when it changes (and once more after a 401).
        ca_file: the CA bundle to trust (PEM); the only roots used.
        ca_pem: the CA bundle as PEM text or bytes.
        namespace: the default namespace (``Client.namespace``).
        serviceaccount_dir: where the ServiceAccount files are.
        connect_timeout: seconds (default 10).
        timeout: seconds for a whole request (default 60); must be > 0.
        max_attempts: tries for 429/503/504 answers with Retry-After (default 10; >= 1).
        rate_limit: ``(qps, burst)`` client-side token bucket (default: none); qps > 0,
            burst >= 1.
        danger_insecure_skip_tls_verify: do not check the server's certificate. Debugging only.

    Raises:
        ConfigError: naming the missing or broken piece.
        InvalidArgument: a bad value (``timeout=0``, ``rate_limit=(0, 0)``, ``token`` with
            ``token_file``, ...).
    """

    def __new__(
        cls,
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
    ) -> "Client": ...
    @staticmethod
    def from_kubeconfig(
        path: Optional[_Path] = None,
        context: Optional[str] = None,
        *,
        namespace: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> "Client":
        """A client from a kubeconfig: the file ``path`` (default: the KUBECONFIG list, merged
        as kubectl merges it, else ~/.kube/config) and ``context`` (default: its
        current-context); ``namespace`` and ``timeout`` (seconds for a request, and for an exec
        plugin to answer) override. Tokens, tokenFile, client certificates, exec credential
        plugins, tls-server-name and proxy-url are supported.

        Raises:
            ConfigError: naming the file, the context or user and the problem (never a token
                or key); also for an auth-provider or basic auth, which are not supported.
        """
    @property
    def source(self) -> dict[str, Any]:
        """Where the settings came from: ``{"type": "in-cluster"}``, ``{"type": "explicit"}``
        or ``{"type": "kubeconfig", "files": [...], "context": "..."}``."""
    @property
    def namespace(self) -> str: ...
    @property
    def server(self) -> str: ...
    def request(
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
        """Any request; the parsed JSON body (None if empty). Non-2xx raises ApiError.

        ``path`` is an API path (starting with ``/``, sent as it is) or a resource by name in
        kubectl's forms: ``pods``, ``po``, ``pod/web-0``, ``deploy/web``,
        ``deployments.apps/web``, ``jobs.batch``, ``deployments.v1.apps``, a CRD's plural,
        singular, short name or kind (case-insensitive), resolved through the server's
        discovery (cached per client, refetched once when a name is not found). A name is in
        ``namespace`` (default: the client's; cluster-scoped resources ignore it), or across
        all namespaces with ``all_namespaces=True``. Both keywords are refused with a path. An
        unknown name raises InvalidArgument listing the close matches (``no resource
        "deploymnet"; did you mean deployments.apps?``), never NotFound, which means a
        missing object. The same holds for every method taking a ``path``.

        ``method`` is GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS in any case; anything
        else raises InvalidArgument before anything is sent. A ``params`` key whose value is
        None is left out.
        """
    def request_raw(
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
        """Any request; the raw Response. Non-2xx raises ApiError."""
    def get(
        self,
        path: str,
        *,
        params: _Params = None,
        namespace: Optional[str] = None,
        all_namespaces: bool = False,
    ) -> Any:
        """GET; the parsed JSON. A body that is not JSON raises DecodeError (a ValueError)
        naming the path and Content-Type; ``request_raw`` reads such bodies."""
    def post(
        self,
        path: str,
        json: Any = None,
        *,
        data: Optional[Union[bytes, str]] = None,
        content_type: Optional[str] = None,
        params: _Params = None,
        namespace: Optional[str] = None,
        all_namespaces: bool = False,
    ) -> Any: ...
    def put(
        self,
        path: str,
        json: Any = None,
        *,
        data: Optional[Union[bytes, str]] = None,
        content_type: Optional[str] = None,
        params: _Params = None,
        namespace: Optional[str] = None,
        all_namespaces: bool = False,
    ) -> Any: ...
    def delete(
        self,
        path: str,
        *,
        json: Any = None,
        params: _Params = None,
        namespace: Optional[str] = None,
        all_namespaces: bool = False,
    ) -> Any: ...
    def patch(
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
        """PATCH. ``field_manager`` is sent for every patch type (``apply`` defaults it to
        "incluster"); ``force`` is only valid with ``apply`` (else InvalidArgument)."""
    def whoami(self) -> dict[str, Any]:
        """username, uid, groups, extra, source and the token's claims (never the token)."""
    def can_i(
        self,
        verb: str,
        resource: str,
        *,
        namespace: Optional[str] = None,
        name: Optional[str] = None,
        subresource: Optional[str] = None,
    ) -> bool:
        """SelfSubjectAccessReview. ``namespace=None`` is the client's; "" is cluster-wide.

        ``verb`` is case-insensitive; one the API does not know warns (UserWarning), as
        kubectl does.
        """
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
        callback: Callable[[WatchEvent], Optional[bool]],
        namespace: Optional[str] = None,
        all_namespaces: bool = False,
    ) -> None:
        """Watch a collection path (no query in it). A path naming one object (``.../pods/web-0``)
        watches that object: its collection with ``fieldSelector=metadata.name=web-0``, as
        ``kubectl get pod web-0 --watch`` does.

        Args:
            label_selector, field_selector: the API's selectors.
            resource_version: start after it (default: the current state first, as ADDED).
            resource_version_match, send_initial_events: the streaming-list options.
            timeout_seconds: per request (default: random 240-360 s); the watch resumes after.
            allow_bookmarks: ask for BOOKMARKs (default on); ``bookmarks=True`` yields them.
            params: extra query parameters (a key whose value is None is left out).
            max_event_bytes: the largest event accepted (default 64 MiB).
            resume: resume after the stream ends or breaks (default on).
            on_gone: "relist" (default) or "error" (raise Gone).
            idle_timeout: seconds without bytes before the connection counts as dead.
            backoff: (first, max) seconds between reconnects (default 0.8, 30).
            callback: called with each event until it returns False or raises (the exception
                propagates unchanged); then ``watch`` returns None.

        Raises:
            ApiError and its subclasses when the watch cannot start (401, 403, 404, ...).
        """
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
        callback: Callable[[Any], Optional[bool]],
    ) -> None:
        """Read a pod's log (every PodLogOptions field).

        With ``follow``, ``resume`` (default: on when following) resumes a stream that ends or
        breaks while the container runs, from the last timestamp, without losing or repeating
        a line; the follow ends when the container terminates. Lines longer than
        ``max_line_bytes`` (1 MiB) are split. Text lines never fail on invalid UTF-8 (U+FFFD).

        Raises:
            NotFound (no such pod), ApiError 400 (wrong container; the message names the pod's
            containers), Forbidden, ...
        """
    def resolve(
        self, what: str, *, namespace: Optional[str] = None, all_namespaces: bool = False
    ) -> dict[str, Any]:
        """Resolve a path or a resource name (the forms ``request`` takes) without sending it.

        Returns a dict: ``path`` (the object's path for ``TYPE/NAME``, else the collection's),
        ``name``, ``namespace`` (None when cluster-scoped or across all namespaces), and the
        resource's ``group``, ``version``, ``resource`` (the plural), ``kind`` and
        ``namespaced``. A path comes back unchanged, with the other keys None, without any
        request.

        Raises:
            InvalidArgument: an unknown or ambiguous name (listing the close matches), a bad
                object name or namespace, a name with ``all_namespaces=True``.
        """
    def apply(
        self,
        manifest: Union[str, Mapping[str, Any], Sequence[Mapping[str, Any]]],
        *,
        field_manager: Optional[str] = None,
        force: bool = False,
        namespace: Optional[str] = None,
    ) -> list[dict[str, Any]]:
        """Server-side apply, as ``kubectl apply --server-side``; the applied objects as the
        server returned them, in order.

        Args:
            manifest: YAML or JSON text (several ``---`` documents; a ``kind: List``'s items
                one by one), one object, or a list of objects. Each object's resource is found
                from its ``apiVersion`` and ``kind`` through discovery (CRDs included).
            field_manager: recorded in managedFields (default "incluster").
            force: take over fields other managers own instead of raising Conflict.
            namespace: for namespaced objects that name none (default: the client's); an
                object naming another namespace raises InvalidArgument.

        Raises:
            InvalidArgument: text that is not YAML/JSON, an object without apiVersion, kind
                or metadata.name (checked for all before the first is sent), an unknown kind;
                naming the document (counted from 1).
            ApiError and its subclasses: the failed object's answer, its message naming the
                document; the objects before it stay applied.
        """
    def wait(
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
        """Wait until an object (an object path) or every object a label selector picks (a
        collection path) meets the conditions, kubectl wait's semantics, on list + watch. A
        resource name works as for ``request`` (``"job/pi"``, ``"pods"`` with a selector), in
        ``namespace`` (default the client's).

        ``for_`` conditions must all hold, one of ``any_`` must hold, a ``fail_on`` one ends the
        wait with Unmeetable: ``"create"``, ``"delete"``, ``"condition=NAME[=STATUS]"``,
        ``"jsonpath={EXPR}[=VALUE]"``. ``timeout`` in seconds (None: no limit; 0: check once).

        Returns the object that met them (a list for a collection path); with
        ``with_conditions=True``, ``(object, [conditions met])`` pairs instead. Raises
        WaitTimeout, Unmeetable, InvalidArgument, ApiError.
        """
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
        """Leader election on the Lease ``name`` (``namespace`` defaults to the client's).
        Durations in seconds, checked as client-go does: lease_duration > renew_deadline >
        1.2 x retry_period > 0 (InvalidArgument naming the bad value). ``identity`` defaults to
        the hostname plus a random suffix; ``timeout`` bounds the wait for leadership.
        ``on_stopped`` gets the reason."""
    def exec(
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
        """Run a command in a container to completion, like ``subprocess.run``.

        Over a WebSocket (``v5.channel.k8s.io``, else v4) with the client's token, CA and
        proxy. ``stdin`` (bytes, str, a binary file object, or None) is fed while the output
        is read, then closed, so ``cat`` ends. The GIL is released; Ctrl-C stops the session.

        Returns:
            ExecResult with ``returncode``, ``stdout`` and ``stderr`` (bytes, kept apart).

        Raises:
            subprocess.CalledProcessError for a non-zero exit, only with ``check=True``;
            Forbidden (since Kubernetes 1.35 exec needs ``create`` on ``pods/exec``),
            NotFound, TimeoutError (``timeout`` seconds ran out), TransportError (the
            connection was lost before the exit status: the command may still run),
            InvalidArgument (a bad name, or stdin on a v4-only server).
        """
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
        """Start a command and return its ``ExecStream`` (write, close_stdin, resize,
        iterate ``(channel, bytes)``, wait)."""
    def attach(
        self,
        pod: str,
        *,
        container: Optional[str] = None,
        namespace: Optional[str] = None,
        stdin: bool = False,
        tty: bool = False,
    ) -> ExecStream:
        """Attach to a container's main process (``create`` on ``pods/attach``)."""
    def port_forward(
        self, pod: str, port: int, *, namespace: Optional[str] = None
    ) -> PortForwardSocket:
        """Connect to ``port`` of ``pod`` (``create`` on ``pods/portforward``)."""
    def port_forward_listen(
        self,
        pod: str,
        port: int,
        *,
        local_port: int = 0,
        namespace: Optional[str] = None,
    ) -> PortForwarder:
        """Listen on 127.0.0.1 (``local_port``; 0 picks a free one) and forward each
        connection to ``port`` of ``pod``."""
    def _aio_wait(
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
    ) -> _AioWait: ...
    def close(self) -> None:
        """Refuse further requests. Watches and log reads already open keep running: each owns
        its connection (close them, or leave their ``with`` blocks, to stop them)."""
    def __enter__(self) -> "Client": ...
    def __exit__(self, *args: object) -> bool: ...
    # Private: incluster.aio's requests (src/py/aio): the arguments as for the method of the
    # same name (post and put are _aio_request with the method), after the loop's completion
    # queue and the future it settles.
    def _aio_request(
        self, ctx: _AioLoop, future: Any, method: str, path: str, *, params: _Params = None,
        json: Any = None, data: Optional[Union[bytes, str]] = None,
        content_type: Optional[str] = None, namespace: Optional[str] = None,
        all_namespaces: bool = False,
    ) -> _AioCall: ...
    def _aio_request_raw(
        self, ctx: _AioLoop, future: Any, method: str, path: str, *, params: _Params = None,
        json: Any = None, data: Optional[Union[bytes, str]] = None,
        content_type: Optional[str] = None, namespace: Optional[str] = None,
        all_namespaces: bool = False,
    ) -> _AioCall: ...
    def _aio_get(
        self, ctx: _AioLoop, future: Any, path: str, *, params: _Params = None,
        namespace: Optional[str] = None, all_namespaces: bool = False,
    ) -> _AioCall: ...
    def _aio_delete(
        self, ctx: _AioLoop, future: Any, path: str, *, json: Any = None,
        params: _Params = None, namespace: Optional[str] = None, all_namespaces: bool = False,
    ) -> _AioCall: ...
    def _aio_patch(
        self, ctx: _AioLoop, future: Any, path: str, json: Any = None, *,
        data: Optional[Union[bytes, str]] = None,
        patch_type: Literal["merge", "json", "strategic", "apply"] = "merge",
        field_manager: Optional[str] = None, force: bool = False, params: _Params = None,
        namespace: Optional[str] = None,
    ) -> _AioCall: ...
    def _aio_whoami(self, ctx: _AioLoop, future: Any) -> _AioCall: ...
    def _aio_can_i(
        self, ctx: _AioLoop, future: Any, verb: str, resource: str, *,
        namespace: Optional[str] = None, name: Optional[str] = None,
        subresource: Optional[str] = None,
    ) -> _AioCall: ...

# Private: the worker pool behind incluster.aio (src/py/aio).
@final
class _AioLoop:
    def __init__(self) -> None: ...
    @property
    def fd(self) -> int: ...
    @property
    def pending(self) -> int: ...
    @property
    def queued(self) -> int: ...
    def drain(self, max: int = ...) -> int: ...

@final
class _AioCall:
    def cancel(self) -> None: ...
    @property
    def cancelled(self) -> bool: ...

def _aio_submit(
    event_loop: Any,
    future: Any,
    settle: Callable[[Any, bool, Any], None],
    method: Callable[..., Any],
    args: Tuple[Any, ...],
    kwargs: Optional[Mapping[str, Any]] = None,
) -> _AioCall: ...
def _aio_spawn(
    event_loop: Any,
    future: Any,
    settle: Callable[[Any, bool, Any], None],
    method: Callable[..., Any],
    args: Tuple[Any, ...],
    kwargs: Optional[Mapping[str, Any]] = None,
) -> _AioCall: ...
def _aio_long() -> int: ...
def _aio_quiesce(timeout: float = 1.0) -> None: ...
def _aio_busy() -> int: ...

# Private: incluster.aio.Client.wait steps the core's wait machine with these (src/py/wait.rs).
@final
class _AioWait:
    def _list(self) -> Tuple[bool, Any]: ...
    def _watch(self) -> Watch: ...
    def _feed(self, event: WatchEvent) -> Tuple[bool, Any]: ...
    def _timed_out(self) -> BaseException: ...
    def _ended(self) -> BaseException: ...
def _aio_threads() -> int: ...

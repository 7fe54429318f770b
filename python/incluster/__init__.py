"""incluster: talk to the Kubernetes API server from inside a pod.

    import incluster

    kube = incluster.Client()                      # the pod's ServiceAccount, discovered
    pods = kube.get(f"/api/v1/namespaces/{kube.namespace}/pods")
    for p in pods["items"]:
        print(p["metadata"]["name"])

Responses are parsed in Rust into dicts and lists. The GIL is released during network I/O,
and a Client can be shared between threads. Errors are subclasses of ``incluster.Error``.
"""

from ._errors import (
    AlreadyExists,
    ApiError,
    Cancelled,
    ConfigError,
    Conflict,
    DecodeError,
    Error,
    Forbidden,
    Gone,
    InvalidArgument,
    NotFound,
    TimeoutError,
    TlsError,
    TooManyRequests,
    TransportError,
    Unauthorized,
    Unmeetable,
    WaitTimeout,
)
from ._native import (
    Client,
    ExecResult,
    ExecStream,
    LeaderElection,
    Logs,
    PortForwarder,
    PortForwardSocket,
    Response,
    Watch,
    WatchEvent,
    __version__,
)

__all__ = [
    "AlreadyExists",
    "ApiError",
    "Cancelled",
    "Client",
    "ConfigError",
    "Conflict",
    "DecodeError",
    "Error",
    "ExecResult",
    "ExecStream",
    "Forbidden",
    "Gone",
    "InvalidArgument",
    "LeaderElection",
    "Logs",
    "PortForwardSocket",
    "PortForwarder",
    "NotFound",
    "Response",
    "TimeoutError",
    "TlsError",
    "TooManyRequests",
    "TransportError",
    "Unauthorized",
    "Unmeetable",
    "WaitTimeout",
    "Watch",
    "WatchEvent",
    "__version__",
]

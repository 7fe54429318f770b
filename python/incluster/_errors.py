"""The exceptions incluster raises. One base, a shallow tree.

    Error
    ├── InvalidArgument (also a ValueError)  bad path, closed client, ...
    ├── ConfigError                          not in a pod, missing/broken ServiceAccount files
    ├── TransportError                       connection refused/reset, DNS, proxy
    │   ├── TlsError                         certificate not signed by ca.crt, wrong name, ...
    │   └── TimeoutError (also the builtin TimeoutError)
    ├── DecodeError (also a ValueError)      a body that is not the JSON it should be
    ├── Cancelled                            a stream or request stopped by its cancel handle
    ├── WaitTimeout (also the builtin TimeoutError)  Client.wait ran out of time
    ├── Unmeetable                           Client.wait's condition can no longer be met
    └── ApiError(status, reason, message, details, body)   any non-2xx answer
        ├── Unauthorized (401)   ├── Forbidden (403)   ├── NotFound (404)
        ├── Conflict (409)
        │   └── AlreadyExists (409 with the reason AlreadyExists)
        ├── Gone (410)           └── TooManyRequests (429)

Messages never contain the bearer token.
"""

# `typing` is not imported (it would triple the import time of the package): with postponed
# annotations the hints below are never evaluated, and builtins spell everything they need.
from __future__ import annotations

import builtins


class Error(Exception):
    """Base class of every incluster error."""


class InvalidArgument(Error, ValueError):
    """A bad argument: a path without a leading '/', a bad method, a closed client."""


class ConfigError(Error):
    """The configuration is missing or broken; the message names the piece."""


class TransportError(Error):
    """The connection failed or broke before a complete answer arrived."""


class TlsError(TransportError):
    """TLS failed: the server's certificate is not signed by the CA, has the wrong name, ..."""


class TimeoutError(TransportError, builtins.TimeoutError):  # noqa: A001 - deliberate
    """A connect or request timed out."""


class DecodeError(Error, ValueError):
    """A body could not be decoded."""


class Cancelled(Error):
    """The operation was cancelled."""


class WaitTimeout(Error, builtins.TimeoutError):
    """``Client.wait`` ran out of time before the condition was met (CLI exit code 7)."""


class Unmeetable(Error):
    """``Client.wait``'s condition can no longer be met: the object was deleted while waiting,
    or a failure condition (``fail_on=``) was met (CLI exit code 8)."""


class ApiError(Error):
    """The server answered with a non-2xx status.

    Attributes:
        status: the HTTP status code.
        reason: the Kubernetes Status reason ("NotFound", "Forbidden", "AlreadyExists", ...).
        message: the Status message (``str(err)`` adds the request and status).
        details: the Status ``details`` dict (name, kind, causes, retryAfterSeconds) or None.
        body: the raw response body.
    """

    status: int
    reason: str
    message: str
    details: dict[str, object] | None
    body: bytes

    def __init__(
        self,
        text: str,
        status: int = 0,
        reason: str = "",
        message: str = "",
        details: dict[str, object] | None = None,
        body: bytes = b"",
    ) -> None:
        super().__init__(text)
        self.status = status
        self.reason = reason
        self.message = message
        self.details = details
        self.body = body

    def __reduce__(self) -> tuple[object, ...]:
        return (
            type(self),
            (str(self), self.status, self.reason, self.message, self.details, self.body),
        )


class Unauthorized(ApiError):
    """HTTP 401: the token was missing, invalid or expired (after one re-read and retry)."""


class Forbidden(ApiError):
    """HTTP 403: RBAC does not allow this."""


class NotFound(ApiError):
    """HTTP 404."""


class Conflict(ApiError):
    """HTTP 409: already exists, or a resourceVersion conflict."""


class AlreadyExists(Conflict):
    """HTTP 409 with the reason AlreadyExists: a create of a name that is taken.

    A subclass of Conflict, so ``except Conflict`` still catches it.
    """


class Gone(ApiError):
    """HTTP 410: the resourceVersion is too old."""


class TooManyRequests(ApiError):
    """HTTP 429, after the retries that Retry-After allowed."""

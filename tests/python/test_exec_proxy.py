"""exec and port-forward from Python through an HTTP CONNECT proxy (HTTPS_PROXY), with a small
proxy here that records what it saw: where the client asked to go, and the bytes it relayed."""

from __future__ import annotations

import socket
import threading
from types import TracebackType
from typing import Optional

import pytest

import incluster
from conftest import TOKEN, Server, explicit
from test_exec import _echo_server


class ConnectProxy:
    """A loopback CONNECT proxy: tunnels (``refuse=None``) or answers ``refuse`` and closes."""

    def __init__(self, refuse: Optional[int] = None) -> None:
        self.refuse = refuse
        self.heads: list[bytes] = []
        self.upstream = bytearray()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._serve, daemon=True)
        self._accept.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # closed
            t = threading.Thread(target=self._tunnel, args=(conn,), daemon=True)
            self._threads.append(t)
            t.start()

    def _tunnel(self, conn: socket.socket) -> None:
        with conn:
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                b = conn.recv(1)
                if not b:
                    return
                head += b
            with self._lock:
                self.heads.append(head)
            if self.refuse is not None:
                conn.sendall(b"HTTP/1.1 %d Refused\r\nContent-Length: 0\r\n\r\n" % self.refuse)
                return
            host, port = head.split()[1].decode().rsplit(":", 1)
            with socket.create_connection((host, int(port))) as up:
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                down = threading.Thread(target=self._copy, args=(up, conn, False), daemon=True)
                down.start()
                self._copy(conn, up, True)
                down.join(timeout=30)

    def _copy(self, src: socket.socket, dst: socket.socket, record: bool) -> None:
        try:
            while chunk := src.recv(65536):
                if record:
                    with self._lock:
                        self.upstream += chunk
                dst.sendall(chunk)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def __enter__(self) -> "ConnectProxy":
        return self

    def __exit__(self, t: Optional[type[BaseException]], e: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self._listener.close()
        self._accept.join(timeout=5)
        for th in self._threads:
            th.join(timeout=5)


@pytest.fixture(autouse=True)
def no_proxy_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_exec_and_port_forward_go_through_the_proxy(server: Server,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    target = f"127.0.0.1:{server.port}".encode()
    with ConnectProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        kube = explicit(server)
        r = kube.exec("web", ["cat"], stdin=b"py-secret-stdin")
        assert r.returncode == 0 and r.stdout == b"py-secret-stdin"
        connect = b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, target)
        assert proxy.heads == [connect]
        port = _echo_server()
        with kube.port_forward("web", port) as s:
            s.sendall(b"forwarded")
            assert s.recv(100) == b"forwarded"
        assert proxy.heads == [connect, connect]
        # TLS from end to end: the proxy relayed only records it cannot read.
        for secret in (TOKEN.encode(), b"py-secret-stdin", b"forwarded", b"Upgrade"):
            assert secret not in proxy.upstream
        # NO_PROXY naming the server: the proxy is not asked again.
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        assert explicit(server).exec("web", ["true"]).returncode == 0
        assert len(proxy.heads) == 2


@pytest.mark.parametrize("code", [403, 407])
def test_a_refusing_proxy_is_a_transport_error_naming_it(server: Server,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        code: int) -> None:
    with ConnectProxy(refuse=code) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        kube = explicit(server)
        with pytest.raises(incluster.TransportError) as e:
            kube.exec("web", ["true"])
        msg = str(e.value)
        assert f"proxy 127.0.0.1:{proxy.port} refused the tunnel (CONNECT)" in msg
        assert f"HTTP/1.1 {code}" in msg
        assert TOKEN not in msg

"""Fixtures: the project's loopback HTTPS test API server and a simulated pod.

The server binary is the `testserver` binary of the testserver/ package (built by `cargo
build` at the top); its path comes from $INCLUSTER_TESTSERVER, else
$CARGO_TARGET_DIR/debug/testserver, else target/debug/testserver.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import shutil
import ssl
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "tok-py-SECRET-3b7e91"


def server_binary() -> Path:
    if "INCLUSTER_TESTSERVER" in os.environ:
        return Path(os.environ["INCLUSTER_TESTSERVER"])
    target = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
    path = target / "debug" / "testserver"
    if not path.exists():
        pytest.fail(f"{path} is missing: run `cargo build` at the top (tests/run.sh does)")
    return path


class Server:
    def __init__(self, tmp: Path, *args: str) -> None:
        self.dir = tmp
        self.proc = subprocess.Popen(
            [str(server_binary()), "--dir", str(tmp), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        if not line.startswith("READY "):
            self.proc.kill()
            raise RuntimeError(f"test server did not start: {line!r}")
        info = json.loads(line[len("READY ") :])
        self.url: str = info["url"]
        self.port: int = info["port"]
        self.ca = tmp / "ca.crt"
        self.other_ca = tmp / "other-ca.crt"
        self.plain = self.url.startswith("http://")

    def control(self, method: str, path: str, body: Any = None) -> Any:
        if self.plain:
            conn: http.client.HTTPConnection = http.client.HTTPConnection("127.0.0.1", self.port)
        else:
            ctx = ssl.create_default_context(cafile=str(self.ca))
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx)
        data = None if body is None else json.dumps(body).encode()
        try:
            conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            out = resp.read()
        finally:
            conn.close()
        assert 200 <= resp.status < 300, (resp.status, out)
        return json.loads(out) if out else None

    def set_tokens(self, tokens: list[str]) -> None:
        self.control("PUT", "/_control/tokens", tokens)

    def requests(self) -> list[dict[str, Any]]:
        return self.control("GET", "/_control/requests")  # type: ignore[no-any-return]

    def clear_requests(self) -> None:
        self.control("DELETE", "/_control/requests")

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        assert self.proc.stdout is not None
        self.proc.stdout.close()


class SaDir:
    """A ServiceAccount directory laid out as the kubelet does it (..data symlink swaps)."""

    _n = itertools.count()

    def __init__(self, path: Path, token: str, ca: Path, namespace: str) -> None:
        self.path = path
        path.mkdir(parents=True)
        self.ca = ca
        self.namespace = namespace
        self._write(token)
        for f in ("token", "ca.crt", "namespace"):
            os.symlink(f"..data/{f}", path / f)

    def _write(self, token: str) -> None:
        ts = f"..{time.strftime('%Y_%m_%d_%H_%M_%S')}.{next(self._n)}"
        d = self.path / ts
        d.mkdir()
        (d / "token").write_text(token)
        shutil.copy(self.ca, d / "ca.crt")
        (d / "namespace").write_text(self.namespace)
        data = self.path / "..data"
        old = os.readlink(data) if data.is_symlink() else None
        tmp = self.path / "..data_tmp"
        os.symlink(ts, tmp)
        os.rename(tmp, data)  # atomic swap, as the kubelet's AtomicWriter
        if old:
            shutil.rmtree(self.path / old)

    def rotate(self, token: str) -> None:
        self._write(token)


@pytest.fixture(autouse=True)
def no_kubeconfig(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hermetic: outside the simulated pod, discovery never finds the machine's kubeconfig."""
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.delenv("KUBECONFIG", raising=False)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    s = Server(tmp_path / "server", "--token", TOKEN)
    yield s
    s.stop()


@pytest.fixture
def plain_server(tmp_path: Path) -> Iterator[Server]:
    s = Server(tmp_path / "plain", "--plain")
    yield s
    s.stop()


@pytest.fixture
def pod(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SaDir:
    """A simulated pod: the env vars and ServiceAccount files of a real one."""
    sa = SaDir(tmp_path / "sa", TOKEN, server.ca, "py-ns")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(server.port))
    monkeypatch.setenv("INCLUSTER_SERVICEACCOUNT_DIR", str(sa.path))
    monkeypatch.delenv("POD_NAMESPACE", raising=False)
    return sa


def explicit(server: Server, token: Optional[str] = TOKEN, **kw: Any) -> Any:
    import incluster

    return incluster.Client(server=server.url, ca_file=str(server.ca), token=token, **kw)

"""exec, attach and port-forward through the real kube-apiserver.

The API server translates the client's v5 WebSocket into SPDY toward the kubelet for exec and
attach, and passes the port-forward WebSocket through. A second Node, ``exec-node``, points at
a fake kubelet built on the kubelet's own streaming server (``k8s.io/cri-streaming``; built by
``tests/e2e/build_kubelet.sh`` and cached), whose runtime really runs the command in a scratch
folder and connects port-forwards to 127.0.0.1 (where these tests run the "pod"'s servers).
The ServiceAccount gets ``create`` on pods/exec, pods/attach and pods/portforward (what a
WebSocket needs since Kubernetes 1.35) through a Role of its own.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import pytest

import incluster
from cluster import HERE, NAMESPACE, ROOT, SERVICE_ACCOUNT, ApiError, Cluster
from conftest import TARGET, run

NODE = "exec-node"
POD = "exec-pod"
MB = 1024 * 1024


def _build_kubelet() -> Path:
    out = subprocess.run(["bash", str(HERE / "build_kubelet.sh")], check=True,
                         stdout=subprocess.PIPE, text=True)
    return Path(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def exec_pod(cluster: Cluster) -> Iterator[str]:
    """A pod on a fake kubelet of this module's own. Its Node, Role, RoleBinding and Pod are
    kept when another module (test_aio.py) made them first in the session; the Node is then
    pointed at this module's kubelet."""
    binary = _build_kubelet()
    proc = subprocess.Popen([str(binary)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        line = proc.stdout.readline().decode()
        assert line.startswith("READY "), line
        port = json.loads(line[len("READY "):])["port"]
        status = {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                  "daemonEndpoints": {"kubeletEndpoint": {"Port": port}}}
        try:
            cluster.admin("POST", "/api/v1/nodes", {"metadata": {"name": NODE},
                                                    "status": status})
        except ApiError as e:
            assert e.status == 409, e
            node = cluster.admin("GET", f"/api/v1/nodes/{NODE}")
            node["status"] = status
            cluster.admin("PUT", f"/api/v1/nodes/{NODE}/status", node)
        rbac = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{NAMESPACE}"
        for path, body in (
            (f"{rbac}/roles", {
                "metadata": {"name": "exec"},
                "rules": [{"apiGroups": [""],
                           "resources": ["pods/exec", "pods/attach", "pods/portforward"],
                           "verbs": ["create", "get"]}]}),
            (f"{rbac}/rolebindings", {
                "metadata": {"name": "exec"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                            "name": "exec"},
                "subjects": [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT,
                              "namespace": NAMESPACE}]}),
            (f"/api/v1/namespaces/{NAMESPACE}/pods", {
                "metadata": {"name": POD},
                "spec": {"nodeName": NODE, "serviceAccountName": SERVICE_ACCOUNT,
                         "containers": [{"name": "main", "image": "example/app:1",
                                         "stdin": True}]}}),
        ):
            try:
                cluster.admin("POST", path, body)
            except ApiError as e:
                assert e.status == 409, e
        yield POD
    finally:
        proc.stdin.close()
        proc.stdout.close()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def http_port() -> Iterator[int]:
    """An HTTP server in the "pod": /bytes/N answers N bytes, anything else a short text."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            if self.path.startswith("/bytes/"):
                n = int(self.path.split("/")[2])
                self.send_response(200)
                self.send_header("Content-Length", str(n))
                self.end_headers()
                block = b"x" * 65536
                while n > 0:
                    k = min(n, len(block))
                    self.wfile.write(block[:k])
                    n -= k
            else:
                body = b"hello " + self.path.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def test_exit_code_and_streams_apart_from_python_cli_and_c(exec_pod: str, cli: Path,
                                                          tmp_path: Path) -> None:
    kube = incluster.Client()
    r = kube.exec(exec_pod, ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (r.returncode, r.stdout, r.stderr) == (3, b"out\n", b"err\n")
    o = run([cli, "exec", exec_pod, "--", "sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (o.returncode, o.stdout, o.stderr) == (3, "out\n", "err\n")
    prog = tmp_path / "exec"
    subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", f"-I{ROOT / 'include'}",
                    str(HERE / "c" / "exec.c"), f"-L{TARGET}", f"-Wl,-rpath,{TARGET}",
                    "-lincluster", "-o", str(prog)], check=True)
    o = run([prog, exec_pod])
    assert o.returncode == 0, o.stderr
    assert o.stdout == "exit=3 stdout=[out\n] stderr=[err\n]\n"


def test_stdin_closed_so_cat_ends_with_every_byte(exec_pod: str, cli: Path) -> None:
    data = bytes(range(256)) * 4096
    r = incluster.Client().exec(exec_pod, ["cat"], stdin=data)
    assert r.returncode == 0 and r.stdout == data
    o = subprocess.run([str(cli), "exec", "-i", exec_pod, "--", "cat"], input=data,
                       capture_output=True, timeout=120)
    assert o.returncode == 0 and o.stdout == data


def test_100_mb_through_cat_without_loss_in_bounded_memory(exec_pod: str, cli: Path) -> None:
    size = 100 * MB
    feed = subprocess.Popen(["head", "-c", str(size), "/dev/zero"], stdout=subprocess.PIPE)
    p = subprocess.Popen([str(cli), "exec", "-i", exec_pod, "--", "cat"], stdin=feed.stdout,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert feed.stdout is not None and p.stdout is not None and p.stderr is not None
    feed.stdout.close()
    total = 0
    zeros = True
    while chunk := p.stdout.read(MB):
        total += len(chunk)
        zeros = zeros and not chunk.strip(b"\0")
    err = p.stderr.read()
    p.stdout.close()
    p.stderr.close()
    # wait4 gives this child's own resource use; getrusage(RUSAGE_CHILDREN) would be the
    # largest of every process this session waited for (a cold `go build` of the fake
    # kubelet included).
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    assert p.returncode == 0, err
    feed.wait(timeout=60)
    assert total == size and zeros
    # ru_maxrss is in KiB: the CLI held a small window of the stream, never the 100 MB.
    peak = usage.ru_maxrss
    assert peak < 64 * 1024, f"peak RSS {peak} KiB"


def test_tty_with_resize(exec_pod: str) -> None:
    kube = incluster.Client()
    with kube.exec_stream(exec_pod, ["sh", "-c", "sleep 1; echo done"], stdin=True,
                          tty=True) as s:
        s.resize(120, 40)
        out = b"".join(d for _, d in s)
        assert s.returncode == 0
    assert b"resize 120x40" in out
    assert b"done" in out


def test_a_command_outliving_a_dropped_connection_is_reported(exec_pod: str,
                                                               cluster: Cluster) -> None:
    kube = incluster.Client()
    s = kube.exec_stream(exec_pod, ["sh", "-c", "echo started; sleep 60"])
    assert next(iter(s)) == (1, b"started\n")
    cluster.restart_apiserver()
    with pytest.raises(incluster.TransportError, match="may still be running"):
        for _ in s:
            pass


def test_attach(exec_pod: str) -> None:
    with incluster.Client().attach(exec_pod, container="main") as s:
        out = b"".join(d for _, d in s)
        assert s.returncode == 0
    assert out == b"attached to exec-pod/main\n"


def test_port_forward_1000_requests_and_100_mb(exec_pod: str, http_port: int,
                                               cli: Path) -> None:
    kube = incluster.Client()
    with kube.port_forward_listen(exec_pod, http_port) as f:
        base = f"http://127.0.0.1:{f.local_port}"
        for i in range(1000):
            with urllib.request.urlopen(f"{base}/r{i}", timeout=30) as r:
                assert r.read() == f"hello /r{i}".encode()
        with urllib.request.urlopen(f"{base}/bytes/{100 * MB}", timeout=600) as r:
            total = 0
            while chunk := r.read(MB):
                total += len(chunk)
        assert total == 100 * MB
    # The socket-like form.
    with kube.port_forward(exec_pod, http_port) as s:
        s.sendall(b"GET /direct HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
        assert answer.endswith(b"hello /direct")
    # The CLI.
    p = subprocess.Popen([str(cli), "port-forward", exec_pod, f":{http_port}"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert p.stdout is not None
        line = p.stdout.readline()
        addr = line.removeprefix("Forwarding from ").split(" -> ")[0]
        host, port = addr.rsplit(":", 1)
        for i in range(5):
            with urllib.request.urlopen(f"http://{host}:{port}/cli{i}", timeout=30) as r:
                assert r.read() == f"hello /cli{i}".encode()
    finally:
        p.kill()
        p.communicate()


def test_a_closed_port_and_missing_rbac_are_named(exec_pod: str, cluster: Cluster) -> None:
    kube = incluster.Client()
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    with kube.port_forward(exec_pod, port) as s:
        with pytest.raises(incluster.TransportError, match=str(port)):
            s.recv(10)
    # Without the Role: 403 naming the verb and subresource.
    rb = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{NAMESPACE}/rolebindings/exec"
    saved = cluster.admin("GET", rb)
    cluster.admin("DELETE", rb)
    try:
        with pytest.raises(incluster.Forbidden, match="`create` on `pods/exec`"):
            kube.exec(exec_pod, ["true"])
    finally:
        saved["metadata"] = {"name": "exec"}
        cluster.admin("POST", rb.rsplit("/", 1)[0], saved)


def _tunnels(cluster: Cluster) -> float:
    """SPDY tunnels the API server has upgraded (``apiserver_stream_tunnel_requests_total``,
    code 101): one per port-forward session, however many connections it carries."""
    text = cluster.admin("GET", "/metrics", raw=True).decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith("apiserver_stream_tunnel_requests_total{") and 'code="101"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def _traffic(base: str) -> None:
    """1,000 requests a new connection each, 200 more 32 at a time, and a 100 MB download."""
    for i in range(1000):
        with urllib.request.urlopen(f"{base}/r{i}", timeout=30) as r:
            assert r.read() == f"hello /r{i}".encode()

    def one(i: int) -> bytes:
        with urllib.request.urlopen(f"{base}/c{i}", timeout=60) as r:
            return bytes(r.read())

    with ThreadPoolExecutor(32) as pool:
        got = list(pool.map(one, range(200)))
    assert got == [f"hello /c{i}".encode() for i in range(200)]
    with urllib.request.urlopen(f"{base}/bytes/{100 * MB}", timeout=600) as r:
        total = 0
        while chunk := r.read(MB):
            assert chunk == b"x" * len(chunk)
            total += len(chunk)
    assert total == 100 * MB


def _lines(p: "subprocess.Popen[str]", n: int) -> list[str]:
    assert p.stdout is not None
    return [p.stdout.readline().strip() for _ in range(n)]


def test_port_forward_over_one_spdy_tunnel_from_cli_python_and_c(
        exec_pod: str, http_port: int, cli: Path, cluster: Cluster, tmp_path: Path) -> None:
    # The CLI: one tunnel for every connection, said on stderr.
    before = _tunnels(cluster)
    err = tmp_path / "cli.err"
    with open(err, "w") as errf:
        p = subprocess.Popen([str(cli), "port-forward", exec_pod, f":{http_port}"],
                             stdout=subprocess.PIPE, stderr=errf, text=True)
        try:
            addr = _lines(p, 1)[0].removeprefix("Forwarding from ").split(" -> ")[0]
            _traffic(f"http://{addr}")
        finally:
            p.kill()
            p.communicate()
    assert "one SPDY/3.1 tunnel" in err.read_text()
    assert _tunnels(cluster) - before == 1
    # Python.
    before = _tunnels(cluster)
    with incluster.Client().port_forward_listen(exec_pod, http_port) as f:
        _traffic(f"http://127.0.0.1:{f.local_port}")
    assert _tunnels(cluster) - before == 1
    # C.
    prog = tmp_path / "forward"
    subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", f"-I{ROOT / 'include'}",
                    str(HERE / "c" / "forward.c"), f"-L{TARGET}", f"-Wl,-rpath,{TARGET}",
                    "-lincluster", "-o", str(prog)], check=True)
    before = _tunnels(cluster)
    c = subprocess.Popen([str(prog), exec_pod, str(http_port)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    try:
        port = _lines(c, 1)[0].removeprefix("port=")
        _traffic(f"http://127.0.0.1:{port}")
    finally:
        assert c.stdin is not None
        c.stdin.close()
        assert c.wait(timeout=30) == 0
        assert c.stdout is not None
        c.stdout.close()
    assert _tunnels(cluster) - before == 1


def test_a_refused_pod_port_ends_only_its_connection_on_the_tunnel(
        exec_pod: str, http_port: int, cli: Path, cluster: Cluster, tmp_path: Path) -> None:
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    closed_port = free.getsockname()[1]
    free.close()
    before = _tunnels(cluster)
    err = tmp_path / "cli.err"
    with open(err, "w") as errf:
        # Two ports of one session share the tunnel: one refused, one served.
        p = subprocess.Popen([str(cli), "port-forward", exec_pod, f":{closed_port}",
                              f":{http_port}"], stdout=subprocess.PIPE, stderr=errf, text=True)
        try:
            bad, good = (line.removeprefix("Forwarding from ").split(" -> ")[0]
                         for line in _lines(p, 2))
            base = f"http://{good}"
            # A connection held open across the refusal keeps working.
            held = socket.create_connection(tuple(good.rsplit(":", 1)))  # type: ignore[arg-type]
            with held:
                for _ in range(3):
                    host, port = bad.rsplit(":", 1)
                    with socket.create_connection((host, int(port)), timeout=30) as s:
                        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                        try:
                            assert s.recv(100) == b""
                        except ConnectionResetError:
                            pass
                    with urllib.request.urlopen(f"{base}/after", timeout=30) as r:
                        assert r.read() == b"hello /after"
                held.sendall(b"GET /held HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                answer = b""
                while chunk := held.recv(65536):
                    answer += chunk
                assert answer.endswith(b"hello /held")
            # Each refused connection is reported on its own, once.
            deadline = time.monotonic() + 10
            while (err.read_text().count(f"error forwarding port {closed_port}") < 3
                   and time.monotonic() < deadline):
                time.sleep(0.1)
        finally:
            p.kill()
            p.communicate()
    text = err.read_text()
    assert text.count(f"error forwarding port {closed_port}") == 3, text
    assert _tunnels(cluster) - before == 1

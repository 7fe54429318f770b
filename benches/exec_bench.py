"""exec and port-forward through the real kube-apiserver: incluster next to kubectl.

The control plane of the end-to-end tests (etcd + kube-apiserver, tests/e2e/cluster.py) with
the fake kubelet of tests/e2e/test_exec.py (the kubelet's own streaming server, which really
runs the command): both clients go through the same API server, which translates WebSocket
exec into SPDY toward the kubelet.

- ``exec POD -- true`` as a whole process (start, TLS, upgrade, run, exit status), median of
  ROUNDS runs, incluster CLI vs ``kubectl exec``;
- 100 MB through ``exec -i POD -- cat`` (incluster CLI, and kubectl) next to 100 MB of log
  lines followed through the same API server (``incluster logs``), MB/s;
- port-forward to an HTTP server in the "pod": 1,000 small requests (a new connection each)
  and one 100 MB download, through ``incluster port-forward`` and ``kubectl port-forward``.

    python benches/exec_bench.py --kubectl PATH [--out DIR] [--only port-forward]

``--only port-forward`` runs the port-forward rows alone (they take a minute, the rest
several).

The results go to OUT/exec.json (and the table to stdout).
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from cluster import CACHE, NAMESPACE, SERVICE_ACCOUNT, Cluster  # noqa: E402

MB = 1024 * 1024
ROUNDS = 15
NODE = "exec-node"
POD = "exec-pod"
LOG_POD = "bench-log"


def build_kubelet() -> Path:
    out = subprocess.run(["bash", str(ROOT / "tests" / "e2e" / "build_kubelet.sh")],
                         check=True, stdout=subprocess.PIPE, text=True)
    return Path(out.stdout.strip().splitlines()[-1])


def setup(c: Cluster, port: int) -> None:
    c.admin("POST", "/api/v1/nodes", {
        "metadata": {"name": NODE},
        "status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                   "daemonEndpoints": {"kubeletEndpoint": {"Port": port}}},
    })
    rbac = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{NAMESPACE}"
    c.admin("POST", f"{rbac}/roles", {
        "metadata": {"name": "exec"},
        "rules": [{"apiGroups": [""],
                   "resources": ["pods/exec", "pods/attach", "pods/portforward", "pods"],
                   "verbs": ["create", "get", "list"]}],
    })
    c.admin("POST", f"{rbac}/rolebindings", {
        "metadata": {"name": "exec"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "exec"},
        "subjects": [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": NAMESPACE}],
    })
    c.admin("POST", f"/api/v1/namespaces/{NAMESPACE}/pods", {
        "metadata": {"name": POD},
        "spec": {"nodeName": NODE, "serviceAccountName": SERVICE_ACCOUNT,
                 "containers": [{"name": "main", "image": "example/app:1"}]},
    })
    # kubectl port-forward refuses a Pod that is not Running.
    c.set_container_states(POD, {"main": "running"})
    c.create_pod(LOG_POD, ["main"])


def kubeconfig(c: Cluster, path: Path) -> None:
    token = (c.sa_dir / "token").read_text().strip()
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "e2e",
        "clusters": [{"name": "e2e", "cluster": {
            "server": c.server, "certificate-authority": str(c.sa_dir / "ca.crt")}}],
        "users": [{"name": "app", "user": {"token": token}}],
        "contexts": [{"name": "e2e", "context": {
            "cluster": "e2e", "user": "app", "namespace": NAMESPACE}}],
    }))


def median_seconds(cmd: list[str], env: dict[str, str]) -> float:
    times = []
    for _ in range(ROUNDS):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def pipe_rate(shell: str, env: dict[str, str], size: int, exact: bool = True) -> float:
    """MB/s of a pipeline ending in ``wc -c``; at least ``size`` bytes (exactly, if asked)."""
    t = time.perf_counter()
    out = subprocess.run(["bash", "-c", shell], env=env, check=True, capture_output=True,
                         text=True)
    dt = time.perf_counter() - t
    got = int(out.stdout)
    assert got == size if exact else got >= size, out
    return got / MB / dt


def http_server() -> int:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            n = int(self.path.split("/")[2]) if self.path.startswith("/bytes/") else 2
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.end_headers()
            block = b"x" * 65536
            while n > 0:
                k = min(n, len(block))
                self.wfile.write(block[:k])
                n -= k

        def log_message(self, *args: Any) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port: int = srv.server_address[1]
    return port


def forward(cmd: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    assert p.stdout is not None and p.stderr is not None
    line = p.stdout.readline()  # "Forwarding from 127.0.0.1:N -> R" (both tools)
    if " -> " not in line:
        p.kill()
        raise RuntimeError(f"{cmd[0]} port-forward did not start: {p.stderr.read()}")
    return p, int(line.split(" -> ")[0].rsplit(":", 1)[1])


def forward_figures(local: int) -> dict[str, float]:
    base = f"http://127.0.0.1:{local}"
    t = time.perf_counter()
    for _ in range(1000):
        with urllib.request.urlopen(f"{base}/r", timeout=60) as r:
            r.read()
    rps = 1000 / (time.perf_counter() - t)
    t = time.perf_counter()
    with urllib.request.urlopen(f"{base}/bytes/{100 * MB}", timeout=600) as r:
        total = 0
        while chunk := r.read(MB):
            total += len(chunk)
    assert total == 100 * MB
    return {"requests_per_s": rps, "download_MB_s": 100 / (time.perf_counter() - t)}


def exec_rows(res: dict[str, Any], c: Cluster, cli: str, kubectl: str,
              env: dict[str, str]) -> None:
    res["exec_true_s"] = {
        "incluster": median_seconds([cli, "exec", POD, "--", "true"], env),
        "kubectl": median_seconds([kubectl, "exec", POD, "--", "true"], env),
    }
    size = 100 * MB
    c.kubelet("POST", "/_control/logs/generate", {
        "namespace": NAMESPACE, "pod": LOG_POD, "container": "main",
        "count": size // 99 + 1, "size": 99})
    res["stream_MB_s"] = {
        "exec_cat": pipe_rate(f"head -c {size} /dev/zero | {cli} exec -i {POD} -- cat | wc -c",
                              env, size),
        "kubectl_exec_cat": pipe_rate(
            f"head -c {size} /dev/zero | {kubectl} exec -i {POD} -- cat | wc -c", env, size),
        "log_follow": pipe_rate(f"{cli} logs {LOG_POD} | wc -c", env, size, exact=False),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kubectl", required=True)
    ap.add_argument("--cli", default=str(Path(os.environ.get("CARGO_TARGET_DIR", CACHE / "target"))
                                         / "release" / "incluster"))
    ap.add_argument("--out", default=str(CACHE / "bench-results"))
    ap.add_argument("--only", choices=["port-forward"])
    a = ap.parse_args()
    res: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="incluster-exec-bench-") as tmp, Cluster(Path(tmp)) as c:
        kubelet = subprocess.Popen([str(build_kubelet())], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert kubelet.stdout is not None
        port = json.loads(kubelet.stdout.readline().decode().split(" ", 1)[1])["port"]
        setup(c, port)
        kc = Path(tmp) / "kubeconfig"
        kubeconfig(c, kc)
        env = dict(os.environ, **c.env(), KUBECONFIG=str(kc))
        cli, kubectl = a.cli, a.kubectl

        if a.only is None:
            exec_rows(res, c, cli, kubectl, env)
        srv = http_server()
        figures = {}
        for name, cmd in (("incluster", [cli, "port-forward", POD, f":{srv}"]),
                          ("kubectl", [kubectl, "port-forward", f"pod/{POD}", f":{srv}"])):
            p, local = forward(cmd, env)
            try:
                figures[name] = forward_figures(local)
            finally:
                p.kill()
                p.wait()
        res["port_forward"] = figures
        assert kubelet.stdin is not None
        kubelet.stdin.close()
        kubelet.wait()
    Path(a.out).mkdir(parents=True, exist_ok=True)
    (Path(a.out) / "exec.json").write_text(json.dumps(res, indent=2))
    if a.only is None:
        print_exec_rows(res)
    for name, f in res["port_forward"].items():
        print(f"port-forward {name}: {f['requests_per_s']:.0f} requests/s,"
              f" 100 MB at {f['download_MB_s']:.0f} MB/s")
    return 0


def print_exec_rows(res: dict[str, Any]) -> None:
    e = res["exec_true_s"]
    s = res["stream_MB_s"]
    print(f"exec -- true (whole process, median of {ROUNDS}): incluster {e['incluster']*1000:.0f} ms,"
          f" kubectl {e['kubectl']*1000:.0f} ms ({e['kubectl']/e['incluster']:.1f}x)")
    print(f"100 MB: exec cat {s['exec_cat']:.0f} MB/s (kubectl exec cat"
          f" {s['kubectl_exec_cat']:.0f} MB/s), log follow {s['log_follow']:.0f} MB/s"
          f" ({s['exec_cat']/s['log_follow']:.2f}x)")


if __name__ == "__main__":
    sys.exit(main())

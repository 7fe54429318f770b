"""exec and port-forward through the real kube-apiserver: incluster next to kubectl.

The control plane of the end-to-end tests (etcd + kube-apiserver, tests/e2e/cluster.py) with
the fake kubelet of tests/e2e/test_exec.py (the kubelet's own streaming server, which really
runs the command): both clients go through the same API server, which translates WebSocket
exec into SPDY toward the kubelet.

- ``exec POD -- true`` as a whole process (start, TLS, upgrade, run, exit status), median of
  ROUNDS runs, incluster CLI vs ``kubectl exec``;
- 100 MB through exec, MB/s, in three shapes: download only (``exec POD -- head -c N
  /dev/zero``), upload only (``exec -i POD -- sh -c 'cat >/dev/null'``) and round trip
  (``exec -i POD -- cat``); for the incluster CLI, kubectl over WebSocket (its default, which
  the API server translates to SPDY toward the kubelet) and kubectl over SPDY
  (``KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false``, which the API server proxies as bytes); next to
  100 MB of log lines followed through the same API server (``incluster logs``). Each with the
  CPU seconds spent during it by the API server, the fake kubelet (with the command it ran) and
  the client's pipeline (the client, ``head`` and ``wc``), which is where the time goes;
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
import resource
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


def cpu_seconds(pid: int, children: bool = False) -> float:
    """CPU time (user + system) of a running process, with its reaped children if asked."""
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(f[11]) + int(f[12]) + (int(f[13]) + int(f[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def pipe_rate(shell: str, env: dict[str, str], size: int, exact: bool = True,
              pids: dict[str, int] | None = None) -> dict[str, float]:
    """MB/s of a pipeline ending in ``wc -c`` (at least ``size`` bytes; exactly, if asked),
    and the CPU seconds each of ``pids`` (name: pid; a name ending in ``+`` counts the
    process's reaped children too) and the pipeline itself spent meanwhile."""
    pids = pids or {}
    before = {n: cpu_seconds(p, n.endswith("+")) for n, p in pids.items()}
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run(["bash", "-c", shell], env=env, check=True, capture_output=True,
                         text=True)
    dt = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    got = int(out.stdout.split()[-1])
    assert got == size if exact else got >= size, out
    res = {"MB_s": got / MB / dt}
    for n, p in pids.items():
        res[f"cpu_{n.rstrip('+')}_s"] = cpu_seconds(p, n.endswith("+")) - before[n]
    res["cpu_client_s"] = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return res


def stream_figures(cli: str, kubectl: str, env: dict[str, str], size: int,
                   pids: dict[str, int]) -> dict[str, Any]:
    """100 MB down, up and both ways through exec, for each client, and a log follow."""
    shapes = {
        "download": "{c} exec {pod} -- head -c {n} /dev/zero | wc -c",
        # The command prints how much it read: the upload is checked, not assumed.
        "upload": "head -c {n} /dev/zero | {c} exec -i {pod} -- sh -c 'wc -c'",
        "round_trip": "head -c {n} /dev/zero | {c} exec -i {pod} -- cat | wc -c",
    }
    spdy = dict(env, KUBECTL_REMOTE_COMMAND_WEBSOCKETS="false")
    clients = (("incluster", cli, env), ("kubectl_ws", kubectl, env),
               ("kubectl_spdy", kubectl, spdy))
    res: dict[str, Any] = {}
    for shape, cmd in shapes.items():
        for name, binary, e in clients:
            res[f"{shape}/{name}"] = pipe_rate(cmd.format(c=binary, pod=POD, n=size), e, size,
                                               pids=pids)
    res["log_follow"] = pipe_rate(f"{cli} logs {LOG_POD} | wc -c", env, size, exact=False,
                                  pids=pids)
    return res


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


def print_stream(s: dict[str, Any]) -> None:
    """The 100 MB figures side by side: MB/s, then where the CPU went."""
    log = s["log_follow"]
    print(f"100 MB, MB/s (CPU s: API server / fake kubelet+command / client pipeline);"
          f" log follow {log['MB_s']:.0f} MB/s ({log['cpu_apiserver_s']:.2f} /"
          f" {log['cpu_kubelet_s']:.2f} / {log['cpu_client_s']:.2f})")
    names = ("incluster", "kubectl_ws", "kubectl_spdy")
    print(f"{'':12}" + "".join(f"{n:>28}" for n in names))
    for shape in ("download", "upload", "round_trip"):
        cells = []
        for n in names:
            f = s[f"{shape}/{n}"]
            cells.append(f"{f['MB_s']:5.0f} ({f['cpu_apiserver_s']:.2f}/{f['cpu_kubelet_s']:.2f}/"
                         f"{f['cpu_client_s']:.2f})")
        print(f"{shape:12}" + "".join(f"{c:>28}" for c in cells))
    rt = s["round_trip/incluster"]["MB_s"]
    print(f"round trip incluster / log follow: {rt / log['MB_s']:.2f}x (goal 0.8x)")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kubectl", required=True)
    ap.add_argument("--cli", default=str(Path(os.environ.get("CARGO_TARGET_DIR", CACHE / "target"))
                                         / "release" / "incluster"))
    ap.add_argument("--out", default=str(CACHE / "bench-results"))
    ap.add_argument("--stream-only", action="store_true",
                    help="only the 100 MB figures (no exec true, no port-forward)")
    ap.add_argument("--forward-only", action="store_true",
                    help="only the port-forward figures")
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

        if not (a.stream_only or a.forward_only):
            res["exec_true_s"] = {
                "incluster": median_seconds([cli, "exec", POD, "--", "true"], env),
                "kubectl": median_seconds([kubectl, "exec", POD, "--", "true"], env),
            }
        size = 100 * MB
        c.kubelet("POST", "/_control/logs/generate", {
            "namespace": NAMESPACE, "pod": LOG_POD, "container": "main",
            "count": size // 99 + 1, "size": 99})
        pids = {"apiserver": c.procs["kube-apiserver"].pid, "kubelet+": kubelet.pid}
        if not a.forward_only:
            res["stream"] = stream_figures(cli, kubectl, env, size, pids)
        if not a.stream_only:
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
    if "exec_true_s" in res:
        e = res["exec_true_s"]
        print(f"exec -- true (whole process, median of {ROUNDS}): incluster"
              f" {e['incluster']*1000:.0f} ms, kubectl {e['kubectl']*1000:.0f} ms"
              f" ({e['kubectl']/e['incluster']:.1f}x)")
    print(f"machine load (1-minute average) after the run: {os.getloadavg()[0]:.1f}"
          f" on {os.cpu_count()} CPUs")
    if "stream" in res:
        print_stream(res["stream"])
    for name, f in res.get("port_forward", {}).items():
        print(f"port-forward {name}: {f['requests_per_s']:.0f} requests/s,"
              f" 100 MB at {f['download_MB_s']:.0f} MB/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""A real control plane on loopback for the end-to-end tests and the README's demo.

etcd and kube-apiserver (built by ``tests/e2e/build.sh`` from the Go module proxy), a fake kubelet
(the project's test server, which serves the kubelet's ``/containerLogs`` route), RBAC, a
ServiceAccount with a real token from the TokenRequest API, and a ServiceAccount directory laid out
exactly as the kubelet lays it out: a simulated pod.

    python3 tests/e2e/cluster.py run -- CMD...   # start, run CMD in the simulated pod, stop

CMD sees KUBERNETES_SERVICE_HOST/PORT, INCLUSTER_SERVICEACCOUNT_DIR and INCLUSTER_E2E (the path of
``cluster.json``, which describes the cluster to tests). Every process is stopped by PID at the
end, also when CMD or the start fails. The tests use the ``Cluster`` class directly.

Only the standard library: the harness must not depend on the code it tests.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CACHE = Path(os.environ.get("INCLUSTER_CACHE", Path.home() / ".cache" / "incluster"))

NAMESPACE = "e2e"
SERVICE_ACCOUNT = "app"
ISSUER = "https://kubernetes.default.svc"
NODE = "fake-node"
# The pod whose logs the tests read: two containers, so a missing container name is an error.
LOG_POD = "logger"
LOG_CONTAINERS = ["main", "side"]


def say(msg: str) -> None:
    print(f"[e2e {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _die_with_parent() -> None:
    """In the child before exec: get SIGKILL when the harness dies, even by SIGKILL, so no
    etcd or kube-apiserver outlives it (Linux's PR_SET_PDEATHSIG)."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ApiError(Exception):
    """A non-2xx answer from the API server to the harness's own (admin) requests."""

    def __init__(self, status: int, body: str, what: str) -> None:
        super().__init__(f"{what}: HTTP {status}: {body[:500]}")
        self.status = status
        self.body = body


class Cluster:
    """etcd + kube-apiserver + fake kubelet, started in ``workdir``."""

    def __init__(self, workdir: Path, bindir: Optional[Path] = None,
                 testserver: Optional[Path] = None) -> None:
        self.dir = workdir
        self.bindir = bindir
        self.testserver = testserver or default_testserver()
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.apiserver_port = 0
        self.etcd_port = 0
        self.kubelet_port = 0
        self.kubelet_url = ""
        self.admin_token = ""
        self.sa_dir = self.dir / "pod" / "serviceaccount"
        self._ctx: Optional[ssl.SSLContext] = None
        self._kubelet_ctx: Optional[ssl.SSLContext] = None
        self.token_generation = 0

    # ---- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        if self.bindir is None:
            self.bindir = build()
        self.dir.mkdir(parents=True, exist_ok=True)
        say(f"work directory {self.dir}")
        self._pki()
        self._start_etcd()
        self._start_apiserver()
        self._start_kubelet()
        self._bootstrap()
        self._write_description()
        say(f"ready: API server https://127.0.0.1:{self.apiserver_port}, pod at {self.sa_dir}")

    def stop(self) -> None:
        for name in ("kube-apiserver", "kubelet", "etcd"):
            self._kill(name)

    def _kill(self, name: str) -> None:
        p = self.procs.pop(name, None)
        if p is None:
            return
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for pipe in (p.stdin, p.stdout):
            if pipe is not None:
                pipe.close()

    def __enter__(self) -> "Cluster":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- PKI --------------------------------------------------------------------------------

    def _openssl(self, *args: str) -> None:
        subprocess.run(["openssl", *args], cwd=self.pki, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def _pki(self) -> None:
        self.pki = self.dir / "pki"
        self.pki.mkdir(exist_ok=True)
        say("PKI: cluster CA, serving certificate, ServiceAccount signing key, admin token")
        self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                      "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
                      "-subj", "/CN=incluster-e2e-ca")
        sans = ",".join([
            "IP:127.0.0.1", "IP:::1", "IP:10.0.0.1", "DNS:localhost", "DNS:kubernetes",
            "DNS:kubernetes.default", "DNS:kubernetes.default.svc",
            "DNS:kubernetes.default.svc.cluster.local",
        ])
        self._openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                      "-nodes", "-keyout", "server.key", "-out", "server.csr",
                      "-subj", "/CN=kube-apiserver")
        (self.pki / "ext.cnf").write_text(
            f"subjectAltName={sans}\nextendedKeyUsage=serverAuth\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n")
        self._openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                      "-CAcreateserial", "-out", "server.crt", "-days", "2",
                      "-extfile", "ext.cnf")
        self._openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                      "-out", "sa.key")
        self._openssl("pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub")
        self.admin_token = base64.urlsafe_b64encode(os.urandom(24)).decode().rstrip("=")
        # A static token for the harness only (group system:masters); the code under test only
        # ever uses the ServiceAccount token.
        (self.pki / "tokens.csv").write_text(
            f'{self.admin_token},e2e-admin,e2e-admin,"system:masters"\n')
        (self.pki / "admin.token").write_text(self.admin_token)
        self._ctx = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))

    # ---- processes --------------------------------------------------------------------------

    def _spawn(self, name: str, args: list[str], stdin: Any = subprocess.DEVNULL,
               stdout: Any = None) -> subprocess.Popen[bytes]:
        with open(self.dir / f"{name}.log", "ab") as log:
            # The child keeps its own copy of the descriptor.
            p = subprocess.Popen(args, stdin=stdin, stdout=log if stdout is None else stdout,
                                 stderr=log, start_new_session=True,
                                 preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        self.procs[name] = p
        return p

    def _start_etcd(self) -> None:
        assert self.bindir is not None
        self.etcd_port = free_port()
        peer = free_port()
        say(f"starting etcd on 127.0.0.1:{self.etcd_port}")
        self._spawn("etcd", [
            str(self.bindir / "etcd"), "--name", "e2e", "--data-dir", str(self.dir / "etcd"),
            "--listen-client-urls", f"http://127.0.0.1:{self.etcd_port}",
            "--advertise-client-urls", f"http://127.0.0.1:{self.etcd_port}",
            "--listen-peer-urls", f"http://127.0.0.1:{peer}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
            "--initial-cluster", f"e2e=http://127.0.0.1:{peer}",
            "--log-level", "warn",
        ])
        self._wait(lambda: self._http_ok(f"http://127.0.0.1:{self.etcd_port}/health"),
                   "etcd", 60)

    def _apiserver_args(self) -> list[str]:
        assert self.bindir is not None
        p = self.pki
        return [
            str(self.bindir / "kube-apiserver"),
            f"--etcd-servers=http://127.0.0.1:{self.etcd_port}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            f"--secure-port={self.apiserver_port}",
            f"--cert-dir={self.dir / 'apiserver-certs'}",
            f"--tls-cert-file={p / 'server.crt'}", f"--tls-private-key-file={p / 'server.key'}",
            f"--client-ca-file={p / 'ca.crt'}",
            f"--token-auth-file={p / 'tokens.csv'}",
            "--authorization-mode=RBAC",
            f"--service-account-issuer={ISSUER}",
            f"--service-account-key-file={p / 'sa.pub'}",
            f"--service-account-signing-key-file={p / 'sa.key'}",
            "--service-cluster-ip-range=10.0.0.0/24",
            # There is no controller-manager to create token Secrets or default ServiceAccounts.
            "--disable-admission-plugins=ServiceAccount",
            "--kubelet-preferred-address-types=InternalIP",
            "--profiling=false",
            "--v=1",
        ]

    def _start_apiserver(self) -> None:
        if not self.apiserver_port:
            self.apiserver_port = free_port()
        say(f"starting kube-apiserver on 127.0.0.1:{self.apiserver_port} (readiness takes ~10 s)")
        self._spawn("kube-apiserver", self._apiserver_args())
        self._wait(self._apiserver_ready, "kube-apiserver", 120)

    def restart_apiserver(self, down_seconds: float = 0) -> None:
        """Stop kube-apiserver and start it again on the same port (its watch cache restarts),
        after ``down_seconds`` without it."""
        say("restarting kube-apiserver")
        self._kill("kube-apiserver")
        time.sleep(down_seconds)
        self._start_apiserver()

    def _start_kubelet(self) -> None:
        say("starting the fake kubelet (the project's test server, /containerLogs route)")
        out = self.dir / "kubelet"
        # The test server exits when its stdin closes: we hold the pipe for its lifetime.
        p = self._spawn("kubelet", [str(self.testserver), "--dir", str(out)],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert p.stdout is not None
        line = p.stdout.readline().decode()
        if not line.startswith("READY "):
            raise RuntimeError(f"the fake kubelet did not start: {line!r} (see {self.dir})")
        info = json.loads(line[len("READY "):])
        self.kubelet_port = int(info["port"])
        self.kubelet_url = info["url"]
        self._kubelet_ctx = ssl.create_default_context(cafile=str(out / "ca.crt"))

    def _wait(self, ready: Any, what: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        name = what
        while time.monotonic() < deadline:
            p = self.procs.get(name)
            if p is not None and p.poll() is not None:
                tail = (self.dir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{what} exited with {p.returncode}:\n{tail}")
            if ready():
                return
            time.sleep(0.25)
        raise RuntimeError(f"{what} was not ready after {seconds} s (log: {self.dir}/{name}.log)")

    @staticmethod
    def _http_ok(url: str) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def _apiserver_ready(self) -> bool:
        try:
            return bool(self.admin("GET", "/readyz", raw=True) == b"ok")
        except (OSError, ApiError):
            return False

    # ---- requests -----------------------------------------------------------------------------

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.apiserver_port}"

    def admin(self, method: str, path: str, body: Any = None, raw: bool = False,
              token: Optional[str] = None, content_type: str = "application/json") -> Any:
        """A request as the cluster admin (or with ``token``); the parsed JSON answer."""
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(self.server + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {token or self.admin_token}")
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, context=self._ctx, timeout=30) as r:
                out = r.read()
        except urllib.error.HTTPError as e:
            raise ApiError(e.code, e.read().decode(errors="replace"), f"{method} {path}") from None
        return out if raw else json.loads(out or b"null")

    def kubelet(self, method: str, path: str, body: Any = None) -> Any:
        """A control request to the fake kubelet (the test server's ``/_control`` API)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.kubelet_url + path, data=data, method=method)
        with urllib.request.urlopen(req, context=self._kubelet_ctx, timeout=30) as r:
            out = r.read()
        return json.loads(out) if out else None

    # ---- objects --------------------------------------------------------------------------------

    def _bootstrap(self) -> None:
        ns = NAMESPACE
        say(f"bootstrap: namespace {ns}, ServiceAccount {SERVICE_ACCOUNT}, Role, Node, Pods")
        self.admin("POST", "/api/v1/namespaces", {"metadata": {"name": ns}})
        self.create_service_account()
        self.admin("POST", f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles", {
            "metadata": {"name": "app"},
            "rules": [
                {"apiGroups": [""], "resources": ["configmaps"],
                 "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
                {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
                {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
                # Leader election (test_lease.py); the ServiceAccount of other_service_account()
                # has none of it, for the 403 test.
                {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                 "verbs": ["get", "list", "watch", "create", "update"]},
                # Deliberately nothing on secrets: the tests expect 403 there.
            ],
        })
        self.admin("POST", f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings", {
            "metadata": {"name": "app"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "app"},
            "subjects": [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": ns}],
        })
        # The Node's status (address and kubelet port) is what the API server dials for logs.
        self.admin("POST", "/api/v1/nodes", {
            "metadata": {"name": NODE},
            "status": {
                "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": self.kubelet_port}},
            },
        })
        self.create_pod("app-pod", ["app"])
        self.create_pod(LOG_POD, LOG_CONTAINERS)
        # The simulated pod is app-pod: its token is bound to it, as the kubelet's would be.
        self.write_token(self.mint_token(bound_pod="app-pod"))

    def create_service_account(self) -> None:
        self.admin("POST", f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts",
                   {"metadata": {"name": SERVICE_ACCOUNT}})

    def delete_service_account(self) -> None:
        self.admin("DELETE", f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts/{SERVICE_ACCOUNT}")

    def create_pod(self, name: str, containers: list[str]) -> None:
        """A Pod on the fake node, with running containers, in both the API server and the kubelet."""
        self.admin("POST", f"/api/v1/namespaces/{NAMESPACE}/pods", {
            "metadata": {"name": name},
            "spec": {"nodeName": NODE, "serviceAccountName": SERVICE_ACCOUNT,
                     "containers": [{"name": c, "image": "example/app:1"} for c in containers]},
        })
        self.set_container_states(name, {c: "running" for c in containers})
        self.kubelet("POST", "/_control/pods", {
            "namespace": NAMESPACE, "name": name, "containers": containers})

    def set_container_states(self, pod: str, states: dict[str, str]) -> None:
        """Write the Pod's status as a kubelet would (``running`` or ``terminated``)."""
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        statuses = []
        for c, state in states.items():
            if state == "running":
                st: dict[str, Any] = {"running": {"startedAt": now}}
            else:
                st = {"terminated": {"exitCode": 0, "reason": "Completed", "finishedAt": now}}
            statuses.append({"name": c, "ready": state == "running", "restartCount": 0,
                             "image": "example/app:1", "imageID": "", "state": st})
        phase = "Running" if "running" in states.values() else "Succeeded"
        self.admin("PATCH", f"/api/v1/namespaces/{NAMESPACE}/pods/{pod}/status",
                   {"status": {"phase": phase, "containerStatuses": statuses}},
                   content_type="application/merge-patch+json")

    def other_service_account(self, name: str) -> Path:
        """A ServiceAccount ``name`` with no RBAC at all, and a ServiceAccount directory for it
        (token, ca.crt, namespace); its path."""
        self.admin("POST", f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts",
                   {"metadata": {"name": name}})
        d = self.dir / f"sa-{name}"
        d.mkdir()
        (d / "token").write_text(self.mint_token(service_account=name))
        shutil.copy(self.pki / "ca.crt", d / "ca.crt")
        (d / "namespace").write_text(NAMESPACE)
        return d

    def mint_token(self, seconds: int = 3600, bound_secret: Optional[str] = None,
                   bound_pod: Optional[str] = None,
                   service_account: str = SERVICE_ACCOUNT) -> str:
        """A real ServiceAccount token from the TokenRequest API.

        With ``bound_pod`` the token is bound to that Pod, as the kubelet's tokens are. With
        ``bound_secret`` it is bound to a new Secret of that name, so deleting the Secret
        invalidates this token alone (the token rotation test needs that).
        """
        spec: dict[str, Any] = {"expirationSeconds": seconds, "audiences": [ISSUER]}
        if bound_pod:
            p = self.admin("GET", f"/api/v1/namespaces/{NAMESPACE}/pods/{bound_pod}")
            spec["boundObjectRef"] = {"kind": "Pod", "apiVersion": "v1", "name": bound_pod,
                                      "uid": p["metadata"]["uid"]}
        if bound_secret:
            s = self.admin("POST", f"/api/v1/namespaces/{NAMESPACE}/secrets",
                           {"metadata": {"name": bound_secret}})
            spec["boundObjectRef"] = {"kind": "Secret", "apiVersion": "v1",
                                      "name": bound_secret, "uid": s["metadata"]["uid"]}
        out = self.admin(
            "POST",
            f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts/{service_account}/token",
            {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec})
        return str(out["status"]["token"])

    def write_token(self, token: str) -> None:
        """Lay the token out as the kubelet does: a new timestamped folder, then an atomic swap
        of the ``..data`` symlink, then removal of the old folder."""
        sa = self.sa_dir
        sa.mkdir(parents=True, exist_ok=True)
        self.token_generation += 1
        stamp = datetime.datetime.now().strftime("..%Y_%m_%d_%H_%M_%S.") + \
            f"{time.time_ns() % 10**9:09d}{self.token_generation}"
        new = sa / stamp
        new.mkdir()
        (new / "token").write_text(token)
        shutil.copy(self.pki / "ca.crt", new / "ca.crt")
        (new / "namespace").write_text(NAMESPACE)
        old = os.readlink(sa / "..data") if (sa / "..data").is_symlink() else None
        os.symlink(stamp, sa / "..data_tmp")
        os.replace(sa / "..data_tmp", sa / "..data")
        for f in ("token", "ca.crt", "namespace"):
            if not (sa / f).is_symlink():
                os.symlink(f"..data/{f}", sa / f)
        if old:
            shutil.rmtree(sa / old)

    # ---- description --------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """The environment of a process in the simulated pod."""
        return {
            "KUBERNETES_SERVICE_HOST": "127.0.0.1",
            "KUBERNETES_SERVICE_PORT": str(self.apiserver_port),
            "INCLUSTER_SERVICEACCOUNT_DIR": str(self.sa_dir),
            "INCLUSTER_E2E": str(self.dir / "cluster.json"),
        }

    def _write_description(self) -> None:
        (self.dir / "cluster.json").write_text(json.dumps({
            "server": self.server, "namespace": NAMESPACE, "serviceaccount_dir": str(self.sa_dir),
            "ca": str(self.pki / "ca.crt"), "kubelet": self.kubelet_url,
            "log_pod": LOG_POD, "log_containers": LOG_CONTAINERS,
        }, indent=2))


def default_testserver() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", CACHE / "target"))
    return Path(os.environ.get("INCLUSTER_TESTSERVER", target / "debug" / "testserver"))


def build() -> Path:
    """Build (or find cached) kube-apiserver and etcd; the directory holding them."""
    out = subprocess.run(["bash", str(HERE / "build.sh")], check=True, stdout=subprocess.PIPE,
                         text=True)
    return Path(out.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "run" or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    cmd = argv[2:]
    if not cmd:
        print("run -- needs a command", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="incluster-e2e-"))
    try:
        with Cluster(work) as c:
            env = dict(os.environ, **c.env())
            return subprocess.call(cmd, env=env)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

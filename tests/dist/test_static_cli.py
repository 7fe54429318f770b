"""The static CLI where a scratch or distroless image puts it: an empty root.

A chroot holds the binary and the ServiceAccount files at the kubelet's path and nothing
else: no /lib, no loader, no /etc (no CA bundle, passwd, hosts or resolv.conf), no shell. It
reaches the test server on 127.0.0.1 (a chroot keeps the network).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import TOKEN, add_pod_with_log

SA = "var/run/secrets/kubernetes.io/serviceaccount"
NS = "dist-ns"


@pytest.fixture
def root(dist: Path, server: Any, tmp_path: Path) -> Path:
    r = tmp_path / "root"
    (r / SA).mkdir(parents=True)
    shutil.copy(dist / "incluster", r / "incluster")
    (r / SA / "token").write_text(TOKEN)
    shutil.copy(server.ca, r / SA / "ca.crt")
    (r / SA / "namespace").write_text(NS)
    files = sorted(str(p.relative_to(r)) for p in r.rglob("*") if not p.is_dir())
    assert files == ["incluster", f"{SA}/ca.crt", f"{SA}/namespace", f"{SA}/token"]
    return r


def run_in(root: Path, server: Any, *args: str, host: str = "127.0.0.1") -> subprocess.CompletedProcess[str]:
    chroot = shutil.which("chroot") or "/usr/sbin/chroot"
    # Unprivileged, a user namespace grants the chroot.
    cmd = [chroot, str(root), "/incluster", *args]
    if os.geteuid() != 0:
        cmd = ["unshare", "--user", "--map-root-user", *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env={
        "KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": str(server.port)})
    assert TOKEN not in out.stdout + out.stderr
    return out


def test_the_binary_is_static_stripped_and_small(dist: Path) -> None:
    cli = dist / "incluster"
    segments = subprocess.run(["readelf", "-lW", str(cli)], check=True, capture_output=True, text=True).stdout
    dynamic = subprocess.run(["readelf", "-dW", str(cli)], check=True, capture_output=True, text=True).stdout
    sections = subprocess.run(["readelf", "-SW", str(cli)], check=True, capture_output=True, text=True).stdout
    assert "INTERP" not in segments and "LOAD" in segments
    assert "NEEDED" not in dynamic, dynamic
    assert ".symtab" not in sections and ".text" in sections
    size = cli.stat().st_size
    print(f"\n  static CLI: {size} bytes")
    # Issue 14 set 2.5 MB for the v1 CLI. Kubeconfig (a YAML parser), exec/attach/port-forward
    # (WebSocket, and the SPDY tunnel's zlib header blocks), wait, leases and apply took it past
    # that; this budget keeps it from growing further unnoticed. What is in it, by crate, and
    # the way back under 2.5 MB are in benches/report.md ("Static CLI size").
    assert size <= 3_400_000, f"the static CLI is {size} bytes, over its 3.4 MB budget"


def test_get_watch_logs_and_an_error_exit_in_an_empty_root(root: Path, server: Any) -> None:
    out = run_in(root, server, "get", "/version")
    assert out.returncode == 0 and "gitVersion" in json.loads(out.stdout), out

    # Four writes: two ConfigMaps (cm-0, then cm-1), which the watch lists as ADDED.
    server.control("POST", "/_control/churn", {"namespace": NS, "count": 4, "prefix": "cm"})
    out = run_in(root, server, "watch", f"/api/v1/namespaces/{NS}/configmaps", "--no-resume",
                 "--param", "timeoutSeconds=1")
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert out.returncode == 0, out
    assert [e["type"] for e in events] == ["ADDED", "ADDED"], out.stdout

    # The pod's namespace is the one in the SA directory's file.
    add_pod_with_log(server, NS, "web", ["first", "second"])
    out = run_in(root, server, "logs", "web")
    assert out.returncode == 0 and out.stdout == "first\nsecond\n", out

    out = run_in(root, server, "get", f"/api/v1/namespaces/{NS}/pods/ghost")
    assert out.returncode == 5 and "ghost" in out.stderr and out.stdout == "", out


def test_a_service_host_name_says_which_resolver_failed(root: Path, server: Any) -> None:
    # No /etc/hosts and no /etc/resolv.conf in the root: the lookup cannot succeed.
    out = run_in(root, server, "get", "/version", host="kubernetes.default.svc")
    assert out.returncode == 4, out
    assert "kubernetes.default.svc" in out.stderr, out.stderr
    assert "resolves names with the musl libc it carries" in out.stderr, out.stderr
    assert "/etc/resolv.conf" in out.stderr, out.stderr


def test_a_service_host_name_resolves_from_the_roots_own_etc_hosts(root: Path, server: Any) -> None:
    # As in a pod, where the kubelet mounts /etc/hosts into every container, scratch or not.
    (root / "etc").mkdir()
    (root / "etc/hosts").write_text("127.0.0.1 localhost\n")
    out = run_in(root, server, "get", "/version", host="localhost")
    assert out.returncode == 0 and "gitVersion" in out.stdout, out

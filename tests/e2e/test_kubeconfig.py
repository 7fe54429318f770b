"""Kubeconfig against the real kube-apiserver: a client certificate (the admin kubeconfig), a
ServiceAccount token, tokenFile while the file rotates, an exec plugin that mints tokens with
TokenRequest and reports a short expiry (counting its runs), tls-server-name, a KUBECONFIG list
whose order matters, and the same Python, C and CLI programs in the simulated pod and
off-cluster with no change."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator, Optional

import pytest

import incluster
from cluster import ISSUER, NAMESPACE, ROOT, SERVICE_ACCOUNT, Cluster
from conftest import TARGET, run

CMS = f"/api/v1/namespaces/{NAMESPACE}/configmaps"
POD_ENV = ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "INCLUSTER_SERVICEACCOUNT_DIR")
# The exec plugin's own expiry for the tokens it mints (the API server's minimum TokenRequest
# lifetime is 10 minutes, so the plugin reports a shorter one itself).
LIFETIME = 4


def write_kubeconfig(path: Path, cluster: Cluster, user: str, *, ctx: str = "main",
                     server: Optional[str] = None, cluster_extra: str = "",
                     namespace: str = NAMESPACE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"""apiVersion: v1
kind: Config
current-context: {ctx}
clusters:
- name: e2e
  cluster:
    server: {server or cluster.server}
    certificate-authority: {cluster.pki / 'ca.crt'}
{cluster_extra}
contexts:
- name: {ctx}
  context: {{cluster: e2e, user: {ctx}-user, namespace: {namespace}}}
users:
- name: {ctx}-user
  user:
{user}
""")
    return path


@pytest.fixture
def off_cluster(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No pod environment; HOME is an empty directory. Returns HOME."""
    for k in POD_ENV:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def openssl(cwd: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def admin_cert(cluster: Cluster, d: Path) -> None:
    """admin.crt and admin.key in `d`: a client certificate for kc-admin in system:masters."""
    openssl(d, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", "admin.key", "-out", "admin.csr",
            "-subj", "/O=system:masters/CN=kc-admin")
    (d / "ext.cnf").write_text("extendedKeyUsage=clientAuth\n")
    openssl(d, "x509", "-req", "-in", "admin.csr", "-CA", str(cluster.pki / "ca.crt"),
            "-CAkey", str(cluster.pki / "ca.key"), "-CAcreateserial", "-CAserial",
            str(d / "ca.srl"), "-out", "admin.crt", "-days", "1", "-extfile", "ext.cnf")


def test_admin_kubeconfig_with_a_client_certificate(
    cluster: Cluster, cli: Path, tmp_path: Path
) -> None:
    admin_cert(cluster, tmp_path)
    p = write_kubeconfig(tmp_path / "admin.conf", cluster,
                         "    client-certificate: admin.crt\n    client-key: admin.key")
    kube = incluster.Client.from_kubeconfig(p)
    assert kube.whoami()["username"] == "kc-admin"
    # system:masters may read what the ServiceAccount may not.
    assert kube.get(f"/api/v1/namespaces/{NAMESPACE}/secrets")["kind"] == "SecretList"
    key = (tmp_path / "admin.key").read_text().splitlines()[1]
    out = run([cli, "--kubeconfig", p, "whoami"])
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["username"] == "kc-admin"
    assert key not in out.stdout + out.stderr and key not in repr(kube)


CERT_PLUGIN = r'''#!/usr/bin/env python3
import json, os
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "runs.log"), "a") as f:
    f.write("run\n")
print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": {"clientCertificateData": open(os.path.join(here, "admin.crt")).read(),
                             "clientKeyData": open(os.path.join(here, "admin.key")).read()}}))
'''


def test_exec_plugin_giving_a_client_certificate(cluster: Cluster, tmp_path: Path) -> None:
    admin_cert(cluster, tmp_path)
    plugin = tmp_path / "cert-plugin"
    plugin.write_text(CERT_PLUGIN)
    plugin.chmod(0o755)
    p = write_kubeconfig(tmp_path / "certexec.conf", cluster, (
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
        "      command: ./cert-plugin\n      interactiveMode: Never"))
    kube = incluster.Client.from_kubeconfig(p)
    assert kube.whoami()["username"] == "kc-admin"
    assert kube.get(f"/api/v1/namespaces/{NAMESPACE}/secrets")["kind"] == "SecretList"
    # No expiry given: the certificate is kept, the plugin ran once.
    assert (tmp_path / "runs.log").read_text().count("run") == 1


def test_service_account_token_kubeconfig(cluster: Cluster, tmp_path: Path) -> None:
    p = write_kubeconfig(tmp_path / "sa.conf", cluster, f"    token: {cluster.mint_token()}")
    kube = incluster.Client.from_kubeconfig(p)
    assert kube.get(CMS)["kind"] == "ConfigMapList"
    assert kube.whoami()["username"] == f"system:serviceaccount:{NAMESPACE}:{SERVICE_ACCOUNT}"
    with pytest.raises(incluster.Forbidden):
        kube.get(f"/api/v1/namespaces/{NAMESPACE}/secrets")


def test_token_file_rotation(cluster: Cluster, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text(cluster.mint_token(bound_secret="kc-rot-1"))
    kube = incluster.Client.from_kubeconfig(
        write_kubeconfig(tmp_path / "tf.conf", cluster, "    tokenFile: token"))
    assert kube.get(CMS)["kind"] == "ConfigMapList"
    # The old token is revoked (its Secret deleted) and the file holds a new one: the next
    # request gets a 401, re-reads the file and succeeds.
    new = cluster.mint_token(bound_secret="kc-rot-2")
    cluster.admin("DELETE", f"/api/v1/namespaces/{NAMESPACE}/secrets/kc-rot-1")
    tmp = tmp_path / "token.tmp"
    tmp.write_text(new)
    os.replace(tmp, token)
    assert kube.get(CMS)["kind"] == "ConfigMapList"


PLUGIN = r'''#!/usr/bin/env python3
import base64, datetime, json, os, ssl, time, urllib.request
here = os.path.dirname(os.path.abspath(__file__))
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
cluster = info["spec"]["cluster"]
ctx = ssl.create_default_context(
    cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
admin = open(os.path.join(here, "admin.token")).read().strip()
body = json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                   "spec": {"expirationSeconds": 600, "audiences": ["ISSUER"]}}).encode()
req = urllib.request.Request(
    cluster["server"] + "/api/v1/namespaces/NAMESPACE/serviceaccounts/SA/token", data=body,
    method="POST", headers={"Authorization": "Bearer " + admin,
                            "Content-Type": "application/json"})
token = json.load(urllib.request.urlopen(req, context=ctx))["status"]["token"]
start = time.time()
expires = int(start) + LIFETIME
with open(os.path.join(here, "runs.log"), "a") as f:
    f.write(f"{start} {expires}\n")
stamp = datetime.datetime.fromtimestamp(expires, datetime.timezone.utc)
print(json.dumps({"apiVersion": info["apiVersion"], "kind": "ExecCredential",
                  "status": {"token": token,
                             "expirationTimestamp": stamp.strftime("%Y-%m-%dT%H:%M:%SZ")}}))
'''


@pytest.fixture
def plugin_dir(cluster: Cluster, tmp_path: Path) -> Path:
    d = tmp_path / "plugin"
    d.mkdir()
    (d / "admin.token").write_text(cluster.admin_token)
    code = (PLUGIN.replace("ISSUER", ISSUER).replace("NAMESPACE", NAMESPACE)
            .replace("SA", SERVICE_ACCOUNT).replace("LIFETIME", str(LIFETIME)))
    plugin = d / "mint-token"
    plugin.write_text(code)
    plugin.chmod(plugin.stat().st_mode | stat.S_IXUSR)
    write_kubeconfig(d / "exec.conf", cluster, (
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
        "      command: ./mint-token\n      interactiveMode: Never\n"
        "      provideClusterInfo: true"))
    return d


def runs(d: Path) -> list[tuple[float, int]]:
    log = d / "runs.log"
    if not log.exists():
        return []
    return [(float(a), int(b)) for a, b in (line.split() for line in log.read_text().splitlines())]


def test_exec_plugin_runs_once_per_expiry(plugin_dir: Path) -> None:
    kube = incluster.Client.from_kubeconfig(plugin_dir / "exec.conf")
    # Eight threads at once: one run, the others wait for its answer.
    errors: list[BaseException] = []

    def get() -> None:
        try:
            kube.get(CMS)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=get) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(runs(plugin_dir)) == 1
    requests = 8
    for _ in range(10):
        kube.get(CMS)
        requests += 1
    first = runs(plugin_dir)
    assert len(first) < requests
    # Past the expiry the plugin reported, the next request runs it exactly once more.
    while time.time() < first[-1][1] + 0.2:
        time.sleep(0.1)
    kube.get(CMS)
    kube.get(CMS)
    after = runs(plugin_dir)
    assert len(after) == len(first) + 1
    # Never a run while the last answer was still valid.
    for (_, expired), (started, _) in zip(after, after[1:]):
        assert started >= expired


def test_tls_server_name(cluster: Cluster, tmp_path: Path) -> None:
    token = cluster.mint_token()
    # By IP, checking a DNS name the certificate holds.
    good = write_kubeconfig(tmp_path / "good.conf", cluster, f"    token: {token}",
                            cluster_extra="    tls-server-name: kubernetes.default.svc")
    assert incluster.Client.from_kubeconfig(good).get(CMS)["kind"] == "ConfigMapList"
    # The name given is the name checked: one the certificate does not hold fails.
    bad = write_kubeconfig(tmp_path / "bad.conf", cluster, f"    token: {token}",
                           cluster_extra="    tls-server-name: not-the-apiserver.example")
    with pytest.raises(incluster.TlsError, match="not-the-apiserver.example"):
        incluster.Client.from_kubeconfig(bad).get(CMS)


def test_kubeconfig_list_order_matters(
    cluster: Cluster, tmp_path: Path, off_cluster: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = write_kubeconfig(tmp_path / "a.conf", cluster, f"    token: {cluster.mint_token()}")
    bad = write_kubeconfig(tmp_path / "b.conf", cluster, "    token: not-a-valid-token",
                           namespace="other")
    monkeypatch.setenv("KUBECONFIG", f"{good}:{bad}")
    kube = incluster.Client()
    assert kube.namespace == NAMESPACE and kube.get(CMS)["kind"] == "ConfigMapList"
    monkeypatch.setenv("KUBECONFIG", f"{bad}:{good}")
    kube = incluster.Client()
    assert kube.namespace == "other"
    with pytest.raises(incluster.Unauthorized):
        kube.get(CMS)


PY_PROGRAM = """
import incluster
kube = incluster.Client()
print("source", kube.source["type"])
print("configmaps", kube.get(f"/api/v1/namespaces/{kube.namespace}/configmaps")["kind"])
"""


@pytest.fixture(scope="module")
def discover_c(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("c") / "discover"
    subprocess.run(
        ["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", f"-I{ROOT / 'include'}",
         str(ROOT / "tests" / "e2e" / "c" / "discover.c"), f"-L{TARGET}",
         f"-Wl,-rpath,{TARGET}", "-lincluster", "-o", str(out)],
        check=True,
    )
    return out


@pytest.fixture
def homes(cluster: Cluster, tmp_path: Path) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    """The environments of the same programs in the simulated pod and off-cluster (no pod
    variables, HOME with ~/.kube/config holding a ServiceAccount token)."""
    home = tmp_path / "home"
    write_kubeconfig(home / ".kube" / "config", cluster, f"    token: {cluster.mint_token()}")
    in_pod = dict(os.environ, HOME=str(home))
    in_pod.pop("KUBECONFIG", None)
    off = {k: v for k, v in in_pod.items() if k not in POD_ENV}
    yield in_pod, off


def test_same_programs_in_the_pod_and_off_cluster(
    homes: tuple[dict[str, str], dict[str, str]], discover_c: Path, cli: Path
) -> None:
    for env, source in zip(homes, ("in-cluster", "kubeconfig")):
        py = run([sys.executable, "-c", PY_PROGRAM], env=env)
        assert py.returncode == 0, py.stderr
        assert py.stdout == f"source {source}\nconfigmaps ConfigMapList\n"
        c = run([discover_c], env=env)
        assert c.returncode == 0, c.stderr
        assert f'"type":"{source}"' in c.stdout and "configmaps 200" in c.stdout, c.stdout
        info = run([cli, "info", "--pointer", "/source/type"], env=env)
        assert (info.returncode, info.stdout.strip()) == (0, source), info.stderr
        get = run([cli, "get", CMS, "-o", "name"], env=env)
        assert get.returncode == 0, get.stderr


def test_bad_kubeconfigs_from_every_front(
    cluster: Cluster, cli: Path, discover_c: Path, tmp_path: Path, off_cluster: Path
) -> None:
    token = cluster.mint_token()
    failing = tmp_path / "fails"
    failing.write_text(f"#!/bin/sh\necho {token}\necho 'session expired' >&2\nexit 2\n")
    failing.chmod(0o755)
    cases = {
        "missing context": (write_kubeconfig(tmp_path / "ctx.conf", cluster,
                                             f"    token: {token}").read_text()
                            .replace("current-context: main", "current-context: gone"),
                            'context "gone" is not in kubeconfig'),
        "failing plugin": (write_kubeconfig(tmp_path / "x.conf", cluster, (
            "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n"
            f"      command: {failing}")).read_text(), "session expired"),
    }
    for name, (text, message) in cases.items():
        p = tmp_path / "case.conf"
        p.write_text(text)
        env = dict(os.environ, KUBECONFIG=str(p))
        py = run([sys.executable, "-c", PY_PROGRAM], env=env)
        c = run([discover_c], env=env)
        cl = run([cli, "get", CMS], env=env)
        assert "ConfigError" in py.stderr and message in py.stderr, (name, py.stderr)
        assert c.returncode == 1 and message in c.stderr, (name, c.stderr)
        assert cl.returncode == 3 and message in cl.stderr, (name, cl.stderr)
        for out in (py, c, cl):
            assert token not in out.stdout + out.stderr

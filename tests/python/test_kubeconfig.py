"""Kubeconfig from Python: Client.from_kubeconfig, discovery outside a pod, Client.source,
tokenFile rotation, exec plugins (run once, re-run on 401, never twice at once) and every bad
kubeconfig as a ConfigError naming it, never the secret."""

from __future__ import annotations

import stat
import threading
import warnings
from pathlib import Path
from typing import Optional

import pytest

import incluster
from conftest import TOKEN, SaDir, Server

PLUGIN_ANSWER = (
    '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",'
    '"status":{"token":"%s"}}'
)


def kubeconfig(
    d: Path, name: str, server: Server, user: str, ctx: str = "dev", ca: Optional[str] = None
) -> Path:
    """A kubeconfig for `server` with one context `ctx`; the CA by a path relative to it."""
    d.mkdir(parents=True, exist_ok=True)
    (d / "ca.crt").write_bytes(server.ca.read_bytes())
    trust = ca if ca is not None else "certificate-authority: ca.crt"
    text = f"""apiVersion: v1
kind: Config
current-context: {ctx}
clusters:
- name: test
  cluster:
    server: {server.url}
    {trust}
contexts:
- name: {ctx}
  context: {{cluster: test, user: {ctx}-user, namespace: {ctx}-ns}}
users:
- name: {ctx}-user
  user:
{user}
"""
    p = d / name
    p.write_text(text)
    return p


def script(d: Path, name: str, body: str) -> Path:
    p = d / name
    p.write_text(f"#!/bin/sh\n{body}\n")
    p.chmod(p.stat().st_mode | stat.S_IXUSR)
    return p


def exec_user(command: str) -> str:
    return (
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
        f"      command: {command}\n      interactiveMode: Never"
    )


def off_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    for k in ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"):
        monkeypatch.delenv(k, raising=False)


def test_from_kubeconfig_and_source(server: Server, tmp_path: Path) -> None:
    p = kubeconfig(tmp_path, "config", server, f"    token: {TOKEN}")
    kube = incluster.Client.from_kubeconfig(p)
    assert kube.get("/version")["gitVersion"]
    assert kube.namespace == "dev-ns"
    assert kube.source == {"type": "kubeconfig", "files": [str(p)], "context": "dev"}
    assert incluster.Client.from_kubeconfig(str(p), context="dev").namespace == "dev-ns"
    assert TOKEN not in repr(kube)


def test_discovery_pod_first_then_home_kubeconfig(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pod: SaDir
) -> None:
    home = tmp_path / "home"
    kubeconfig(home / ".kube", "config", server, f"    token: {TOKEN}")
    monkeypatch.setenv("HOME", str(home))
    # The same program: in the simulated pod the pod's ServiceAccount...
    assert incluster.Client().source == {"type": "in-cluster"}
    assert incluster.Client().get("/version")["gitVersion"]
    # ...and off-cluster ~/.kube/config, with no code change.
    off_cluster(monkeypatch)
    kube = incluster.Client()
    assert kube.source["type"] == "kubeconfig"
    assert kube.get("/version")["gitVersion"]
    assert kube.namespace == "dev-ns"
    # Explicit server settings say so.
    explicit = incluster.Client(server=server.url, ca_file=str(server.ca), token=TOKEN)
    assert explicit.source == {"type": "explicit"}


def test_no_pod_and_no_kubeconfig_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    off_cluster(monkeypatch)
    with pytest.raises(incluster.ConfigError, match="no kubeconfig"):
        incluster.Client()
    with pytest.raises(incluster.ConfigError, match="no kubeconfig"):
        incluster.Client.from_kubeconfig()


def test_kubeconfig_list_first_file_wins(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    off_cluster(monkeypatch)
    good = kubeconfig(tmp_path, "good", server, f"    token: {TOKEN}")
    bad = kubeconfig(tmp_path, "bad", server, "    token: wrong-token")
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'missing'}:{good}:{bad}")
    assert incluster.Client().get("/version")["gitVersion"]
    assert incluster.Client.from_kubeconfig().source["files"] == [str(good), str(bad)]
    monkeypatch.setenv("KUBECONFIG", f"{bad}:{good}")
    with pytest.raises(incluster.Unauthorized):
        incluster.Client().get("/version")


def test_token_file_is_reread_when_it_rotates(server: Server, tmp_path: Path) -> None:
    (tmp_path / "token").write_text(TOKEN)
    kube = incluster.Client.from_kubeconfig(
        kubeconfig(tmp_path, "config", server, "    tokenFile: token")
    )
    assert kube.get("/version")["gitVersion"]
    server.set_tokens(["tok-rotated-SECRET"])
    (tmp_path / "token").write_text("tok-rotated-SECRET")
    assert kube.get("/version")["gitVersion"]


def test_exec_plugin_runs_once_and_again_only_after_a_401(server: Server, tmp_path: Path) -> None:
    (tmp_path / "current").write_text(TOKEN)
    runs = tmp_path / "runs"
    answer = PLUGIN_ANSWER % "$(cat current)"
    script(
        tmp_path,
        "plugin.sh",
        f'cd "$(dirname "$0")"; echo run >> runs; sleep 0.2; echo "{answer.replace(chr(34), chr(92) + chr(34))}"',
    )
    kube = incluster.Client.from_kubeconfig(
        kubeconfig(tmp_path, "config", server, exec_user("./plugin.sh"))
    )
    errors: list[BaseException] = []

    def get() -> None:
        try:
            kube.get("/version")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=get) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for _ in range(5):
        kube.get("/version")
    assert runs.read_text().count("run") == 1, "once for 8 concurrent callers and 5 more requests"
    # The server stops accepting the token: the 401 runs the plugin once more.
    server.set_tokens(["tok-next-SECRET"])
    (tmp_path / "current").write_text("tok-next-SECRET")
    assert kube.get("/version")["gitVersion"]
    kube.get("/version")
    assert runs.read_text().count("run") == 2


def test_insecure_kubeconfig_warns(server: Server, tmp_path: Path) -> None:
    p = kubeconfig(
        tmp_path, "config", server, f"    token: {TOKEN}", ca="insecure-skip-tls-verify: true"
    )
    with pytest.warns(UserWarning, match="insecure-skip-tls-verify"):
        kube = incluster.Client.from_kubeconfig(p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert kube.get("/version")["gitVersion"]


BAD = [
    ("absent", None, "does not exist"),
    ("context", None, 'context "nope" is not in kubeconfig'),
    ("malformed", None, "at line"),
    ("ghost", None, 'user "ghost"'),
    ("authprovider", "    auth-provider: {name: gcp}", 'auth-provider "gcp"'),
    ("basic", "    username: a\n    password: tok-pw-SECRET", "basic authentication"),
    ("missing", exec_user("no-such-plugin-xyz"), "was not found"),
    ("fails", exec_user("./fails.sh"), "token expired: log in again"),
    ("hangs", exec_user("./hangs.sh"), "did not answer within 1s"),
    ("garbage", exec_user("./garbage.sh"), "not an ExecCredential"),
    ("always", exec_user("./x.sh").replace("Never", "Always"), "needs a terminal"),
]


@pytest.mark.parametrize("name,user,message", BAD, ids=[b[0] for b in BAD])
def test_every_bad_kubeconfig_is_a_config_error(
    server: Server, tmp_path: Path, name: str, user: Optional[str], message: str
) -> None:
    script(tmp_path, "fails.sh", f"echo {TOKEN}; echo 'token expired: log in again' >&2; exit 1")
    script(tmp_path, "hangs.sh", "exec sleep 30")
    script(tmp_path, "garbage.sh", f"echo 'garbage {TOKEN}'")
    good = kubeconfig(tmp_path, "good", server, f"    token: {TOKEN}")
    context = None
    if name == "absent":
        path = tmp_path / "absent"
    elif name == "context":
        path, context = good, "nope"
    elif name == "malformed":
        path = tmp_path / "malformed"
        path.write_text(f"users:\n- name: u\n  user:\n    token: {TOKEN}\n  - [\n")
    elif name == "ghost":
        path = tmp_path / "ghost"
        path.write_text(good.read_text().replace("user: dev-user", "user: ghost"))
    else:
        assert user is not None
        path = kubeconfig(tmp_path, name, server, user)
    with pytest.raises(incluster.ConfigError) as info:
        # An exec plugin runs at the first request and gets the request timeout.
        incluster.Client.from_kubeconfig(path, context=context, timeout=1).get("/version")
    text = str(info.value) + repr(info.value) + repr(info.value.args)
    assert message in text, text
    assert TOKEN not in text and "tok-pw-SECRET" not in text


def test_discovered_kubeconfig_takes_the_client_options(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    off_cluster(monkeypatch)
    script(tmp_path, "hangs.sh", "exec sleep 30")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig(tmp_path, "c", server, exec_user("./hangs.sh"))))
    kube = incluster.Client(timeout=1, namespace="mine")
    assert kube.namespace == "mine"
    with pytest.raises(incluster.ConfigError, match="did not answer within 1s"):
        kube.get("/version")
